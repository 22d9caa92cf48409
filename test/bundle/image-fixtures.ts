/**
 * Fixtures of the image tests: a real prefix env of the demo wheel for CPython 3.11 (with two
 * symlinks added inside its generation), how to build an image of it, and how to compare what
 * an image holds (extracted or mounted) with the env's tree, file by file.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { EnvTree } from "../../src/bundle/from-env.ts";
import { buildImage, type EnvImage } from "../../src/bundle/image.ts";
import type { ImageSpecRequest } from "../../src/bundle/image-options.ts";
import { install } from "../../src/env/install.ts";
import type { LinkMode } from "../../src/env/types.ts";
import { type IndexServer, startIndexServer } from "../helpers/index-server.ts";
import { pyenv } from "../helpers/prereq.ts";
import { tempDir, testSettings } from "../install/fixtures.ts";
import { demoProjects } from "./bundle-fixtures.ts";

export const PY311 = pyenv("3.11");
/** SOURCE_DATE_EPOCH of the images. */
export const TIME = 1765000000;

export interface Entry {
  kind: "file" | "symlink" | "dir";
  mode: number;
  sha256?: string;
  target?: string;
  uid: number;
  mtime: number;
}

/** Everything under `root`: path → what it is (mode, hash or link target, owner, time). */
export function walk(
  root: string,
  prefix = "",
  out = new Map<string, Entry>(),
): Map<string, Entry> {
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
export function expectSameTree(found: Map<string, Entry>, tree: EnvTree): void {
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

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Extract an image with the format's own reader into a fresh folder. */
export function extract(image: string, format: "squashfs" | "erofs", into: string): string {
  if (format === "squashfs") run("unsquashfs", ["-no-progress", "-n", "-d", into, image]);
  else run("fsck.erofs", [`--extract=${into}`, image]);
  return into;
}

export interface ImageWorld {
  cwd(): string;
  store(): string;
  /** process.env with SOURCE_DATE_EPOCH=TIME. */
  sde: NodeJS.ProcessEnv;
  /** The env of demo 1.0 installed with `linkMode` (built once per test file). */
  env(linkMode: LinkMode): Promise<string>;
  /** buildImage of `envDir` into cwd/name. */
  image(
    envDir: string,
    name: string,
    spec: ImageSpecRequest,
    vars?: NodeJS.ProcessEnv,
  ): Promise<EnvImage>;
}

/** Call inside a describe: an index server and a temp folder for the suite. */
export function imageWorld(): ImageWorld {
  let server: IndexServer;
  let cwd = "";
  const store = () => path.join(cwd, "store");
  const sde = { ...process.env, SOURCE_DATE_EPOCH: String(TIME) };
  const envs = new Map<LinkMode, string>();
  beforeAll(async () => {
    server = await startIndexServer({ projects: demoProjects() });
    cwd = tempDir("image");
  });
  afterAll(async () => {
    await server.close();
  });
  return {
    cwd: () => cwd,
    store,
    sde,
    async env(linkMode) {
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
    },
    image(envDir, name, spec, vars = sde) {
      return buildImage(envDir, path.join(cwd, name), { ...spec, storeRoot: store(), env: vars });
    },
  };
}
