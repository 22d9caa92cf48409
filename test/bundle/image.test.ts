/**
 * Read-only images of an env (`slimenv image`, src/bundle/image.ts): squashfs and erofs of a
 * real env built for CPython 3.11 from generated wheels. What the image holds is checked
 * file by file against the env's tree (the bundle's tree) — extracted by the tools' own
 * readers everywhere, and loop-mounted read-only where the machine allows (root), where
 * CPython 3.11 imports the package from it. Same tree → same bytes; bad input → a clear error
 * and nothing written.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type EnvTree, readEnvTree } from "../../src/bundle/from-env.ts";
import { buildImage, writeTreeImage } from "../../src/bundle/image.ts";
import {
  type ImageSpecRequest,
  imageSpec,
  parseBlockSize,
} from "../../src/bundle/image-options.ts";
import { install } from "../../src/env/install.ts";
import type { LinkMode } from "../../src/env/types.ts";
import { cliInProcess } from "../helpers/cli.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import {
  describeWith,
  itWith,
  LOOP_MOUNT,
  MKFS_EROFS,
  MKSQUASHFS,
  pyenv,
} from "../helpers/prereq.ts";
import { expectSlimenvError, tempDir, testSettings } from "../install/fixtures.ts";
import { demoProjects } from "./bundle-fixtures.ts";

const PY311 = pyenv("3.11");
const TIME = 1765000000;

interface Entry {
  kind: "file" | "symlink" | "dir";
  mode: number;
  sha256?: string;
  target?: string;
  uid: number;
  mtime: number;
}

/** Everything under `root`: path → what it is (mode, hash or link target, owner, time). */
function walk(root: string, prefix = "", out = new Map<string, Entry>()): Map<string, Entry> {
  for (const name of readdirSync(path.join(root, prefix)).sort()) {
    const rel = prefix === "" ? name : `${prefix}/${name}`;
    const full = path.join(root, rel);
    const st = lstatSync(full);
    const common = { mode: st.mode & 0o7777, uid: st.uid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isSymbolicLink())
      out.set(rel, { kind: "symlink", target: readlinkSync(full), ...common });
    else if (st.isDirectory()) {
      out.set(rel, { kind: "dir", ...common });
      walk(root, rel, out);
    } else {
      const sha256 = createHash("sha256").update(readFileSync(full)).digest("hex");
      out.set(rel, { kind: "file", sha256, ...common });
    }
  }
  return out;
}

