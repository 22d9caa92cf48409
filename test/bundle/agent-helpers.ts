/**
 * Helpers for the device agent tests: small generated app envs, bundles built with wire.ts,
 * a PATH with every CPython of the machine, running the agent (async, so an in-process
 * repository server can answer it), snapshots of a device store, and a static repository
 * server with byte ranges and a "cut the download half way" fault.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { type SigningKey, signDocument } from "../../src/bundle/keys.ts";
import { treeBytesOf } from "../../src/bundle/tree-codec.ts";
import {
  type BundleDraft,
  type BundleTarget,
  CHANNEL_FORMAT,
  type ChannelIndex,
  type FileEntry,
  type PatchInput,
} from "../../src/bundle/types.ts";
import { writeBundle } from "../../src/bundle/wire.ts";
import { parseRange } from "../helpers/index-server.ts";

export const AGENT = path.resolve(import.meta.dirname, "../../src/bundle/agent/slimenv-agent.py");

/** Every CPython 3.x of the machine, by "3.X". */
export function pythons(): Map<string, string> {
  const out = new Map<string, string>();
  const base = "/root/.pyenv/versions";
  if (!existsSync(base)) return out;
  for (const v of readdirSync(base).sort()) {
    const m = /^3\.(\d+)\./.exec(v);
    const exe = path.join(base, v, "bin/python3");
    if (m && existsSync(exe)) out.set(`3.${m[1]}`, exe);
  }
  return out;
}

/** The interpreter the test apps use, and the one that runs the agent by default. */
export const APP_PY = "3.11";

export function agentPython(): string {
  const exe = pythons().get(APP_PY);
  if (exe === undefined) throw new Error(`no CPython ${APP_PY} on this machine`);
  return exe;
}

/** A bin dir with python3.X for every CPython found, for PATH. */
export function binDir(dir: string): string {
  const bin = path.join(dir, "bin");
  if (!existsSync(bin)) {
    mkdirSync(bin, { recursive: true });
    for (const [v, exe] of pythons())
      symlinkSync(exe.replace(/python3$/, `python${v}`), path.join(bin, `python${v}`));
  }
  return bin;
}

/** This machine's target for APP_PY (glibc version from getconf). */
export function hostTarget(overrides: Partial<BundleTarget> = {}): BundleTarget {
  return {
    implementation: "cp",
    python: APP_PY,
    abi: `cp${APP_PY.replace(".", "")}`,
    machine: process.arch === "arm64" ? "aarch64" : "x86_64",
    libc: "glibc",
    libcVersion: "2.17",
    platforms: ["manylinux_2_17_x86_64"],
    ...overrides,
  };
}

export interface AppSpec {
  app?: string;
  version?: string;
  sequence: number;
  /** Extra or replaced files: path → text (mode 420) or [text, mode]. */
  files?: Record<string, string | [string, 420 | 493]>;
  health?: { command: string[]; timeout: number } | null;
  target?: Partial<BundleTarget>;
  symlinks?: { path: string; target: string }[];
}

const enc = new TextEncoder();

