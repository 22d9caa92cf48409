/**
 * The interpreter that import-checks a spec target of this machine's platform: found on PATH,
 * and past a pyenv shim (which runs a command only while a selected version has it) in pyenv's
 * own versions.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { EnvManifest } from "../../src/env/types.ts";
import { candidatePython } from "../../src/slim/check/slim-checker.ts";
import { hostArch } from "../../src/slim/strip/tool.ts";
import { itWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";

const PY312 = pyenv("3.12");

function specManifest(command: string, arch = hostArch()): EnvManifest {
  return {
    interpreterCommand: command,
    target: { source: "spec", os: "linux", arch },
  } as unknown as EnvManifest;
}

/** A pyenv root whose shim for python3.12 fails as pyenv's does when no selected version has it. */
function fakePyenv(withVersion: string | undefined): { root: string; env: NodeJS.ProcessEnv } {
  const root = tempDir("slimenv-fake-pyenv-");
  mkdirSync(path.join(root, "shims"));
  const shim = path.join(root, "shims", "python3.12");
  writeFileSync(shim, "#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n");
  chmodSync(shim, 0o755);
  if (withVersion !== undefined) {
    mkdirSync(path.join(root, "versions", "3.12.1", "bin"), { recursive: true });
    symlinkSync(withVersion, path.join(root, "versions", "3.12.1", "bin", "python3.12"));
  }
  return { root, env: { PATH: path.join(root, "shims"), PYENV_ROOT: root, HOME: root } };
}

describe("candidatePython", () => {
  itWith(PY312)("looks past a pyenv shim into pyenv's versions", () => {
    const { root, env } = fakePyenv(PY312.exe);
    expect(candidatePython(specManifest("python3.12"), env)).toBe(
      path.join(root, "versions", "3.12.1", "bin", "python3.12"),
    );
  });

  it("keeps the shim when no pyenv version has the command, and a plain PATH entry as found", () => {
    const { root, env } = fakePyenv(undefined);
    expect(candidatePython(specManifest("python3.12"), env)).toBe(
      path.join(root, "shims", "python3.12"),
    );
    const plain = tempDir("slimenv-plain-path-");
    writeFileSync(path.join(plain, "python3.12"), "#!/bin/sh\n");
    chmodSync(path.join(plain, "python3.12"), 0o755);
    expect(candidatePython(specManifest("python3.12"), { ...env, PATH: plain })).toBe(
      path.join(plain, "python3.12"),
    );
  });

  it("gives no interpreter for another CPU", () => {
    const other = hostArch() === "x86_64" ? "aarch64" : "x86_64";
    expect(candidatePython(specManifest("python3.12", other), process.env)).toBeUndefined();
  });
});
