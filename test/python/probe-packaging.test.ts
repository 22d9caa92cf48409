/**
 * Differential: for every CPython 3.6–3.13 under pyenv, the tags slimenv computes from its
 * probe equal packaging.tags.sys_tags() run inside that interpreter, in order, and the
 * marker environment equals packaging.markers.default_environment(). A spec describing the
 * same interpreter gives the same tags and markers (less platform_release/platform_version).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeInterpreter } from "../../src/python/probe.ts";
import type { InterpreterProbe } from "../../src/python/probe-types.ts";
import type { Target } from "../../src/python/target.ts";
import { targetFromProbe } from "../../src/python/target.ts";
import { cpythonPycMagic, targetFromSpec } from "../../src/python/target-spec.ts";
import { sysTags } from "../../src/standards/tags.ts";
import { packagingFor, runPythonJson } from "../helpers/packaging.ts";
import { fewerPythonsAllowed, pyenvPythons, requireAllPythons } from "./pythons.ts";

const SCRIPT = `
import json, sys
import packaging
from packaging import tags
try:
    from packaging.markers import default_environment
    source = "packaging " + packaging.__version__
except ImportError:
    # packaging 21.3 on Python 3.6 is installed without pyparsing; pip vendors both.
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging import __version__ as vendored
    source = "pip._vendor.packaging " + vendored
print(json.dumps({
    "packaging": packaging.__version__,
    "markersFrom": source,
    "tags": [str(t) for t in tags.sys_tags()],
    "markers": default_environment(),
}))
`;

interface PackagingView {
  packaging: string;
  markersFrom: string;
  tags: string[];
  markers: Record<string, string>;
}

/**
 * The packaging each interpreter gets is the newest that supports it: 21.3 on 3.6, 24.0 on
 * 3.7, 26.2 on 3.8, 26.3+ on 3.9 and newer. slimenv gives the newest order; for older
 * packaging the same facts are laid out in that release's order and compared exactly.
 * packaging before 26.3 put native linux_* platforms after manylinux/musllinux (its issue 160).
 */
function orderBefore263(platforms: string[]): string[] {
  const linux = platforms.filter((p) => p.startsWith("linux_"));
  return [...platforms.filter((p) => !p.startsWith("linux_")), ...linux];
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

const pythons = pyenvPythons();
let home: string;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), "slimenv-probe-diff-"));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("probe vs pypa/packaging on real interpreters", () => {
  it("has every CPython 3.6–3.13 it should test", () => {
    requireAllPythons(pythons);
    expect(pythons.length).toBeGreaterThan(0);
  });

  const results = new Map<
    string,
    { probe: InterpreterProbe; target: Target; pkg: PackagingView }
  >();

  for (const py of pythons) {
    describe(`CPython ${py.name}`, () => {
      let probe: InterpreterProbe;
      let target: Target;
      let pkg: PackagingView;

      beforeAll(async () => {
        probe = await probeInterpreter(py.exe, { env: { ...process.env, SLIMENV_HOME: home } });
        target = targetFromProbe(probe);
        pkg = runPythonJson<PackagingView>(packagingFor(py.exe), SCRIPT, null);
        results.set(py.name, { probe, target, pkg });
      });

      it("reports the interpreter's own version", () => {
        expect(probe.version.join(".")).toBe(py.name);
        expect(target.pythonVersion).toEqual(probe.version);
        expect(target.source).toBe("probe");
      });

      it("tags equal packaging.tags.sys_tags(), in order", () => {
        expect(pkg.tags.length).toBeGreaterThan(100);
        if (atLeast(pkg.packaging, 26, 3)) {
          expect(target.tags).toEqual(pkg.tags);
        } else {
          // Same facts, the older packaging's platform order; before 22.0 sys_tags also
          // left out cpXY-none-any (compatible_tags got no interpreter).
          const cpNoneAny = `cp3${py.minor}-none-any`;
          const keep = (t: string) => atLeast(pkg.packaging, 22, 0) || t !== cpNoneAny;
          const older = sysTags({
            implementation: target.implementation,
            pythonVersion: [target.pythonVersion[0], target.pythonVersion[1]],
            abis: target.abis,
            platforms: orderBefore263(target.platforms),
          })
            .map(String)
            .filter(keep);
          expect(older).toEqual(pkg.tags);
          expect(target.tags.filter(keep).sort()).toEqual([...pkg.tags].sort());
        }
      });

      it("marker environment equals packaging.markers.default_environment()", () => {
        expect(target.markerEnvironment).toEqual(pkg.markers);
        expect(probe.markerEnvironment).toEqual(pkg.markers);
      });

      it("pyc magic matches the table used for spec targets", () => {
        expect(target.pycMagic).toMatch(/^[0-9a-f]{4}0d0a$/);
        expect(cpythonPycMagic(3, py.minor)).toBe(target.pycMagic);
        expect(probe.cacheTag).toBe(`cpython-3${py.minor}`);
      });

      it("a spec describing this interpreter gives the same tags and markers", () => {
        expect(target.libc?.kind).toBe("glibc");
        const glibc = target.libc?.version.join("_") ?? "";
        const spec = targetFromSpec({
          pythonVersion: probe.version.join("."),
          platform: `manylinux_${glibc}_${target.arch}`,
        });
        expect(spec.tags).toEqual(target.tags);
        expect(spec.abis).toEqual(target.abis);
        expect(spec.platforms).toEqual(target.platforms);
        expect(spec.os).toBe(target.os);
        expect(spec.arch).toBe(target.arch);
        expect(spec.libc).toEqual(target.libc);
        expect(spec.pycMagic).toBe(target.pycMagic);
        const strip = (m: Record<string, string>) => {
          const { platform_release: _r, platform_version: _v, ...rest } = m;
          return rest;
        };
        expect(strip({ ...spec.markerEnvironment })).toEqual(
          strip({ ...target.markerEnvironment }),
        );
        expect(spec.markerEnvironment.platform_release).toBe("");
        expect(spec.markerEnvironment.platform_version).toBe("");
        expect(spec.source).toBe("spec");
      });

      it("reports schemes with placeholders and the stdlib", () => {
        const prefix = probe.schemes.prefix;
        expect(prefix.error).toBeNull();
        expect(prefix.template?.purelib).toMatch(/^\{base\}\/lib\/python3\.\d+\/site-packages$/);
        expect(prefix.template?.platlib).toMatch(/^\{platbase\}\//);
        expect(prefix.paths?.purelib).toBe(
          prefix.template?.purelib?.replace("{base}", probe.prefix),
        );
        expect(probe.schemes.user.template?.purelib).toMatch(/^\{userbase\}\//);
        expect(probe.schemes.venv.name).toBe(py.minor >= 11 ? "venv" : "posix_prefix");
        expect(probe.stdlib).toBe(path.join(probe.basePrefix, "lib", `python3.${py.minor}`));
        expect(probe.realExecutable).toMatch(new RegExp(`python3\\.${py.minor}$`));
      });
    });
  }

  it("the newest packaging is among those compared exactly", () => {
    const exact = [...results.values()].filter((r) => atLeast(r.pkg.packaging, 26, 3));
    if (!fewerPythonsAllowed()) {
      expect(exact.length).toBeGreaterThanOrEqual(5);
    }
  });
});
