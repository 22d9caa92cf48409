// Public names of src/python: finding interpreters, probing them, and targets.

export type { InterpreterSource } from "./candidates.ts";
export { pathCandidates, pyenvCandidates, pyenvRoot } from "./candidates.ts";
export type {
  Discovery,
  DiscoveryFailure,
  DiscoveryOptions,
  FoundInterpreter,
  InterpreterList,
} from "./discover.ts";
export {
  discoverInterpreters,
  findInterpreter,
  firstInterpreter,
  listInterpreters,
  selectInterpreter,
} from "./discover.ts";
export { parseGlibcVersion, parseMuslVersion } from "./libc.ts";
export type { ProbeOptions } from "./probe.ts";
export { probeInterpreter, runProbe } from "./probe.ts";
export { PROBE_SCRIPT_VERSION } from "./probe-script.ts";
export type { InterpreterProbe, ProbeElf, ProbeScheme } from "./probe-types.ts";
export { isProbe, isSupportedProbe, MIN_PYTHON } from "./probe-types.ts";
export type { PythonRequest, RequestedImplementation } from "./request.ts";
export { describeRequest, parsePythonRequest, REQUEST_HINT, requestMatches } from "./request.ts";
export type { ResolvedTarget, TargetSelection } from "./resolve-target.ts";
export { resolveTarget } from "./resolve-target.ts";
export type { Target } from "./target.ts";
export { targetFromProbe } from "./target.ts";
export type { ParsedPythonVersion, TargetSpec } from "./target-spec.ts";
export { cpythonPycMagic, parsePythonVersionSpec, targetFromSpec } from "./target-spec.ts";
