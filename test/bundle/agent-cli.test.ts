/**
 * The agent's command line: its plain reader (_parse_plain, which spares every run argparse's
 * start-up) must read each form it accepts exactly as argparse does, under every CPython from
 * 3.8 to 3.13, and must accept the usual forms (else the fast path would never run). Anything
 * it declines goes to argparse.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AGENT, pythons } from "./agent-helpers.ts";

const supported = [...pythons()].filter(
  ([v]) => Number(v.split(".")[1]) >= 8 && Number(v.split(".")[1]) <= 13,
);

/** Command lines the plain reader must accept. */
const USUAL: string[][] = [
  ["apply", "a.bundle"],
  ["--root", "/var/lib/x", "--key", "k.pub", "apply", "a.bundle"],
  ["--root", "/r", "--key", "a.pub", "--key", "b.pub", "--json", "apply", "x"],
  ["apply", "x", "--root", "/r", "--json", "--key", "k"],
  ["--json", "status"],
  ["status", "--json"],
  ["--root", "/r", "update", "--repo", "https://h/r", "--app", "a", "--channel", "stable"],
  ["update", "--channel", "c", "--app", "a", "--repo", "file:///x", "--keep", "3"],
  ["--keep", "1", "--allow-downgrade", "apply", "b"],
  ["rollback", "myapp"],
  ["rollback", "gc"],
  ["gc"],
  ["--root", "/a", "gc", "--root", "/b"],
  ["verify", "--json"],
  ["mount"],
];

/** Command lines it must leave to argparse (errors, abbreviations, help, other spellings). */
const OTHER: string[][] = [
  [],
  ["frobnicate"],
  ["rollback"],
  ["apply"],
  ["apply", "a", "b"],
  ["--help"],
  ["apply", "--help"],
  ["--version"],
  ["--ro", "/r", "apply", "x"],
  ["--root=/r", "apply", "x"],
  ["--root"],
  ["--root", "-x", "apply", "b"],
  ["--keep", "0", "apply", "b"],
  ["--keep", "x", "apply", "b"],
  ["--keep", "\u00b2", "gc"],
  ["--keep", "1".repeat(20), "gc"],
  ["update", "--repo", "r", "--app", "a"],
  ["--repo", "r", "update", "--app", "a", "--channel", "c"],
  ["--key", "a", "apply", "x", "--key", "b"],
  ["apply", "--", "x"],
  ["apply", "-"],
];

const SCRIPT = `
import contextlib, io, json, runpy, sys
g = runpy.run_path(sys.argv[1], run_name="slimenv_agent")
out = []
for argv in json.loads(sys.stdin.read()):
    plain = g["_parse_plain"](argv)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            full = vars(g["parse_args_full"](argv))
    except SystemExit as e:
        full = "exit %s" % e.code
    out.append([None if plain is None else vars(plain), full])
print(json.dumps(out))
`;

const WHICH = `
import json, os, runpy, shutil, sys, tempfile
g = runpy.run_path(sys.argv[1], run_name="slimenv_agent")
d = tempfile.mkdtemp()
exe = os.path.join(d, "tool")
with open(exe, "w") as f:
    f.write("#!/bin/sh\\n")
os.chmod(exe, 0o755)
os.chdir(d)
out = {}
for name, path in [("found", d), ("empty PATH", ""), ("empty entries", ":" + os.pathsep),
                   ("later entry", "/nonexistent" + os.pathsep + d)]:
    os.environ["PATH"] = path
    out[name] = [g["which"]("tool"), shutil.which("tool")]
out["a path"] = [g["which"]("./tool"), shutil.which("./tool")]
out["not executable"] = [g["which"]("nothing-here"), None]
os.remove(exe)
os.rmdir(d)
print(json.dumps({"dir": d, "out": out}))
`;

describe("the agent's command line", () => {
  it("has CPython 3.8 to 3.13 to run under", () => {
    expect(supported.length).toBeGreaterThanOrEqual(process.env.CI === "true" ? 6 : 1);
  });

  it.each(supported)("reads every form as argparse does, under CPython %s", (_v, exe) => {
    const r = spawnSync(exe, ["-I", "-S", "-c", SCRIPT, AGENT], {
      input: JSON.stringify([...USUAL, ...OTHER]),
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as [Record<string, unknown> | null, unknown][];
    USUAL.forEach((argv, i) => {
      const [plain, full] = got[i] as [Record<string, unknown> | null, unknown];
      expect(plain, argv.join(" ")).not.toBeNull();
      expect(plain, argv.join(" ")).toEqual(full);
    });
    OTHER.forEach((argv, i) => {
      const [plain] = got[USUAL.length + i] as [unknown, unknown];
      expect(plain, argv.join(" ")).toBeNull();
    });
  });

  it.each(supported)(
    "finds executables on PATH, never in the current folder (CPython %s)",
    (_v, exe) => {
      const r = spawnSync(exe, ["-I", "-S", "-c", WHICH, AGENT], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const { dir, out } = JSON.parse(r.stdout) as { dir: string; out: Record<string, unknown[]> };
      expect(out.found?.[0]).toBe(`${dir}/tool`);
      expect(out["later entry"]?.[0]).toBe(`${dir}/tool`);
      // an empty PATH or empty entries would mean the current folder to a shell: not here
      expect(out["empty PATH"]?.[0]).toBeNull();
      expect(out["empty entries"]?.[0]).toBeNull();
      expect(out["a path"]?.[0]).toBe("./tool");
      expect(out["not executable"]?.[0]).toBeNull();
    },
  );
});
