/**
 * One sdist-only package from PyPI, end to end: crcmod (a C extension, `_crcfunext`, with a
 * pure-Python fallback that `crcmod.crcmod._usingExtension` tells apart). The bench first checks on
 * PyPI's JSON API that the current release has no wheel this machine could install, then
 * builds it with slimenv (`--build-flags size`, then `default`) and with pip
 * (`pip wheel --no-binary :all:`, the reference), and compares sizes, build times, one
 * program's output and crcmod's own tests. Writes the `build-sdist` section of
 * docs/benchmarks.md. Run through bench/build.ts (BENCH_ONLY=sdist for this part alone).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { DIR, KiB, PY, pct, py, slimenv } from "./build-common.ts";
import { writeSection } from "./report.ts";

const PACKAGE = "crcmod";

const PROGRAM = `
import crcmod, crcmod.predefined
from crcmod.crcmod import _usingExtension
print("C extension:", _usingExtension)
data = bytes(range(256)) * 4096
for name in ["crc-32", "crc-32c", "crc-16", "crc-ccitt-false", "crc-64", "x-25"]:
    f = crcmod.predefined.mkCrcFun(name)
    print(name, hex(f(b"123456789")), hex(f(data)))
c = crcmod.Crc(0x104C11DB7, initCrc=0, xorOut=0xFFFFFFFF)
c.update(b"slimenv")
print("custom:", c.hexdigest())
`;

interface PypiFile {
  filename: string;
  packagetype: string;
}

/** The current release's files on PyPI; fails if one of them is a wheel for this machine. */
async function currentRelease(): Promise<{ version: string; files: string[] }> {
  const res = await fetch(`https://pypi.org/pypi/${PACKAGE}/json`);
  if (!res.ok) throw new Error(`PyPI JSON API: HTTP ${res.status}`);
  const doc = (await res.json()) as { info: { version: string }; urls: PypiFile[] };
  const files = doc.urls.map((u) => u.filename);
  const usable = files.filter(
    (f) => f.endsWith(".whl") && (/-none-any\.whl$/.test(f) || /linux.*x86_64/.test(f)),
  );
  if (usable.length > 0) throw new Error(`${PACKAGE} has wheels now: ${usable.join(", ")}`);
  if (!doc.urls.some((u) => u.packagetype === "sdist")) throw new Error("no sdist");
  return { version: doc.info.version, files };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const started = performance.now();
  const res = spawnSync(cmd, args, { encoding: "utf8", env, cwd: DIR });
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${res.stderr}`);
  return { seconds, out: `${res.stdout}${res.stderr}` };
}

/** Bytes of a folder's files (apparent, bytecode caches left out) and of its extension. */
function folderSize(dir: string): { apparent: number; native: number } {
  let apparent = 0;
  let native = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    if (name.split(path.sep).includes("__pycache__")) continue;
    const st = statSync(path.join(dir, name));
    if (!st.isFile()) continue;
    apparent += st.size;
    if (name.endsWith(".so")) native += st.size;
  }
  return { apparent, native };
}

function envPackageDir(env: string): string {
  const lib = path.join(env, "lib");
  const pyDir = readdirSync(lib).find((d) => d.startsWith("python3"));
  return path.join(lib, pyDir ?? "", "site-packages", PACKAGE);
}

function testsLine(out: string): string {
  const ran = /Ran (\d+) tests?/.exec(out)?.[1];
  const ok = /\nOK\s*$/.test(out.trimEnd()) || /\nOK\b/.test(out);
  return ran === undefined ? "did not run" : `${ran} ${ok ? "passed" : "FAILED"}`;
}

export async function benchSdistOnly(): Promise<void> {
  const release = await currentRelease();
  const pin = `${PACKAGE}==${release.version}`;
  // The reference: pip builds the same sdist in its own isolated build env.
  const pipWheels = path.join(DIR, "pip-wheels");
  const pipTarget = path.join(DIR, "pip-target");
  rmSync(pipWheels, { recursive: true, force: true });
  rmSync(pipTarget, { recursive: true, force: true });
  const pipBuild = run(PY, [
    "-m",
    "pip",
    "wheel",
    "--no-binary",
    ":all:",
    "--no-deps",
    "--no-cache-dir",
    "-q",
    pin,
    "-w",
    pipWheels,
  ]);
  const wheel = readdirSync(pipWheels).find((f) => f.startsWith(`${PACKAGE}-`));
  run(PY, [
    "-m",
    "pip",
    "install",
    "--no-deps",
    "-q",
    "--target",
    pipTarget,
    path.join(pipWheels, wheel ?? ""),
  ]);
  const pipEnv = { ...process.env, PYTHONPATH: pipTarget };
  const outPip = run(PY, ["-c", PROGRAM], pipEnv).out;
  if (!outPip.includes("C extension: True"))
    throw new Error(`pip's build has no C extension:\n${outPip}`);
  const testsPip = testsLine(run(PY, ["-m", "crcmod.test"], pipEnv).out);
  const pipSize = folderSize(path.join(pipTarget, PACKAGE));

  // A cold store of its own, as pip's --no-cache-dir: each row downloads and builds.
  const home = path.join(DIR, "home-sdist");
  rmSync(home, { recursive: true, force: true });
  const rows: string[] = [];
  for (const flags of ["size", "default"]) {
    const env = path.join(DIR, `env-${PACKAGE}-${flags}`);
    rmSync(env, { recursive: true, force: true });
    const r = slimenv(
      ["install", pin, "--python", PY, "--prefix", env, "--build-flags", flags],
      home,
    );
    const manifest = JSON.parse(readFileSync(path.join(env, ".slimenv", "manifest.json"), "utf8"));
    const rec = manifest.built?.find((b: { name: string }) => b.name === PACKAGE);
    const how = rec?.compiled === false ? "the wheel was in the store" : "built";
    const files = folderSize(envPackageDir(env));
    const out = py(env, ["-c", PROGRAM]).out;
    const tests = testsLine(py(env, ["-m", "crcmod.test"]).out);
    rows.push(
      `| slimenv \`--build-flags ${flags}\` | ${KiB(files.native)} (${pct(files.native, pipSize.native)}) | ${KiB(files.apparent)} | ${r.seconds.toFixed(1)} s (${how}) | ${out === outPip ? "identical" : "DIFFERENT"} | ${tests} |`,
    );
  }
  const md = `
## Build from source: an sdist-only package from PyPI (${PACKAGE})

\`npm run bench:build\` (Python ${PY}). ${PACKAGE} ${release.version} is on PyPI as
${release.files.map((f) => `\`${f}\``).join(", ")} — no wheel for Linux (checked through PyPI's
JSON API at each run): every install on Linux builds it. Its C extension \`_crcfunext\` is used
when it compiles (\`crcmod.crcmod._usingExtension\`, printed by the program); slimenv builds it in an
isolated PEP 517 build env (setuptools' legacy backend, as pip does) and installs from the
store. The reference is pip's own build of the same sdist (\`pip wheel --no-binary :all:\`,
installed with \`pip install --target\`).

| built by | \`_crcfunext\` .so | ${PACKAGE}/ files (no \`__pycache__\`) | time | program output | crcmod's tests (\`python -m crcmod.test\`) |
| --- | ---: | ---: | ---: | --- | --- |
| pip (\`pip wheel --no-binary :all:\`) | ${KiB(pipSize.native)} | ${KiB(pipSize.apparent)} | ${pipBuild.seconds.toFixed(1)} s (\`pip wheel\` alone) | reference | ${testsPip} |
${rows.join("\n")}

A slimenv time is the whole \`slimenv install\` from a cold store of its own: locking, the build
env (setuptools from PyPI into the store, then from the store for the second row), the build and
the install; each row builds (other flags, another store key). The
program prints \`C extension: True\` in every row (the bench fails otherwise for pip's build;
"identical" covers the others).
`;
  writeSection("build-sdist", md);
  process.stdout.write(md);
}
