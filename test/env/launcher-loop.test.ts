import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prefixPythonLauncher } from "../../src/env/launchers.ts";
import { tempDir } from "./env-fixtures.ts";

const root = tempDir("loop");
afterAll(() => rmSync(root, { recursive: true, force: true }));

function executable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

describe("launcher loop guard", () => {
  it("stops a shim that execs this environment's own launcher instead of looping", () => {
    // The situation seen with pyenv: the launcher looks past its own bin on PATH and finds a
    // shim; the shim resolves the same name back to the environment's launcher, by exec.
    const bin = path.join(root, "env", "bin");
    const shims = path.join(root, "shims");
    mkdirSync(bin, { recursive: true });
    mkdirSync(shims, { recursive: true });
    executable(path.join(bin, "python3.99"), prefixPythonLauncher("python3.99"));
    executable(
      path.join(shims, "python3.99"),
      `#!/bin/sh\nexec env PATH="${bin}:$PATH" python3.99 "$@"\n`,
    );
    const res = spawnSync(path.join(bin, "python3.99"), ["-c", "pass"], {
      env: { PATH: `${bin}:${shims}:/usr/bin:/bin` },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(res.error).toBeUndefined(); // not killed by the time-out
    expect(res.status).toBe(127);
    expect(res.stderr).toContain("leads back to this environment's launcher");
  });

  it("lets a program in the environment start the launcher again as a child", () => {
    const bin = path.join(root, "env2", "bin");
    mkdirSync(bin, { recursive: true });
    executable(path.join(bin, "python"), prefixPythonLauncher("python3"));
    // The inner run is a child process (another PID) with the guard variable inherited.
    const res = spawnSync(
      path.join(bin, "python"),
      [
        "-c",
        `import subprocess,sys; sys.exit(subprocess.call([${JSON.stringify(path.join(bin, "python"))}, "-c", "raise SystemExit(5)"]))`,
      ],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, encoding: "utf8", timeout: 20_000 },
    );
    expect(res.stderr).toBe("");
    expect(res.status).toBe(5);
  });
});
