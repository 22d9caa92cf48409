// Public names of src/slim/bytecode: bytecode modes: the .pyc compiler and .pyc files as derived store objects.

export type { CompileJob, FindCompilerOptions, PycCompiler } from "./compile.ts";
export { findPycCompiler, pycCompiler } from "./compile.ts";
export { PYC_FORMAT, pycTransformId } from "./derive.ts";
