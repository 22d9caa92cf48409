/**
 * install --slim --keep-used-by keeps what kept native files need (DT_NEEDED through
 * RUNPATH/RPATH, `$ORIGIN` expanded), whatever the traced run happened to open: when two
 * packages bundle a library with the same soname, the loader reuses the first copy for the
 * second package, so the second copy is never opened in the run; it must stay all the same.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import type { InstallRequest } from "../../src/env/install.ts";
import { resolveSettings } from "../../src/settings/load.ts";
import { installSlim } from "../../src/slim/install-slim.ts";
import { slimPolicy } from "../../src/slim/policy.ts";
import { runCommandIn } from "../../src/slim/usage/tracer.ts";
import { interpreter } from "../env/env-fixtures.ts";
import { describeWith, GCC, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import { TWIN_SONAME, twinWheels } from "./elf-fixtures.ts";
import { filesUnder } from "./policy-fixtures.ts";

const PYTHON = pyenv("3.11", "3.12");
const PY = PYTHON.exe;

/** Imports pkga first: pkgb's extension then reuses pkga's libtwin.so.1 (same soname). */
const USE_AB = "import pkga, pkgb\nprint(pkga.value(), pkgb.value())\n";

describeWith(PYTHON, GCC)("install --slim --keep-used-by: ELF dependencies", () => {
  let root: string;
  let wheelFiles: string[];
  let n = 0;

  beforeAll(async () => {
    root = tempDir("slimenv-usage-elf-");
    const dir = path.join(root, "wheels");
    mkdirSync(dir);
    wheelFiles = twinWheels(await interpreter(PY as string)).map((w) => {
      const file = path.join(dir, w.filename);
      writeFileSync(file, w.bytes);
      return file;
    });
    writeFileSync(path.join(root, "use_ab.py"), USE_AB);
  });

  function request(envDir: string): InstallRequest {
    return {
      cwd: root,
      env: { ...process.env, PATH: `${path.dirname(PY as string)}:/usr/bin:/bin` },
      settings: resolveSettings({ flags: {}, env: {}, noConfig: true }),
      selection: { kind: "interpreter", request: PY as string },
      layout: { kind: "prefix", dir: envDir },
      inputs: { requirementFiles: [], requirements: [], wheels: wheelFiles },
      noDeps: true,
      userAgent: "slimenv-tests",
      storeRoot: path.join(root, "store"),
      httpCacheDir: null,
    };
  }

  function siteFiles(dir: string): string[] {
    const marker = "site-packages/pkga/__init__.py";
    const found = filesUnder(dir).find((f) => f.endsWith(marker));
    if (found === undefined) throw new Error(`no pkga in ${dir}`);
    return filesUnder(path.join(dir, found.slice(0, -"pkga/__init__.py".length)));
  }

  it("keeps the copy the run never opened, and what it needs; importing pkgb first works", async () => {
    const dir = path.join(root, `env${n++}`);
    const result = await installSlim(request(dir), {
      policy: slimPolicy({ preset: "edge" }),
      keepUsedBy: "python use_ab.py",
    });
    const run = (command: string) =>
      runCommandIn(dir, result.manifest, command, { env: request(dir).env, cwd: root });
    const usage = result.usage;
    expect(usage?.reason).toBeUndefined();
    expect(usage?.kept).toBe(true);
    // A fresh interpreter importing pkgb first loads pkgb's own copy, and libdeep through it.
    const b = await run("python -c 'import pkgb; print(pkgb.value())'");
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe("22\n");
    const files = siteFiles(dir);
    // Pruning did prune: what nothing opened or needs is gone.
    expect(files).not.toContain("pkgb/unused.py");
    expect(files).not.toContain("pkga.libs/libunused.so.1");
    // The run opened pkga's copy only; pkgb's copy and its own dependency are kept back.
    expect(files).toContain(`pkga.libs/${TWIN_SONAME}`);
    expect(files).toContain(`pkgb.libs/${TWIN_SONAME}`);
    expect(files).toContain("pkgb.libs/libdeep.so.1");
    expect(usage?.dependencyFiles).toBe(2);
    expect(result.policy.used).toContain(`pkgb.libs/${TWIN_SONAME}`);
    // libc and friends are the system's: reported, not looked for in the env.
    expect(usage?.systemLibraries).toContain("libc.so.6");
    expect(usage?.systemLibraries).not.toContain(TWIN_SONAME);
    // The traced order still gives its output (pkgb runs pkga's copy: the loader reuses it).
    const ab = await run("python use_ab.py");
    expect(ab.stderr).toBe("");
    expect(ab.stdout).toBe("1 1\n");
  }, 120_000);
});
