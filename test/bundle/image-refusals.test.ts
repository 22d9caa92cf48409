/**
 * `slimenv image` refusing what it cannot do, each with a clear error and nothing written: a
 * missing or failing tool, a pth env, bad options, an output it cannot write, a tree a device
 * would refuse, a file changed since it was read; and the command line (--json, usage errors).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { type EnvTree, readEnvTree } from "../../src/bundle/from-env.ts";
import { writeTreeImage } from "../../src/bundle/image.ts";
import {
  type ImageSpecRequest,
  imageSpec,
  parseBlockSize,
} from "../../src/bundle/image-options.ts";
import { cliInProcess } from "../helpers/cli.ts";
import { describeWith, MKFS_EROFS, MKSQUASHFS } from "../helpers/prereq.ts";
import { expectSlimenvError } from "../install/fixtures.ts";
import { imageWorld, PY311, TIME } from "./image-fixtures.ts";

describeWith(
  PY311,
  MKSQUASHFS,
  MKFS_EROFS,
)("slimenv image: refusals and the command line", () => {
  const w = imageWorld();
  const { sde } = w;
  const env = w.env;
  const image = w.image;
  const store = w.store;

  it("a missing or failing tool: IMAGE_FAILED naming the package, nothing written", async () => {
    const dir = await env("hardlink");
    const out = path.join(w.cwd(), "missing.sqfs");
    const err = await expectSlimenvError(
      image(
        dir,
        "missing.sqfs",
        { format: "squashfs" },
        { ...sde, SLIMENV_MKSQUASHFS: path.join(w.cwd(), "no-such-mksquashfs") },
      ),
      "IMAGE_FAILED",
      /cannot run .*no-such-mksquashfs: not found/,
    );
    expect(err.hint).toMatch(/apt-get install -y squashfs-tools/);
    expect(existsSync(out)).toBe(false);
    const noPath = await expectSlimenvError(
      image(
        dir,
        "missing.erofs",
        { format: "erofs" },
        { ...sde, PATH: path.join(w.cwd(), "empty") },
      ),
      "IMAGE_FAILED",
      /cannot run mkfs\.erofs: not found/,
    );
    expect(noPath.hint).toMatch(/apt-get install -y erofs-utils/);
    expect(existsSync(path.join(w.cwd(), "missing.erofs"))).toBe(false);
    // a tool that runs but fails: the old file at -o is left as it was
    writeFileSync(out, "old image");
    const failing = path.join(w.cwd(), "failing-mksquashfs");
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
    expect(readdirSync(w.cwd()).filter((n) => n.includes(".tmp"))).toEqual([]);
  });

  it("refuses a pth env, bad options and an output folder that is not there", async () => {
    const pth = await env("pth");
    await expectSlimenvError(
      image(pth, "pth.sqfs", { format: "squashfs" }),
      "INVALID_ENV",
      /link-mode pth/,
    );
    expect(existsSync(path.join(w.cwd(), "pth.sqfs"))).toBe(false);
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
    mkdirSync(path.join(w.cwd(), "a-folder.sqfs"));
    await expectSlimenvError(
      image(dir, "a-folder.sqfs", { format: "squashfs" }),
      "IO_ERROR",
      /cannot write .*a-folder\.sqfs/,
    );
    expect(readdirSync(path.join(w.cwd(), "a-folder.sqfs"))).toEqual([]);
    await expectSlimenvError(
      image(dir, "bad-time.sqfs", { format: "squashfs" }, { ...sde, SOURCE_DATE_EPOCH: "soon" }),
      "INVALID_OPTION",
      /SOURCE_DATE_EPOCH=soon/,
    );
    expect(existsSync(path.join(w.cwd(), "bad.img"))).toBe(false);
    expect(existsSync(path.join(w.cwd(), "bad-time.sqfs"))).toBe(false);
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
        writeTreeImage(t, path.join(w.cwd(), `hostile${i}.sqfs`), spec, TIME),
        "INVALID_ENV",
        message,
      );
      expect(existsSync(path.join(w.cwd(), `hostile${i}.sqfs`))).toBe(false);
    }
  });

  it("slimenv image on the command line: --json summary, usage errors exit 2", async () => {
    const dir = await env("hardlink");
    const cliEnvVars = { ...sde, NO_COLOR: "1", SLIMENV_HOME: path.join(w.cwd(), "home") };
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
      { cwd: w.cwd(), env: cliEnvVars },
    );
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const summary = JSON.parse(ok.stdout) as Record<string, unknown>;
    const bytes = readFileSync(path.join(w.cwd(), "cli.erofs"));
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
    const human = await cliInProcess(["image", dir, "-o", "cli.sqfs"], {
      cwd: w.cwd(),
      env: cliEnvVars,
    });
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
        cwd: w.cwd(),
        env: cliEnvVars,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/INVALID_OPTION|argument|choices/);
    }
    expect(existsSync(path.join(w.cwd(), "never.img"))).toBe(false);
  });
});
