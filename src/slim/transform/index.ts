// Public names of src/slim/transform: the slim transform applied at materialization.

export type { PackageSlimSummary, SlimSummary } from "./summary.ts";
export type { SlimTransformOptions } from "./transform.ts";
export { policyId, slimTransform } from "./transform.ts";
