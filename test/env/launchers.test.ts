import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  entryPointBody,
  prefixPythonLauncher,
  pythonScript,
  rewritePythonShebang,
  shellWord,
  targetPythonLauncher,
} from "../../src/env/launchers.ts";
import { materialize } from "../../src/env/materialize.ts";
import { runInEnv } from "../../src/env/run.ts";
import { schemePaths } from "../../src/env/scheme.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { thrown } from "../helpers/errors.ts";
import { condition, describeWith, itWith, pyenv } from "../helpers/prereq.ts";
import { buildWheel } from "../helpers/wheels.ts";
import { importAll, interpreter, run, tempDir } from "./env-fixtures.ts";
import { FakeStore } from "./fake-store.ts";

const PYTHON312 = pyenv("3.12");
/** Debian's own python3.11, whose sysconfig defaults to the posix_local scheme. */
const DEBIAN_PY311 = condition(
  "Debian's /usr/bin/python3.11",
  existsSync("/usr/bin/python3.11"),
  "install it with `apt-get install -y python3.11`",
);
const PY312 = PYTHON312.exe;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);

describe("#!python rewriting", () => {
  it("rewrites #!python, #!pythonw and #!python3, keeping simple options", () => {
    for (const first of ["#!python", "#!pythonw", "#!python3", "#!python\r"]) {
      const out = dec(rewritePythonShebang(enc(`${first}\nprint(1)\n`)));
      expect(out).toMatch(/^#!\/bin\/sh\n'''':\n/);
      expect(out).toContain('exec "$here/python" "$0" "$@"\n');
      expect(out?.endsWith("'''\nprint(1)\n")).toBe(true);
    }
    expect(dec(rewritePythonShebang(enc("#!python -u -O\nx\n")))).toContain(
      'exec "$here/python" -u -O "$0" "$@"',
    );
    // Options it cannot carry safely are dropped.
    expect(dec(rewritePythonShebang(enc("#!python -c 'evil'\nx\n")))).toContain(
      'exec "$here/python" "$0" "$@"',
    );
  });

  it("leaves other files alone", () => {
    for (const text of [
      "#!/bin/sh\necho\n",
      "#!/usr/bin/env python\n",
      "print(1)\n",
      "",
      "#!pyth",
    ]) {
      expect(rewritePythonShebang(enc(text))).toBeUndefined();
    }
    expect(rewritePythonShebang(enc("#!python"))).toBeDefined();
  });

  it("quotes sh words", () => {
    expect(shellWord("python3.12")).toBe("python3.12");
    expect(shellWord("/opt/my python/bin/python")).toBe("'/opt/my python/bin/python'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
  });
});

describeWith(PYTHON312)("generated launchers are valid sh and Python", () => {
  it("compiles scripts as Python and parses launchers as sh (scripts are read by sh line by line)", () => {
    const dir = tempDir("syntax");
    const script = path.join(dir, "script.py");
    writeFileSync(script, pythonScript(entryPointBody("x", "pkg.mod", "Cls.method")));
    const py = run(
      PY312 as string,
      [
        "-W",
        "error",
        "-c",
        `import pathlib; compile(pathlib.Path(${JSON.stringify(script)}).read_text(), 'x', 'exec')`,
      ],
      {},
    );
    expect(py.stderr).toBe("");
    expect(py.status).toBe(0);
    for (const text of [
      prefixPythonLauncher("python3.12"),
      targetPythonLauncher("/opt/py thon/bin/python3"),
    ]) {
      const file = path.join(dir, "launcher.sh");
      writeFileSync(file, text);
      expect(run("/bin/sh", ["-n", file], { PATH: "/usr/bin:/bin" }).status).toBe(0);
    }
    expect(entryPointBody("x", "pkg.mod", "Cls.method")).toContain("from pkg.mod import Cls\n");
    expect(entryPointBody("x", "pkg.mod", "Cls.method")).toContain("sys.exit(Cls.method())");
  });
});

describe("scheme paths", () => {
  it("spec-only targets get the POSIX defaults; Windows is refused", () => {
    const t = targetFromSpec({ pythonVersion: "3.12", platform: "manylinux_2_28_aarch64" });
    expect(schemePaths("prefix", t)).toEqual({
      purelib: "lib/python3.12/site-packages",
      platlib: "lib/python3.12/site-packages",
      scripts: "bin",
      headers: "include/python3.12",
      data: "",
    });
    expect(schemePaths("target", t)).toEqual({
      purelib: "",
      platlib: "",
      scripts: "bin",
      headers: "include",
      data: "",
    });
    const ft = targetFromSpec({ pythonVersion: "3.13t", platform: "manylinux_2_28_x86_64" });
    expect(schemePaths("prefix", ft).purelib).toBe("lib/python3.13t/site-packages");
    const win = targetFromSpec({ pythonVersion: "3.12", platform: "win_amd64" });
    const err = thrown(() => schemePaths("prefix", win));
    expect(err.code).toBe("INVALID_TARGET");
    expect(err.message).toContain("Windows");
  });

  itWith(DEBIAN_PY311)(
    "a distro python with a posix_local default still gets a user-base layout",
    async () => {
      const py = await interpreter("/usr/bin/python3.11");
      const paths = schemePaths("prefix", py.target, py.probe);
      expect(paths.purelib).toBe("lib/python3.11/site-packages");
      expect(paths.scripts).toBe("bin");
      expect(paths.data).toBe("");
    },
  );
});

describeWith(PYTHON312)("cross-target prefix and runInEnv", () => {
  it("a spec-only target builds the default layout and runs on a matching interpreter", async () => {
    const py = await interpreter(PY312 as string);
    const store = new FakeStore();
    const wheels = await importAll(store, [
      buildWheel({
        name: "gamma",
        version: "0.3",
        files: { "gamma/__init__.py": "import sys\ndef main():\n    return int(sys.argv[1])\n" },
        entryPoints: "[console_scripts]\ngamma = gamma:main\n",
      }),
    ]);
    const target = targetFromSpec({ pythonVersion: "3.12", platform: "manylinux_2_28_aarch64" });
    const dir = path.join(tempDir("cross"), "env");
    const manifest = await materialize(store, {
      layout: { kind: "prefix", dir },
      target,
      wheels,
      requested: ["gamma"],
      linkMode: "copy",
    });
    expect(manifest.target.source).toBe("spec");
    expect(manifest.interpreter).toBeUndefined();
    const env = { PATH: py.path };
    expect(run(path.join(dir, "bin", "gamma"), ["42"], env).status).toBe(42);
    expect(await runInEnv(dir, ["gamma", "7"], { env, stdio: "ignore" })).toBe(7);
    expect(await runInEnv(dir, ["sh", "-c", "kill -TERM $$"], { env, stdio: "ignore" })).toBe(
      128 + 15,
    );
    const notEnv = tempDir("notenv");
    await expect(runInEnv(notEnv, ["true"], { env })).rejects.toMatchObject({
      code: "INVALID_ENV",
    });
    await expect(runInEnv(dir, [], { env })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(runInEnv(dir, ["no-such-command-x"], { env })).rejects.toMatchObject({
      code: "IO_ERROR",
    });
  });
});
