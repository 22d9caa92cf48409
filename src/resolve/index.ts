export { resolve } from "./resolve.ts";
export type {
  Candidate,
  Dependencies,
  PrereleaseMode,
  Resolution,
  ResolutionStrategy,
  ResolvedPackage,
  ResolveOptions,
  ResolverProvider,
} from "./types.ts";