/** A small app env: a bin/python launcher, a package, an executable tool, a data file. */
export function appEnv(spec: AppSpec): { draft: BundleDraft; objects: Map<string, Uint8Array> } {
  const version = spec.version ?? `1.${spec.sequence}`;
  const files: Record<string, string | [string, 420 | 493]> = {
    "bin/python": [
      `#!/bin/sh\nHERE="$(cd "$(dirname "$0")/.." && pwd)"\nPYTHONPATH="$HERE/lib" exec python${APP_PY} "$@"\n`,
      493,
    ],
    "bin/tool": ["#!/bin/sh\necho tool\n", 493],
    "lib/myapp/__init__.py": `VERSION = ${JSON.stringify(version)}\n`,
    "lib/myapp/data.txt": "shared data\n".repeat(50),
    ...spec.files,
  };
  const entries: FileEntry[] = [];
  const objects = new Map<string, Uint8Array>();
  for (const [p, v] of Object.entries(files)) {
    const [text, mode] = typeof v === "string" ? [v, 420 as const] : v;
    const data = enc.encode(text);
    const sha = sha256Hex(data);
    objects.set(sha, data);
    entries.push({ path: p, sha256: sha, size: data.length, mode });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  const draft: BundleDraft = {
    app: spec.app ?? "myapp",
    version,
    sequence: spec.sequence,
    created: "2026-12-06T17:00:00Z",
    target: hostTarget(spec.target),
    interpreter: `python${APP_PY}`,
    health:
      spec.health === undefined
        ? { command: ["bin/python", "-c", "import myapp"], timeout: 30 }
        : spec.health,
    files: entries,
    symlinks: spec.symlinks ?? [],
    base: null,
  };
  return { draft, objects };
}

/** A signed full bundle of an app env. */
export function fullBundle(key: SigningKey, spec: AppSpec, agent?: string): Uint8Array {
  const { draft, objects } = appEnv(spec);
  return writeBundle({ manifest: draft, objects, ...(agent === undefined ? {} : { agent }) }, key)
    .bytes;
}

/** A hand-made SLDIFF01 patch (zlib streams): byte-wise diff over the common length, rest as extra. */
export function handPatch(old: Uint8Array, neu: Uint8Array): Uint8Array {
  const add = Math.min(old.length, neu.length);
  const control = Buffer.alloc(24);
  control.writeBigInt64LE(BigInt(add), 0);
  control.writeBigInt64LE(BigInt(neu.length - add), 8);
  control.writeBigInt64LE(0n, 16);
  const diff = Buffer.alloc(add);
  for (let i = 0; i < add; i++) diff[i] = ((neu[i] as number) - (old[i] as number)) & 0xff;
  return patchBytes(
    neu.length,
    [control, diff, Buffer.from(neu.subarray(add))].map((s) => deflateSync(s)),
  );
}

/** SLDIFF01 bytes from already compressed streams (codec 2 = zlib unless given). */
export function patchBytes(newSize: number, streams: Uint8Array[], codec = 2): Uint8Array {
  const head = Buffer.alloc(41);
  head.write("SLDIFF01", 0, "latin1");
  head.writeBigUInt64LE(BigInt(newSize), 8);
  head[16] = codec;
  streams.forEach((s, i) => {
    head.writeBigUInt64LE(BigInt(s.length), 17 + 8 * i);
  });
  return new Uint8Array(Buffer.concat([head, ...streams]));
}

/**
 * A delta bundle from app `from` to app `to`: new objects carried, changed files patched, the
 * tree patched against `from`'s tree when that is smaller (unless `tree: false`).
 */
export function deltaBundle(
  key: SigningKey,
  from: AppSpec,
  to: AppSpec,
  opts: { patch?: boolean; tree?: boolean } = {},
): Uint8Array {
  const a = appEnv(from);
  const b = appEnv(to);
  const objects = new Map<string, Uint8Array>();
  const patches: PatchInput[] = [];
  const oldByPath = new Map(a.draft.files.map((f) => [f.path, f]));
  for (const f of b.draft.files) {
    if (
      a.objects.has(f.sha256) ||
      objects.has(f.sha256) ||
      patches.some((p) => p.target === f.sha256)
    ) {
      continue;
    }
    const old = oldByPath.get(f.path);
    const data = b.objects.get(f.sha256) as Uint8Array;
    if (opts.patch !== false && old !== undefined) {
      const src = a.objects.get(old.sha256) as Uint8Array;
      patches.push({ source: old.sha256, target: f.sha256, data: handPatch(src, data) });
    } else objects.set(f.sha256, data);
  }
  const base = { app: a.draft.app, sequence: a.draft.sequence, objects: "0".repeat(64) };
  const treeBase = opts.tree === false ? {} : { treeBase: treeBytesOf(a.draft) };
  return writeBundle({ manifest: { ...b.draft, base }, objects, patches, ...treeBase }, key).bytes;
}

/**
 * A bundle's first member, bundle.json: stored at offset 0, so its local header gives its
 * size (offset 22) and name length (offset 26); the bytes follow the name.
 */
export function headerBytesOf(bundle: Uint8Array): Uint8Array {
  const b = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const name = b.readUInt16LE(26);
  if (b.toString("latin1", 30, 30 + name) !== "bundle.json") throw new Error("not a bundle");
  return bundle.subarray(30 + name, 30 + name + b.readUInt32LE(22));
}

/** A kept generation's tree, as the agent stores it. */
export function storedTree(root: string, app: string, seq: number): { files: FileEntry[] } {
  return JSON.parse(
    readFileSync(path.join(root, "apps", app, "manifests", `${seq}.tree.json`), "utf8"),
  ) as { files: FileEntry[] };
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  python?: string;
  env?: Record<string, string>;
  /** Kill (SIGKILL) after this many ms. */
  killAfterMs?: number;
  pathDir: string;
  /** Called with the agent's process, once started. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Run the agent: `python -I slimenv-agent.py ARGS`. */
export function runAgent(args: string[], opts: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.python ?? agentPython(), ["-I", AGENT, ...args], {
      env: { PATH: `${opts.pathDir}:/usr/bin:/bin`, LANG: "C.UTF-8", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    opts.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer =
      opts.killAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Every entry under `dir` (but tmp/ and lock) with its type, mode, inode-free content hash. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const full = path.join(dir, rel);
    for (const name of readdirSync(full).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      if (r === "tmp" || r === "lock") continue;
      const st = lstatSync(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(r, `link ${readlinkSync(path.join(dir, r))}`);
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode}`);
        walk(r);
      } else out.set(r, `file ${mode} ${sha256Hex(readFileSync(path.join(dir, r)))}`);
    }
  };
  if (existsSync(dir)) walk("");
  return out;
}

/**
 * The sequence `current` of an app resolves to, after checking that generation is complete:
 * every file of its manifest there with the right hash and mode (null when no current).
 */
export function checkCurrent(root: string, app: string): number | null {
  const cur = path.join(root, "apps", app, "current");
  if (!existsSync(cur)) return null;
  const m = /^gens\/(\d+)$/.exec(readlinkSync(cur));
  if (m === null) throw new Error(`current -> ${readlinkSync(cur)}`);
  const seq = Number(m[1]);
  const manifest = storedTree(root, app, seq);
  for (const f of manifest.files) {
    const p = path.join(cur, f.path);
    const hash = createHash("sha256").update(readFileSync(p)).digest("hex");
    if (hash !== f.sha256) throw new Error(`${p}: hash differs from the manifest`);
    const exec = (lstatSync(p).mode & 0o100) !== 0;
    if (exec !== (f.mode === 493)) throw new Error(`${p}: wrong mode`);
  }
  return seq;
}

/** Publish full (and delta) bundles into a static repository folder, signing the channel index. */
export function publishToRepo(
  repo: string,
  key: SigningKey,
  channel: string,
  app: string,
  index: {
    sequence: number;
    version: string;
    full: Uint8Array;
    deltas?: { from: number; bytes: Uint8Array }[];
  },
): ChannelIndex {
  const put = (bytes: Uint8Array) => {
    const sha = sha256Hex(bytes);
    const dir = path.join(repo, "blobs/sha256", sha.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, sha.slice(2)), bytes);
    return { sha256: sha, size: bytes.length };
  };

  const doc: ChannelIndex = {
    format: CHANNEL_FORMAT,
    app,
    channel,
    sequence: index.sequence,
    version: index.version,
    header: { sha256: sha256Hex(headerBytesOf(index.full)) },
    full: put(index.full),
    deltas: (index.deltas ?? []).map((d) => ({ from: d.from, ...put(d.bytes) })),
    published: "2026-12-06T17:00:00Z",
  };
  const dir = path.join(repo, "channels", channel);
  mkdirSync(dir, { recursive: true });
  const bytes = canonicalJsonBytes(doc);
  writeFileSync(path.join(dir, `${app}.json`), bytes);
  writeFileSync(path.join(dir, `${app}.json.sig`), signDocument(key, bytes));
  return doc;
}

export interface RepoServer {
  url: string;
  /** "GET path range" of every request. */
  log: string[];
  /** The next `times` GETs of a blob send half the body, then close the connection. */
  cutBlobs(times: number): void;
  close(): Promise<void>;
}

/** Serve a repository folder on 127.0.0.1 with Range support. */
export async function serveRepo(repo: string): Promise<RepoServer> {
  let cuts = 0;
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    const range = req.headers.range;
    log.push(`GET ${url}${range ? ` ${range}` : ""}`);
    const file = path.join(repo, path.normalize(url).replace(/^(\.\.[/\\])+/, ""));
    if (!existsSync(file) || !lstatSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    const body = readFileSync(file);
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    if (range !== undefined) {
      const r = parseRange(range, body.length);
      if (r === 416) {
        res.writeHead(416, { "Content-Range": `bytes */${body.length}` }).end();
        return;
      }
      if (r !== "all") {
        [start, end] = r;
        status = 206;
      }
    }
    const headers: Record<string, string> = {
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    };
    if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${body.length}`;
    res.writeHead(status, headers);
    const slice = body.subarray(start, end + 1);
    if (url.startsWith("/blobs/") && cuts > 0) {
      cuts--;
      res.write(slice.subarray(0, Math.floor(slice.length / 2)), () => {
        setTimeout(() => req.socket.destroy(), 20);
      });
      return;
    }
    res.end(slice);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    cutBlobs(times) {
      cuts = times;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