/** The image's content must be the tree's: same paths, bytes, modes, links; folders 0755. */
function expectSameTree(found: Map<string, Entry>, tree: EnvTree): void {
  const want = new Map<string, Partial<Entry>>();
  for (const f of tree.files) want.set(f.path, { kind: "file", sha256: f.sha256, mode: f.mode });
  for (const l of tree.symlinks) want.set(l.path, { kind: "symlink", target: l.target });
  for (const p of want.keys()) {
    const segments = p.split("/");
    for (let i = 1; i < segments.length; i++) {
      want.set(segments.slice(0, i).join("/"), { kind: "dir", mode: 0o755 });
    }
  }
  expect([...found.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [p, w] of want) {
    const f = found.get(p) as Entry;
    expect({ path: p, kind: f.kind, sha256: f.sha256, target: f.target }).toEqual({
      path: p,
      kind: w.kind,
      sha256: w.sha256,
      target: w.target,
    });
    if (w.mode !== undefined) expect([p, f.mode]).toEqual([p, w.mode]);
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Extract an image with the format's own reader into a fresh folder. */
function extract(image: string, format: "squashfs" | "erofs", into: string): string {
  if (format === "squashfs") run("unsquashfs", ["-no-progress", "-n", "-d", into, image]);
  else run("fsck.erofs", [`--extract=${into}`, image]);
  return into;
}

describeWith(
  PY311,
  MKSQUASHFS,
  MKFS_EROFS,
)("slimenv image", () => {
  let server: IndexServer;
  let cwd: string;
  const store = () => path.join(cwd, "store");
  const sde = { ...process.env, SOURCE_DATE_EPOCH: String(TIME) };
  const envs = new Map<LinkMode, string>();

  /** A prefix env of demo 1.0 for CPython 3.11, with a symlink inside and an executable. */
  async function env(linkMode: LinkMode): Promise<string> {
    const known = envs.get(linkMode);
    if (known !== undefined) return known;
    const dir = `env-${linkMode}`;
    await install({
      cwd,
      env: process.env,
      settings: testSettings(server.url),
      selection: { kind: "interpreter", request: PY311.exe as string },
      layout: { kind: "prefix", dir },
      linkMode,
      inputs: { requirementFiles: [], requirements: ["demo==1.0"], wheels: [] },
      userAgent: "slimenv-tests",
      storeRoot: store(),
      httpCacheDir: null,
    });
    const gen = realpathSync(path.join(cwd, dir, ".slimenv", "current"));
    symlinkSync("lib", path.join(gen, "lib64"));
    symlinkSync("../python", path.join(gen, "bin", "python-again"));
    envs.set(linkMode, path.join(cwd, dir));
    return path.join(cwd, dir);
  }

  async function image(
    envDir: string,
    name: string,
    spec: ImageSpecRequest,
    vars: NodeJS.ProcessEnv = sde,
  ) {
    return buildImage(envDir, path.join(cwd, name), { ...spec, storeRoot: store(), env: vars });
  }

  beforeAll(async () => {
    server = await startIndexServer({ projects: demoProjects() });
    cwd = tempDir("image");
  });
  afterAll(async () => {
    await server.close();
  });

  it("holds exactly the bundle's tree: files, hashes, modes, symlinks (extracted)", async () => {
    const dir = await env("hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    expect(tree.symlinks.map((l) => l.path)).toEqual(["bin/python-again", "lib64"]);
    expect(tree.files.some((f) => f.mode === 493)).toBe(true);
    for (const format of ["squashfs", "erofs"] as const) {
      const img = await image(dir, `tree.${format}`, { format });
      expect(img).toMatchObject({ files: tree.files.length, symlinks: 2, time: TIME });
      const bytes = readFileSync(path.join(cwd, `tree.${format}`));
      expect(img.size).toBe(bytes.length);
      expect(img.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expectSameTree(walk(extract(img.file, format, path.join(cwd, `x-${format}`))), tree);
    }
  });

  it("same tree, same bytes: whatever the clock, umask or the files' own metadata", async () => {
    const dir = await env("hardlink");
    const tree = await readEnvTree(dir, { storeRoot: store() });
    // The same tree read from copies with other modes, times and hard links between them.
    const copies = path.join(cwd, "copies");
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
        path.join(cwd, `c.${format}`),
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
        path.join(cwd, `e.${format}`),
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
      expectSameTree(walk(extract(img.file, "squashfs", path.join(cwd, `xs${i}`))), tree);
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
      expectSameTree(walk(extract(img.file, "erofs", path.join(cwd, `xe${i}`))), tree);
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
        const mnt = path.join(cwd, `mnt-${format}`);
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
              env: { PATH: `${path.dirname(PY311.exe as string)}:/usr/bin:/bin`, HOME: cwd },
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

  it("a missing or failing tool: IMAGE_FAILED naming the package, nothing written", async () => {
    const dir = await env("hardlink");
    const out = path.join(cwd, "missing.sqfs");
    const err = await expectSlimenvError(
      image(
        dir,
        "missing.sqfs",
        { format: "squashfs" },
        { ...sde, SLIMENV_MKSQUASHFS: path.join(cwd, "no-such-mksquashfs") },
      ),
      "IMAGE_FAILED",
      /cannot run .*no-such-mksquashfs: not found/,
    );
    expect(err.hint).toMatch(/apt-get install -y squashfs-tools/);
    expect(existsSync(out)).toBe(false);
    const noPath = await expectSlimenvError(
      image(dir, "missing.erofs", { format: "erofs" }, { ...sde, PATH: path.join(cwd, "empty") }),
      "IMAGE_FAILED",
      /cannot run mkfs\.erofs: not found/,
    );
    expect(noPath.hint).toMatch(/apt-get install -y erofs-utils/);
    expect(existsSync(path.join(cwd, "missing.erofs"))).toBe(false);
    // a tool that runs but fails: the old file at -o is left as it was
    writeFileSync(out, "old image");
    const failing = path.join(cwd, "failing-mksquashfs");
    writeFileSync(
      failing,
      "#!/bin/sh\n[ \"$1\" = -version ] && exit 0\necho 'disk on fire' >&2\nexit 3\n",
      { mode: 0o755 },
    );
    await expectSlimenvError(
      image(dir, "missing.sqfs", { format: "squashfs" }, { ...sde, SLIMENV_MKSQUASHFS: failing }),
      "IMAGE_FAILED",
      /failing-mksquashfs failed: disk on fire/,
    );
    expect(readFileSync(out, "utf8")).toBe("old image");
    expect(readdirSync(cwd).filter((n) => n.includes(".tmp"))).toEqual([]);
  });

  it("refuses a pth env, bad options and an output folder that is not there", async () => {
    const pth = await env("pth");
    await expectSlimenvError(
      image(pth, "pth.sqfs", { format: "squashfs" }),
      "INVALID_ENV",
      /link-mode pth/,
    );
    expect(existsSync(path.join(cwd, "pth.sqfs"))).toBe(false);
    const bad: [ImageSpecRequest, RegExp][] = [
      [{ format: "ext4" }, /--format "ext4" is not an image format/],
      [{ format: "erofs", compression: "zstd" }, /zstd is not a erofs compressor/],
      [{ format: "squashfs", compression: "lz4hc" }, /lz4hc is not a squashfs compressor/],
      [{ format: "squashfs", level: 23 }, /--level 23 is out of range for zstd/],
      [{ format: "squashfs", compression: "xz", level: 6 }, /xz has no levels/],
      [{ format: "squashfs", blockSize: 3000 }, /--block-size 3000 is not a squashfs block size/],
      [{ format: "squashfs", blockSize: 2 * 1024 * 1024 }, /not a squashfs block size/],
      [{ format: "erofs", blockSize: 6000 }, /not an erofs cluster size/],
      [
        { format: "erofs", compression: "none", blockSize: 8192 },
        /uncompressed erofs image has no clusters/,
      ],
    ];
    const dir = await env("hardlink");
    for (const [spec, message] of bad) {
      expect(() => imageSpec(spec)).toThrow(message);
      await expectSlimenvError(image(dir, "bad.img", spec), "INVALID_OPTION", message);
    }
    expect(() => parseBlockSize("12X")).toThrow(/not a size/);
    expect(parseBlockSize("128K")).toBe(131072);
    await expectSlimenvError(
      image(dir, "nowhere/x.sqfs", { format: "squashfs" }),
      "IO_ERROR",
      /no folder .*nowhere/,
    );
    await expectSlimenvError(
      image(dir, "bad-time.sqfs", { format: "squashfs" }, { ...sde, SOURCE_DATE_EPOCH: "soon" }),
      "INVALID_OPTION",
      /SOURCE_DATE_EPOCH=soon/,
    );
    expect(existsSync(path.join(cwd, "bad.img"))).toBe(false);
    expect(existsSync(path.join(cwd, "bad-time.sqfs"))).toBe(false);
  });

  it("refuses a tree a device would refuse, and a file that changed since it was read", async () => {
    const tree = await readEnvTree(await env("hardlink"), { storeRoot: store() });
    const spec = imageSpec({ format: "squashfs" });
    const file = tree.files[0] as EnvTree["files"][number];
    const hostile: [Partial<EnvTree>, RegExp][] = [
      [{ files: [{ ...file, path: "../escape" }] }, /not a relative path/],
      [{ files: [{ ...file, path: "/abs" }] }, /not a relative path/],
      [{ files: [{ ...file, path: "a//b" }] }, /not a relative path/],
      [{ files: [file, file] }, /in the tree twice/],
      [
        { files: [file, { ...file, path: `${file.path}/under` }] },
        /lies under the file or symlink/,
      ],
      [{ symlinks: [{ path: "up", target: "../../etc" }] }, /outside the tree/],
      [{ symlinks: [{ path: "abs", target: "/etc" }] }, /outside the tree/],
      [{ files: [{ ...file, sha256: "0".repeat(64) }] }, /changed since the env was read/],
    ];
    for (const [i, [part, message]] of hostile.entries()) {
      const t = { files: part.files ?? [file], symlinks: part.symlinks ?? [] };
      await expectSlimenvError(
        writeTreeImage(t, path.join(cwd, `hostile${i}.sqfs`), spec, TIME),
        "INVALID_ENV",
        message,
      );
      expect(existsSync(path.join(cwd, `hostile${i}.sqfs`))).toBe(false);
    }
  });

  it("slimenv image on the command line: --json summary, usage errors exit 2", async () => {
    const dir = await env("hardlink");
    const cliEnvVars = { ...sde, NO_COLOR: "1", SLIMENV_HOME: path.join(cwd, "home") };
    const ok = await cliInProcess(
      [
        "--json",
        "image",
        dir,
        "-o",
        "cli.erofs",
        "--format",
        "erofs",
        "--compression",
        "lz4hc",
        "--level",
        "9",
        "--block-size",
        "16K",
      ],
      { cwd, env: cliEnvVars },
    );
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const summary = JSON.parse(ok.stdout) as Record<string, unknown>;
    const bytes = readFileSync(path.join(cwd, "cli.erofs"));
    expect(summary).toMatchObject({
      file: "cli.erofs",
      format: "erofs",
      compression: "lz4hc",
      level: 9,
      blockSize: 16384,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      time: TIME,
    });
    const human = await cliInProcess(["image", dir, "-o", "cli.sqfs"], { cwd, env: cliEnvVars });
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(
      /^cli\.sqfs: squashfs image \(zstd-19, 128 KiB blocks\), .* the tree\n/,
    );
    for (const args of [
      ["--format", "erofs", "--compression", "zstd"],
      ["--block-size", "huge"],
      ["--format", "ext4"],
    ]) {
      const r = await cliInProcess(["image", dir, "-o", "never.img", ...args], {
        cwd,
        env: cliEnvVars,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/INVALID_OPTION|argument|choices/);
    }
    expect(existsSync(path.join(cwd, "never.img"))).toBe(false);
  });
});
