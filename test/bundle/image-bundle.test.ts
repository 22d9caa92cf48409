/**
 * `slimenv bundle --image squashfs|erofs` (src/bundle/pack.ts, wire.ts): the bundle carries
 * the image of the env's tree as a stored `image.<format>` member named in bundle.json, its
 * payload carries no object, the tree still names every file; the same env gives the same
 * bytes. Refused: --image with --from, an image bundle as --from, a bad format, an image
 * bundle with objects, a tampered image; publish makes no delta to an image bundle.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { readEnvTree } from "../../src/bundle/from-env.ts";
import { formatPublicKey, generateSigningKey, writeKeyPair } from "../../src/bundle/keys.ts";
import { packEnv } from "../../src/bundle/pack.ts";
import { publishBundle } from "../../src/bundle/publish.ts";
import { readBundle, writeBundle } from "../../src/bundle/wire.ts";
import { cliInProcess } from "../helpers/cli.ts";
import { describeWith, itWith, LOOP_MOUNT, MKFS_EROFS, MKSQUASHFS } from "../helpers/prereq.ts";
import { appEnv, binDir, runAgent } from "./agent-helpers.ts";
import { expectSameTree, extract, imageWorld, PY311, TIME, walk } from "./image-fixtures.ts";

const key = generateSigningKey();

describeWith(
  PY311,
  MKSQUASHFS,
  MKFS_EROFS,
)("slimenv bundle --image", () => {
  const w = imageWorld();
  const pack = async (format: string, extra: Record<string, unknown> = {}) =>
    packEnv(await w.env("hardlink"), {
      app: "demo",
      version: "1.0",
      key,
      storeRoot: w.store(),
      env: w.sde,
      image: { format, compression: format === "squashfs" ? "gzip" : "lz4" },
      ...extra,
    });

  for (const format of ["squashfs", "erofs"] as const) {
    it(`${format}: the image member holds the tree; no objects; reproducible`, async () => {
      const r = await pack(format);
      const c = await readBundle(r.bytes, [key.publicKey]);
      expect(c.manifest.image).toMatchObject({ format, size: r.image?.size });
      expect(c.manifest.objects).toEqual([]);
      expect(c.objects.size).toBe(0);
      expect(c.image).not.toBeNull();
      const tree = await readEnvTree(await w.env("hardlink"), { storeRoot: w.store() });
      expect(c.manifest.files.map((f) => f.sha256)).toEqual(tree.files.map((f) => f.sha256));
      const file = path.join(w.cwd(), `member.${format}`);
      writeFileSync(file, c.image as Uint8Array);
      expectSameTree(walk(extract(file, format, path.join(w.cwd(), `out-${format}`))), tree);
      expect(Buffer.from((await pack(format)).bytes).equals(Buffer.from(r.bytes))).toBe(true);
    });
  }

  itWith(LOOP_MOUNT)(
    "the agent mounts what `bundle --image` made; CPython 3.11 imports from it",
    async () => {
      const r = await pack("squashfs");
      expect(r.manifest.agent).not.toBeNull();
      const file = path.join(w.cwd(), "e2e.bundle");
      writeFileSync(file, r.bytes);
      const pub = path.join(w.cwd(), "e2e.pub");
      writeFileSync(pub, formatPublicKey(key.publicKey));
      const root = path.join(w.cwd(), "device");
      const bin = binDir(w.cwd());
      try {
        const a = await runAgent(["--root", root, "--key", pub, "--json", "apply", file], {
          pathDir: bin,
        });
        expect(a.status, a.stderr).toBe(0);
        expect(JSON.parse(a.stdout).image).toEqual({ mounted: true, why: "" });
        const gen = path.join(root, "apps/demo/gens", String(r.manifest.sequence));
        expect(readFileSync("/proc/self/mounts", "utf8")).toContain(` ${gen} squashfs ro,`);
        const py = spawnSync(
          path.join(root, "apps/demo/current/bin/python"),
          ["-c", "import demo; print(demo.__file__)"],
          {
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/bin:/bin` },
          },
        );
        // imported from the mount (current -> gens/SEQ)
        expect(realpathSync(py.stdout.trim() || "/nonexistent"), py.stderr).toBe(
          path.join(gen, "lib/python3.11/site-packages/demo/__init__.py"),
        );
      } finally {
        spawnSync("umount", ["-l", path.join(root, "apps/demo/gens", String(r.manifest.sequence))]);
      }
    },
  );

  it("refusals: --from, a bad format, objects beside an image, a tampered image", async () => {
    const r = await pack("squashfs");
    const old = path.join(w.cwd(), "old.bundle");
    writeFileSync(old, r.bytes);
    await expect(pack("squashfs", { from: [old], sequence: TIME + 1 })).rejects.toThrow(
      /--image with --from/,
    );
    await expect(pack("ext4")).rejects.toThrow(/not an image format/);
    // an image bundle cannot be the old state of a plain delta
    await expect(
      packEnv(await w.env("hardlink"), {
        app: "demo",
        version: "2",
        key,
        storeRoot: w.store(),
        env: w.sde,
        sequence: TIME + 1,
        from: [old],
      }),
    ).rejects.toThrow(/an image bundle/);
    const { draft, objects } = appEnv({ sequence: 5 });
    const image = { format: "squashfs" as const, data: new Uint8Array(16) };
    expect(() => writeBundle({ manifest: draft, objects, image }, key)).toThrow(
      /carries no objects/,
    );
    const bytes = new Uint8Array(r.bytes);
    const at = Buffer.from(bytes).indexOf("image.squashfs") + 100;
    bytes[at] = (bytes[at] as number) ^ 1;
    await expect(readBundle(bytes, [key.publicKey])).rejects.toThrow(/image|CRC/);
  });

  it("publish: no delta to an image bundle", async () => {
    const repo = path.join(w.cwd(), "repo");
    mkdirSync(repo, { recursive: true });
    const plain = await packEnv(await w.env("hardlink"), {
      app: "demo",
      version: "1",
      key,
      storeRoot: w.store(),
      env: w.sde,
    });
    await publishBundle(plain.bytes, { repo, channel: "stable", key });
    const img = await pack("squashfs", { sequence: TIME + 5 });
    const p = await publishBundle(img.bytes, { repo, channel: "stable", key });
    expect(p.deltas).toEqual([]);
    expect(p.index.full.size).toBe(img.bytes.length);
  });

  it("on the command line: --image, --image-compression, usage errors", async () => {
    const dir = await w.env("hardlink");
    writeKeyPair(generateSigningKey(), path.join(w.cwd(), "fleet"));
    const vars = { ...w.sde, NO_COLOR: "1", SLIMENV_HOME: path.join(w.cwd(), "home") };
    const args = [
      "bundle",
      dir,
      "--app",
      "demo",
      "--app-version",
      "1",
      "--key",
      path.join(w.cwd(), "fleet.key"),
    ];
    const ok = await cliInProcess(
      [
        "--json",
        ...args,
        "-o",
        path.join(w.cwd(), "img.bundle"),
        "--image",
        "erofs",
        "--image-compression",
        "lz4",
      ],
      { cwd: w.cwd(), env: vars },
    );
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const summary = JSON.parse(ok.stdout) as {
      image: { spec: { format: string } };
      objects: number;
    };
    expect(summary.image.spec).toMatchObject({ format: "erofs", compression: "lz4" });
    expect(summary.objects).toBe(0);
    expect(readFileSync(path.join(w.cwd(), "img.bundle")).includes("image.erofs")).toBe(true);
    for (const extra of [
      ["--image-compression", "xz"],
      ["--image", "ext4"],
      ["--image", "squashfs", "--image-compression", "lz4hc"],
    ]) {
      const r = await cliInProcess([...args, "-o", path.join(w.cwd(), "never.bundle"), ...extra], {
        cwd: w.cwd(),
        env: vars,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/INVALID_OPTION|choices|argument/);
    }
    expect(existsSync(path.join(w.cwd(), "never.bundle"))).toBe(false);
  });
});
