/**
 * The build key's toolchain part: the compilers (`$CC`/`$CXX --version`) and the system
 * libraries `--use-system-libs` links (`pkg-config --modversion`), read from the real tools.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { buildTransform } from "../../src/build/build-folder.ts";
import { toolchainOf } from "../../src/build/toolchain.ts";
import { targetFromSpec } from "../../src/python/target-spec.ts";
import { command, describeWith, GCC, itWith } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";

const PKG_CONFIG = command("pkg-config", "pkg-config");

describeWith(GCC)("the toolchain in the build key", () => {
  const env = { PATH: "/usr/bin:/bin" };

  it("names each compiler by its --version line; a missing one is none", () => {
    const real = spawnSync("gcc", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
    const t = toolchainOf("demo", false, { ...env, CC: "gcc", CXX: "no-such-compiler-xyz" });
    expect(t.compilers.gcc).toBe(real);
    expect(t.compilers.gcc).toMatch(/\d+\.\d+/);
    expect(t.compilers["no-such-compiler-xyz"]).toBe("none");
    expect(t.systemLibs).toEqual({});
    // Unset: the commands the backends fall back to.
    expect(Object.keys(toolchainOf("demo", false, env).compilers)).toEqual(["cc", "c++"]);
    // A command line with arguments runs as words, not as one file name.
    expect(toolchainOf("demo", false, { ...env, CC: "gcc -m64" }).compilers["gcc -m64"]).toBe(real);
  });

  it("another compiler (another --version) is another build key", () => {
    const dir = tempDir("slimenv-cc-");
    const other = path.join(dir, "cc-next");
    writeFileSync(
      other,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "cc-next (test) 99.1"; exit 0; fi\nexec gcc "$@"\n',
    );
    chmodSync(other, 0o755);
    const a = toolchainOf("demo", false, { ...env, CC: "gcc" });
    const b = toolchainOf("demo", false, { ...env, CC: other });
    expect(b.compilers[other]).toBe("cc-next (test) 99.1");
    const base = {
      target: targetFromSpec({ pythonVersion: "3.12", platform: "manylinux_2_28_x86_64" }),
      flags: "size" as const,
      configSettings: {},
      env: {},
      buildEnv: "e1",
      isolation: true,
      backend: "b",
    };
    const ka = buildTransform({ ...base, toolchain: a });
    expect(buildTransform({ ...base, toolchain: a })).toBe(ka);
    expect(buildTransform({ ...base, toolchain: b })).not.toBe(ka);
    const libs = { ...a, systemLibs: { openblas: "0.3.21" } };
    const libsNext = { ...a, systemLibs: { openblas: "0.3.26" } };
    expect(buildTransform({ ...base, toolchain: libs })).not.toBe(
      buildTransform({ ...base, toolchain: libsNext }),
    );
  });

  itWith(PKG_CONFIG)(
    "reads the system libraries' versions with pkg-config, only for --use-system-libs",
    () => {
      const pc = (version: string) => {
        const dir = tempDir("slimenv-pc-");
        writeFileSync(
          path.join(dir, "openblas.pc"),
          `Name: openblas\nDescription: test\nVersion: ${version}\nLibs: -lopenblas\n`,
        );
        return { ...env, PKG_CONFIG_LIBDIR: dir, PKG_CONFIG_PATH: dir };
      };
      expect(toolchainOf("numpy", true, pc("0.3.21")).systemLibs).toEqual({ openblas: "0.3.21" });
      expect(toolchainOf("numpy", true, pc("0.3.26")).systemLibs).toEqual({ openblas: "0.3.26" });
      expect(toolchainOf("numpy", false, pc("0.3.21")).systemLibs).toEqual({});
      expect(toolchainOf("demo", true, pc("0.3.21")).systemLibs).toEqual({});
      // No such module where pkg-config looks: none (the build then fails on its own).
      const empty = tempDir("slimenv-pc-");
      expect(
        toolchainOf("numpy", true, { ...env, PKG_CONFIG_LIBDIR: empty, PKG_CONFIG_PATH: empty })
          .systemLibs,
      ).toEqual({ openblas: "none" });
    },
  );
});
