import { readFileSync } from "node:fs";

declare const SLIMENV_VERSION: string | undefined;

/** The package version; inlined by the bundler, read from package.json when run from source. */
export function slimenvVersion(): string {
  if (typeof SLIMENV_VERSION === "string") return SLIMENV_VERSION;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
