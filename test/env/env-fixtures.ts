/**
 * Shared fixtures for the env tests: real interpreters, their probes and targets, a set of
 * generated wheels covering the wheel spec (entry points, `.data` scripts/data/headers, a C
 * extension compiled with gcc, a `.pth`-reliant package, a namespace package over two
 * distributions), and a helper to run commands.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { probeInterpreter } from "../../src/python/probe.ts";
import type { InterpreterProbe } from "../../src/python/probe-types.ts";
import { type Target, targetFromProbe } from "../../src/python/target.ts";
import type { StoredWheel } from "../../src/store/types.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";
import { type BuiltWheel, buildWheel } from "../helpers/wheels.ts";
import type { FakeStore } from "./fake-store.ts";

export { pyenvPython } from "../helpers/prereq.ts";

export interface Interp {
  exe: string;
  probe: InterpreterProbe;
  target: Target;
  /** PATH with only the interpreter's dir and the system dirs. */
  path: string;
}

export async function interpreter(exe: string): Promise<Interp> {
  const probe = await probeInterpreter(exe, { cache: false });
  return {
    exe,
    probe,
    target: targetFromProbe(probe),
    path: `${path.dirname(exe)}:/usr/bin:/bin`,
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command with exactly `env` (no inherited variables). */
export function run(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd?: string,
): RunResult {
  const res = spawnSync(command, args, {
    env: { HOME: process.env.HOME ?? "/root", ...env },
    encoding: "utf8",
    timeout: 30_000,
    ...(cwd === undefined ? {} : { cwd }),
  });
  if (res.error !== undefined) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

export function tempDir(prefix: string): string {
  return cleanedTempDir(`slimenv-env-${prefix}-`);
}

const C_SOURCE = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
  long a, b;
  if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
  return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add two ints"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
`;

/** A platlib wheel `cext` with a C extension compiled by gcc for `interp`. */
export function cextWheel(interp: Interp): BuiltWheel {
  const include = interp.probe.schemes.prefix.paths?.include;
  const suffix = interp.probe.configVars.EXT_SUFFIX;
  if (include === undefined || suffix === null) throw new Error("probe lacks include/EXT_SUFFIX");
  const dir = tempDir("cext");
  const src = path.join(dir, "speed.c");
  const out = path.join(dir, `_speed${suffix}`);
  writeFileSync(src, C_SOURCE);
  const res = spawnSync("gcc", ["-shared", "-fPIC", "-O0", `-I${include}`, src, "-o", out], {
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`gcc failed: ${res.stderr}`);
  const [major, minor] = interp.probe.version;
  const tag = `cp${major}${minor}`;
  return buildWheel({
    name: "cext",
    version: "1.0",
    tags: `${tag}-${tag}-${interp.target.platforms.at(-1) ?? "linux_x86_64"}`,
    purelib: false,
    files: {
      "cext/__init__.py": "from cext._speed import add\n",
      [`cext/_speed${suffix}`]: new Uint8Array(readFileSync(out)),
    },
  });
}

/** The pure-Python wheels every layout test installs. */
export function pureWheels(version = "1.0"): BuiltWheel[] {
  const alpha = buildWheel({
    name: "alpha",
    version,
    files: {
      "alpha/__init__.py": [
        "import sys",
        `__version__ = "${version}"`,
        "def main():",
        '    print("alpha-main", sys.argv[0].rsplit("/", 1)[-1], sys.argv[1:])',
        "    return 3",
        "class Tool:",
        "    @staticmethod",
        "    def run():",
        '        print("tool-run")',
        "        return 0",
        "",
      ].join("\n"),
      "alpha/gui.py": 'def main():\n    print("alpha-gui")\n',
      [`alpha-${version}.data/scripts/alpha-tool`]:
        '#!python\nimport sys\nimport alpha\nprint("tool", alpha.__version__, sys.argv[1:])\nsys.exit(5)\n',
      [`alpha-${version}.data/scripts/plain.sh`]: "#!/bin/sh\necho plain-sh\n",
      [`alpha-${version}.data/data/share/alpha/data.txt`]: `alpha data ${version}\n`,
      [`alpha-${version}.data/headers/alpha.h`]: "#define ALPHA 1\n",
    },
    executable: [`alpha-${version}.data/scripts/plain.sh`],
    entryPoints: [
      "[console_scripts]",
      "alpha-cli = alpha:main",
      "alpha-cls = alpha:Tool.run",
      "[gui_scripts]",
      "alpha-gui = alpha.gui:main",
      "",
    ].join("\n"),
  });
  const pthpkg = buildWheel({
    name: "pthpkg",
    version: "1.0",
    files: {
      "pthpkg.pth": "pthpkg_extra\nimport pthpkg_boot\n",
      "pthpkg_boot.py": "import sys\nsys.pthpkg_booted = True\n",
      "pthpkg_extra/hidden_mod.py": 'WHERE = "extra"\n',
    },
  });
  const nsOne = buildWheel({
    name: "ns-one",
    version: "1.0",
    files: { "nsp/one/__init__.py": 'NAME = "one"\n' },
  });
  const nsTwo = buildWheel({
    name: "ns-two",
    version: "2.0",
    files: { "nsp/two/__init__.py": 'NAME = "two"\n' },
  });
  return [alpha, pthpkg, nsOne, nsTwo];
}

export async function importAll(store: FakeStore, wheels: BuiltWheel[]): Promise<StoredWheel[]> {
  const out: StoredWheel[] = [];
  for (const w of wheels) out.push(await store.importWheel(w));
  return out;
}

/** The Python check every full env passes: imports, .pth effects, C extension, metadata. */
export const CHECK_SCRIPT = [
  "import sys, importlib.metadata as md",
  "import alpha, nsp.one, nsp.two, hidden_mod",
  "assert getattr(sys, 'pthpkg_booted', False), 'pth import line did not run'",
  "assert hidden_mod.WHERE == 'extra'",
  "assert nsp.one.NAME == 'one' and nsp.two.NAME == 'two'",
  "import cext",
  "assert cext.add(2, 3) == 5",
  "vs = {n: md.version(n) for n in ['alpha', 'pthpkg', 'ns-one', 'ns-two', 'cext']}",
  "print(sorted(vs.items()))",
  "print(md.distribution('alpha').read_text('INSTALLER').strip())",
  "print(sorted(e.name for e in md.distribution('alpha').entry_points))",
  "print(alpha.__file__)",
].join("\n");

export const CHECK_EXPECTED_VERSIONS =
  "[('alpha', '1.0'), ('cext', '1.0'), ('ns-one', '1.0'), ('ns-two', '2.0'), ('pthpkg', '1.0')]";

export function writeText(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
