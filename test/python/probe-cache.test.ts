/**
 * Probing one interpreter: the cache (hit, miss, stale, corrupt, wrappers) in a temp
 * SLIMENV_HOME, and every way a file can fail to be a usable Python.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSlimenvError, RecordingReporter } from "../../src/base/index.ts";
import { probeInterpreter, runProbe } from "../../src/python/probe.ts";
import { probeCacheFile } from "../../src/python/probe-cache.ts";
import { pyenvPythons } from "./pythons.ts";

const python = pyenvPythons().at(-1);
let tmp: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "slimenv-probe-cache-"));
  env = { ...process.env, SLIMENV_HOME: path.join(tmp, "home") };
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function script(name: string, body: string, mode = 0o755): string {
  const file = path.join(tmp, name);
  writeFileSync(file, body);
  chmodSync(file, mode);
  return file;
}

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; hint?: string; detail?: string }> {
  try {
    await p;
  } catch (err) {
    if (isSlimenvError(err)) return err as never;
    throw err;
  }
  throw new Error("expected a SlimenvError");
}

describe("probe cache", () => {
  it("needs a real interpreter", () => {
    expect(python, "no CPython 3.6–3.13 under pyenv").toBeDefined();
  });

  it("misses, then hits without running the interpreter", async () => {
    const exe = python?.exe ?? "";
    const first = new RecordingReporter();
    const a = await probeInterpreter(exe, { env, reporter: first });
    expect(first.messages("debug").some((m) => m.startsWith("probe cache miss"))).toBe(true);
    expect(first.messages("debug").some((m) => m.startsWith("probing "))).toBe(true);
    const file = probeCacheFile(a.realExecutable, env);
    expect(file.startsWith(path.join(tmp, "home", "probes"))).toBe(true);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored.key.realpath).toBe(a.realExecutable);
    expect(stored.probe).toEqual(a);
    expect(readdirSync(path.dirname(file)).filter((n) => n.endsWith(".tmp"))).toEqual([]);

    const second = new RecordingReporter();
    const b = await probeInterpreter(exe, { env, reporter: second });
    expect(b).toEqual(a);
    expect(second.messages("debug").some((m) => m.startsWith("probe cache hit"))).toBe(true);
    expect(second.messages("debug").some((m) => m.startsWith("probing "))).toBe(false);

    // What is returned on a hit really comes from the file.
    stored.probe.versionString = "from the cache";
    writeFileSync(file, JSON.stringify(stored));
    expect((await probeInterpreter(exe, { env })).versionString).toBe("from the cache");
  });

  it("ignores and rewrites a corrupt or stale cache file", async () => {
    const exe = python?.exe ?? "";
    const probe = await probeInterpreter(exe, { env });
    const file = probeCacheFile(probe.realExecutable, env);
    for (const bad of [
      "{not json",
      "null",
      JSON.stringify({ key: {}, probe: { probeVersion: 1 } }),
      "",
    ]) {
      writeFileSync(file, bad);
      const rec = new RecordingReporter();
      const again = await probeInterpreter(exe, { env, reporter: rec });
      expect(again.version).toEqual(probe.version);
      expect(rec.messages("debug").some((m) => m.startsWith("ignoring corrupt probe cache"))).toBe(
        true,
      );
      expect(JSON.parse(readFileSync(file, "utf8")).probe.version).toEqual(probe.version);
    }
    const stored = JSON.parse(readFileSync(file, "utf8"));
    stored.key.mtimeMs -= 1000;
    stored.probe.versionString = "stale";
    writeFileSync(file, JSON.stringify(stored));
    const rec = new RecordingReporter();
    const fresh = await probeInterpreter(exe, { env, reporter: rec });
    expect(fresh.versionString).not.toBe("stale");
    expect(rec.messages("debug").some((m) => m.includes("is stale"))).toBe(true);
  });

  it("does not use the cache when told not to", async () => {
    const rec = new RecordingReporter();
    await probeInterpreter(python?.exe ?? "", { env, reporter: rec, cache: false });
    expect(rec.messages("debug").some((m) => m.startsWith("probing "))).toBe(true);
    expect(rec.messages("debug").some((m) => m.startsWith("probe cache"))).toBe(false);
  });

  it("always runs a wrapper script and caches the interpreter it started", async () => {
    const exe = python?.exe ?? "";
    const otherHome = { ...env, SLIMENV_HOME: path.join(tmp, "home-wrapper") };
    const wrapper = script("wrapper-python", `#!/bin/sh\nexec "${exe}" "$@"\n`);
    for (let i = 0; i < 2; i++) {
      const rec = new RecordingReporter();
      const probe = await probeInterpreter(wrapper, { env: otherHome, reporter: rec });
      expect(probe.realExecutable).not.toBe(wrapper);
      expect(rec.messages("debug").some((m) => m === `probing ${wrapper}`)).toBe(true);
    }
    const real = (await probeInterpreter(exe, { env: otherHome })).realExecutable;
    const rec = new RecordingReporter();
    await probeInterpreter(real, { env: otherHome, reporter: rec });
    expect(rec.messages("debug").some((m) => m.startsWith("probe cache hit"))).toBe(true);
  });

  it("survives an unwritable cache folder", async () => {
    const blocked = path.join(tmp, "blocked");
    writeFileSync(blocked, "a file where a folder should be");
    const rec = new RecordingReporter();
    const probe = await probeInterpreter(python?.exe ?? "", {
      env: { ...env, SLIMENV_HOME: blocked },
      reporter: rec,
    });
    expect(probe.version[0]).toBe(3);
    expect(rec.messages("warn").some((m) => m.startsWith("cannot write the probe cache"))).toBe(
      true,
    );
  });
});

describe("probe failures", () => {
  it("a missing path is INTERPRETER_NOT_FOUND", async () => {
    const err = await failure(probeInterpreter(path.join(tmp, "nope", "python3"), { env }));
    expect(err.code).toBe("INTERPRETER_NOT_FOUND");
    expect(err.message).toMatch(/no interpreter at .*nope\/python3: no such file/);
    expect(err.hint).toMatch(/--python/);
  });

  it("a folder is not an interpreter", async () => {
    const dir = path.join(tmp, "a-folder");
    mkdirSync(dir, { recursive: true });
    const err = await failure(probeInterpreter(dir, { env }));
    expect(err.code).toBe("INTERPRETER_PROBE_FAILED");
    expect(err.message).toMatch(/is not a file/);
  });

  it("a non-Python executable fails clearly", async () => {
    const fake = script("not-python", "#!/bin/sh\necho 'I am not Python' >&2\nexit 3\n");
    const err = await failure(probeInterpreter(fake, { env }));
    expect(err.code).toBe("INTERPRETER_PROBE_FAILED");
    expect(err.message).toMatch(
      /is not a working Python interpreter \(probe exited with status 3\)/,
    );
    expect(err.detail).toContain("I am not Python");
    const quiet = script("quiet", "#!/bin/sh\nexit 0\n");
    const err2 = await failure(probeInterpreter(quiet, { env }));
    expect(err2.message).toMatch(/no probe output/);
  });

  it("a file that cannot be run fails clearly", async () => {
    const noexec = script("noexec-python", "#!/bin/sh\nexit 0\n", 0o644);
    const err = await failure(probeInterpreter(noexec, { env }));
    expect(err.code).toBe("INTERPRETER_PROBE_FAILED");
    expect(err.message).toMatch(/cannot run .*noexec-python: EACCES/);
  });

  it("broken or incomplete probe output fails clearly", async () => {
    const broken = script("broken", "#!/bin/sh\necho '@@SLIMENV-PROBE@@{oops'\n");
    expect((await failure(runProbe(broken, { env }))).message).toMatch(/broken probe result/);
    const partial = script("partial", `#!/bin/sh\necho '@@SLIMENV-PROBE@@{"probeVersion": 1}'\n`);
    expect((await failure(runProbe(partial, { env }))).message).toMatch(/incomplete probe result/);
  });

  it("an interpreter too old for -I is named with its version", async () => {
    const old = script(
      "old-python",
      '#!/bin/sh\nif [ "$1" = "-I" ]; then echo "Unknown option: -I" >&2; exit 2; fi\nprintf "Python 2.7.18"\n',
    );
    const err = await failure(probeInterpreter(old, { env }));
    expect(err.code).toBe("INTERPRETER_PROBE_FAILED");
    expect(err.message).toMatch(/is Python 2\.7\.18; slimenv needs Python 3\.6 or newer/);
  });

  it("a hanging executable times out", async () => {
    const slow = script("slow", "#!/bin/sh\nexec sleep 10\n");
    const err = await failure(probeInterpreter(slow, { env, timeoutMs: 300 }));
    expect(err.code).toBe("INTERPRETER_PROBE_FAILED");
    expect(err.message).toMatch(/did not finish probing in time/);
  });
});
