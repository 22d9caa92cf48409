/**
 * Read-only images of an env (`slimenv image`, src/bundle/image.ts): squashfs and erofs of a
 * real env built for CPython 3.11 from generated wheels. What the image holds is checked
 * file by file against the env's tree (the bundle's tree) — extracted by the tools' own
 * readers everywhere, and loop-mounted read-only where the machine allows (root), where
 * CPython 3.11 imports the package from it. Same tree → same bytes. Refusals and the command
 * line: image-refusals.test.ts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { readEnvTree } from "../../src/bundle/from-env.ts";
import { writeTreeImage } from "../../src/bundle/image.ts";
import {
  type ImageSpecRequest,
  imageSpec,
  parseBlockSize,
} from "../../src/bundle/image-options.ts";
import { describeWith, itWith, LOOP_MOUNT, MKFS_EROFS, MKSQUASHFS } from "../helpers/prereq.ts";
import { expectSameTree, extract, imageWorld, PY311, run, TIME, walk } from "./image-fixtures.ts";

describeWith(
  PY311,
  MKSQUASHFS,
  MKFS_EROFS,
)("slimenv image: what the image holds", () => {
  const w = imageWorld();
  const { sde } = w;
  const env = w.env;
  const image = w.image;
  const store = w.store;

  it("holds exactly the bundle's tree: files, hashes, modes, symlinks (extracted)", async () => {
    const dir = await env("hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    expect(tree.symlinks.map((l) => l.path)).toEqual(["bin/python-again", "lib64"]);
    expect(tree.files.some((f) => f.mode === 493)).toBe(true);
    for (const format of ["squashfs", "erofs"] as const) {
      const img = await image(dir, `tree.${format}`, { format });
      expect(img).toMatchObject({ files: tree.files.length, symlinks: 2, time: TIME });
      const bytes = readFileSync(path.join(w.cwd(), `tree.${format}`));
      expect(img.size).toBe(bytes.length);
      expect(img.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expectSameTree(walk(extract(img.file, format, path.join(w.cwd(), `x-${format}`))), tree);
    }
  });

  it("same tree, same bytes: whatever the clock, umask or the files' own metadata", async () => {
    const dir = await env("hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    // The same tree read from copies with other modes, times and hard links between them.
    const copies = path.join(w.cwd(), "copies");
    mkdirSync(copies);
    const moved = tree.files.map((f, i) => {
      const abs = path.join(copies, String(i));
      const twin = tree.files.findIndex((g) => g.sha256 === f.sha256);
      if (twin < i) linkSync(path.join(copies, String(twin)), abs);
      else writeFileSync(abs, readFileSync(f.abs), { mode: f.mode === 493 ? 0o700 : 0o600 });
      return { ...f, abs };
    });
    utimesSync(copies, 1, 1);
    for (const format of ["squashfs", "erofs"] as const) {
      const a = await image(dir, `a.${format}`, { format });
      await new Promise((r) => setTimeout(r, 1100));
      const umask = process.umask(0o077);
      let b: Awaited<ReturnType<typeof image>>;
      try {
        b = await image(dir, `b.${format}`, { format });
      } finally {
        process.umask(umask);
      }
      expect(b.sha256).toBe(a.sha256);
      expect(readFileSync(b.file).equals(readFileSync(a.file))).toBe(true);
      const spec = imageSpec({ format });
      const c = await writeTreeImage(
        { files: moved, symlinks: tree.symlinks },
        path.join(w.cwd(), `c.${format}`),
        spec,
        TIME,
      );
      expect(c.sha256).toBe(a.sha256);
      const later = await image(
        dir,
        `d.${format}`,
        { format },
        { ...sde, SOURCE_DATE_EPOCH: String(TIME + 1) },
      );
      expect(later.sha256).not.toBe(a.sha256);
      const renamed = await writeTreeImage(
        {
          files: moved.map((f, i) => (i === 0 ? { ...f, path: `${f.path}-renamed` } : f)),
          symlinks: tree.symlinks,
        },
        path.join(w.cwd(), `e.${format}`),
        spec,
        TIME,
      );
      expect(renamed.sha256).not.toBe(a.sha256);
    }
    const copy = await env("copy");
    const gen = realpathSync(path.join(copy, ".slimenv", "current"));
    const before = await image(copy, "f.squashfs", { format: "squashfs" });
    writeFileSync(path.join(gen, "NOTES.txt"), "added by hand");
    const changed = await image(copy, "g.squashfs", { format: "squashfs" });
    expect(changed.sha256).not.toBe(before.sha256);
    expect(changed.files).toBe(before.files + 1);
  });

  it("takes each compressor, level and block size it offers, as the image header says", async () => {
    const dir = await env("hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    const squash: [ImageSpecRequest, RegExp][] = [
      [
        { format: "squashfs", compression: "xz", blockSize: parseBlockSize("1M") },
        /Compression xz[\s\S]*Block size 1048576/,
      ],
      [
        { format: "squashfs", compression: "lz4" },
        /Compression lz4[\s\S]*High Compression option specified[\s\S]*Block size 131072/,
      ],
      [
        { format: "squashfs", compression: "gzip", level: 1 },
        /Compression gzip\s+compression-level 1[\s\S]*Block size 131072/,
      ],
      [
        { format: "squashfs", compression: "zstd", level: 3, blockSize: 4096 },
        /Compression zstd\s+compression-level 3[\s\S]*Block size 4096/,
      ],
    ];
    for (const [i, [spec, header]] of squash.entries()) {
      const img = await image(dir, `s${i}.sqfs`, spec);
      expect(run("unsquashfs", ["-s", img.file])).toMatch(header);
      expectSameTree(walk(extract(img.file, "squashfs", path.join(w.cwd(), `xs${i}`))), tree);
    }
    const erofs: ImageSpecRequest[] = [
      { format: "erofs", compression: "lz4" },
      { format: "erofs", compression: "lz4hc", level: 3, blockSize: parseBlockSize("64K") },
      { format: "erofs", compression: "none" },
    ];
    const sizes: number[] = [];
    for (const [i, spec] of erofs.entries()) {
      const img = await image(dir, `e${i}.erofs`, spec);
      expect(img.uuid).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(run("dump.erofs", ["-s", img.file])).toMatch(
        new RegExp(`Filesystem UUID:\\s+${img.uuid}\n`),
      );
      expectSameTree(walk(extract(img.file, "erofs", path.join(w.cwd(), `xe${i}`))), tree);
      sizes.push(img.size);
    }
    // the demo library is deterministic noise with runs: compressed it shrinks
    expect(sizes[2]).toBeGreaterThan(sizes[0] as number);
  });

  itWith(LOOP_MOUNT)(
    "mounted read-only (loop), owned by root at one time; CPython 3.11 imports from it",
    async () => {
      const dir = await env("hardlink");
      const tree = await readEnvTree(dir, { storeRoot: store() });
      for (const format of ["squashfs", "erofs"] as const) {
        const img = await image(dir, `m.${format}`, { format });
        const mnt = path.join(w.cwd(), `mnt-${format}`);
        mkdirSync(mnt);
        run("mount", ["-t", format, "-o", "loop,ro", img.file, mnt]);
        try {
          const found = walk(mnt);
          expectSameTree(found, tree);
          for (const [p, e] of found) expect([p, e.uid, e.mtime]).toEqual([p, 0, TIME]);
          const py = spawnSync(
            path.join(mnt, "bin", "python"),
            [
              "-c",
              "import demo.core, sys; print(demo.core.answer(), demo.core.__file__, sys.version_info[:2])",
            ],
            {
              encoding: "utf8",
              env: { PATH: `${path.dirname(PY311.exe as string)}:/usr/bin:/bin`, HOME: w.cwd() },
            },
          );
          expect(py.stderr).toBe("");
          expect(py.stdout.trim()).toBe(
            `41 ${mnt}/lib/python3.11/site-packages/demo/core.py (3, 11)`,
          );
          const write = spawnSync("sh", ["-c", `echo x > ${mnt}/NEW`], { encoding: "utf8" });
          expect(write.stderr).toMatch(/Read-only file system/);
        } finally {
          run("umount", [mnt]);
        }
      }
    },
  );
});
