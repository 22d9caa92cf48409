// The slimenv library: everything a program can use without the command line.

export * from "./base/index.ts";
export * from "./bundle/index.ts";
export * from "./elf/index.ts";
export * from "./env/index.ts";
export * from "./index/index.ts";
export * from "./python/index.ts";
export * from "./report/index.ts";
export * from "./resolve/index.ts";
export * from "./runtime/index.ts";
export * from "./settings/index.ts";
export * from "./slim/index.ts";
export * from "./standards/index.ts";
export * from "./store/index.ts";
