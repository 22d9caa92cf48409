/**
 * Hostile bundles: each is refused by the device agent with exit status 1 and one line saying
 * why, and the device store (objects, apps, state, keys) is byte-for-byte unchanged.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findTarFiles } from "../../src/archive/tar-read.ts";
import { writeTar } from "../../src/archive/tar-write.ts";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import { compressPayload, PATCH_CODEC } from "../../src/bundle/compress.ts";
import {
  formatPublicKey,
  generateSigningKey,
  type SigningKey,
  signDocument,
} from "../../src/bundle/keys.ts";
import type { BundleManifest } from "../../src/bundle/types.ts";
import { sha256Hex, writeBundle } from "../../src/bundle/wire.ts";
import {
  type AppSpec,
  appEnv,
  binDir,
  checkCurrent,
  fullBundle,
  handPatch,
  patchBytes,
  runAgent,
  snapshot,
} from "./agent-helpers.ts";

const key = generateSigningKey();
const otherKey = generateSigningKey();
let dir: string;
let bin: string;
let root: string;
let pub: string;

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = { sequence: 200, files: { "lib/myapp/two.py": "X = 2\n" } };

function members(bundle: Uint8Array) {
  return findTarFiles(bundle, () => true, "bundle").map((m) => ({ path: m.path, data: m.data }));
}

/** Re-sign a bundle (a trusted key signing something hostile) after changing its manifest. */
function resign(
  bundle: Uint8Array,
  mutate: (m: BundleManifest) => void,
  opts: { key?: SigningKey; payload?: Uint8Array } = {},
): Uint8Array {
  const list = members(bundle);
  const manifest = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleManifest;
  if (opts.payload !== undefined) {
    manifest.payload.sha256 = sha256Hex(opts.payload);
    manifest.payload.size = opts.payload.length;
    (list[2] as { data: Uint8Array }).data = opts.payload;
  }
  mutate(manifest);
  const bytes = canonicalJsonBytes(manifest);
  (list[0] as { data: Uint8Array }).data = bytes;
  (list[1] as { data: Uint8Array }).data = signDocument(opts.key ?? key, bytes);
  return writeTar(list, { sort: false });
}

function flipAt(bundle: Uint8Array, member: string, offsetInMember: number): Uint8Array {
  const list = members(bundle);
  const out = new Uint8Array(bundle);
  // locate the member's data: members are laid out in order, each after its 512-byte header
  let at = 0;
  for (const m of list) {
    at += 512;
    if (m.path === member) {
      out[at + offsetInMember] = (out[at + offsetInMember] as number) ^ 0x10;
      return out;
    }
    at += Math.ceil(m.data.length / 512) * 512;
  }
  throw new Error(`no member ${member}`);
}

const good = () => fullBundle(key, v2);

/**
 * A delta from v1 whose lib/myapp/data.txt ("changed\n" in the new tree) is made by a patch:
 * `patch(old)` gives its bytes.
 */
function patchedDelta(patch: (old: Uint8Array) => Uint8Array): Uint8Array {
  const a = appEnv(v1);
  const b = appEnv({ ...v2, files: { "lib/myapp/data.txt": "changed\n" } });
  const src = a.draft.files.find((f) => f.path === "lib/myapp/data.txt") as { sha256: string };
  const dst = b.draft.files.find((f) => f.path === "lib/myapp/data.txt") as { sha256: string };
  const data = patch(a.objects.get(src.sha256) as Uint8Array);
  const objects = new Map(
    [...b.objects].filter(([sha]) => sha !== dst.sha256 && !a.objects.has(sha)),
  );
  return writeBundle(
    {
      manifest: { ...b.draft, base: { app: "myapp", sequence: 100, objects: "0".repeat(64) } },
      objects,
      patches: [{ source: src.sha256, target: dst.sha256, data }],
    },
    key,
  ).bytes;
}

/** Raw (codec 0) SLDIFF01 bytes for "changed\n" (8 bytes): one copy from the extra stream. */
function rawChanged(extra: Uint8Array, lens?: number[], diff = new Uint8Array()): Uint8Array {
  const control = Buffer.alloc(24);
  control.writeBigInt64LE(8n, 8);
  const p = patchBytes(8, [control, diff, extra], PATCH_CODEC.raw);
  const v = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  lens?.forEach((l, i) => {
    v.writeBigUInt64LE(BigInt(l), 17 + 8 * i);
  });
  return p;
}

const cases: [string, () => Uint8Array, RegExp][] = [
  ["bit flip in the payload", () => flipAt(good(), "payload.tar.xz", 100), /payload|corrupt/],
  ["bit flip in manifest.json", () => flipAt(good(), "manifest.json", 40), /bad signature/],
  [
    "truncated bundle",
    () => good().subarray(0, 1500),
    /unreadable|truncated|expected member|cannot read/,
  ],
  [
    "truncated payload",
    () => good().subarray(0, 2200),
    /unreadable|truncated|expected member|corrupt|cannot read/,
  ],
  [
    "an extra member (oversized)",
    () =>
      writeTar([...members(good()), { path: "evil.sh", data: new Uint8Array(10) }], {
        sort: false,
      }),
    /unexpected member 'evil.sh'/,
  ],
  ["signed by an untrusted key", () => fullBundle(otherKey, v2), /not trusted \(wrong key\)/],
  [
    "tampered manifest (sequence raised, old signature kept)",
    () => {
      const list = members(good());
      const m = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleManifest;
      m.sequence = 999;
      (list[0] as { data: Uint8Array }).data = canonicalJsonBytes(m);
      return writeTar(list, { sort: false });
    },
    /bad signature/,
  ],
  ["replayed older sequence", () => fullBundle(key, { sequence: 50 }), /replay: myapp sequence 50/],
  ["replayed same sequence", () => fullBundle(key, v1), /replay: myapp sequence 100/],
  [
    "a path with ..",
    () => resign(good(), (m) => ((m.files[0] as { path: string }).path = "../../evil")),
    /'\.\.' segment in path/,
  ],
  [
    "an absolute path",
    () => resign(good(), (m) => ((m.files[0] as { path: string }).path = "/etc/evil")),
    /absolute path/,
  ],
  [
    "a backslash",
    () => resign(good(), (m) => ((m.files[0] as { path: string }).path = "bin\\evil")),
    /backslash/,
  ],
  [
    "a symlink out of the tree",
    () => resign(good(), (m) => m.symlinks.push({ path: "zz", target: "../../../etc" })),
    /symlink zz -> .* escapes/,
  ],
  [
    "a symlink escaping through another symlink",
    () =>
      resign(good(), (m) =>
        m.symlinks.push({ path: "lib/up", target: ".." }, { path: "zz", target: "lib/up/.." }),
      ),
    /symlink zz -> lib\/up\/\.\. escapes/,
  ],
  [
    "an absolute symlink",
    () => resign(good(), (m) => m.symlinks.push({ path: "zz", target: "/etc" })),
    /escapes/,
  ],
  [
    "a file under a symlink",
    () => resign(good(), (m) => m.symlinks.unshift({ path: "bin", target: "lib" })),
    /under a file or symlink/,
  ],
  [
    "a setuid mode",
    () => resign(good(), (m) => ((m.files[0] as { mode: number }).mode = 0o4755)),
    /mode 2541/,
  ],
  [
    "another machine",
    () => fullBundle(key, { ...v2, target: { machine: "aarch64" } }),
    /machine aarch64, device has x86_64/,
  ],
  [
    "another python",
    () => fullBundle(key, { ...v2, target: { python: "3.12", abi: "cp312" } }),
    /python 3\.12, device has 3\.11/,
  ],
  [
    "another libc",
    () => fullBundle(key, { ...v2, target: { libc: "musl", libcVersion: "1.2" } }),
    /libc musl/,
  ],
  [
    "a newer glibc",
    () => fullBundle(key, { ...v2, target: { libcVersion: "9.99" } }),
    /glibc 9\.99 or newer/,
  ],
  [
    "an interpreter the device lacks",
    () => resign(good(), (m) => (m.interpreter = "python3.99")),
    /python3\.99 is not on this device's PATH/,
  ],
  [
    "a payload member the manifest does not name",
    () => {
      const { draft, objects } = appEnv(v2);
      const smuggled = new TextEncoder().encode("smuggled");
      const tar = writeTar([
        ...[...objects].map(([sha, data]) => ({ path: `objects/${sha}`, data })),
        { path: `objects/${sha256Hex(smuggled)}`, data: smuggled },
      ]);
      const bundle = writeBundle({ manifest: draft, objects }, key).bytes;
      return resign(bundle, () => {}, { payload: compressPayload(tar, "xz") });
    },
    /not named by the manifest/,
  ],
  [
    "an object neither carried nor stored",
    () => {
      const { draft, objects } = appEnv(v2);
      const two = draft.files.find((f) => f.path === "lib/myapp/two.py")?.sha256 as string;
      objects.delete(two);
      return writeBundle(
        {
          manifest: { ...draft, base: { app: "myapp", sequence: 100, objects: "0".repeat(64) } },
          objects,
        },
        key,
      ).bytes;
    },
    /lacks the object of lib\/myapp\/two\.py/,
  ],
  [
    "a raw patch whose extra stream is longer than the file it makes",
    () => patchedDelta(() => rawChanged(new TextEncoder().encode("changed\n and more"))),
    /patch .*: a stream is larger than it can be/,
  ],
  [
    "a raw patch whose stream lengths do not add up",
    () => patchedDelta(() => rawChanged(new TextEncoder().encode("changed\n"), [24, 0, 7])),
    /patch .*: stream lengths do not add up/,
  ],
  [
    "a raw patch with diff bytes left over",
    () =>
      patchedDelta(() =>
        rawChanged(new TextEncoder().encode("changed\n"), undefined, new Uint8Array(3)),
      ),
    /patch .*: output size differs from the header, or streams left over/,
  ],
  [
    "a patch that does not produce its target",
    () => {
      const a = appEnv(v1);
      const b = appEnv({ ...v2, files: { "lib/myapp/data.txt": "changed\n" } });
      const src = a.draft.files.find((f) => f.path === "lib/myapp/data.txt") as { sha256: string };
      const dst = b.draft.files.find((f) => f.path === "lib/myapp/data.txt") as { sha256: string };
      const data = handPatch(
        a.objects.get(src.sha256) as Uint8Array,
        new TextEncoder().encode("wrong!!\n"),
      );
      const objects = new Map(
        [...b.objects].filter(([sha]) => sha !== dst.sha256 && !a.objects.has(sha)),
      );
      return writeBundle(
        {
          manifest: { ...b.draft, base: { app: "myapp", sequence: 100, objects: "0".repeat(64) } },
          objects,
          patches: [{ source: src.sha256, target: dst.sha256, data }],
        },
        key,
      ).bytes;
    },
    /patch .* does not produce object/,
  ],
];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "slimenv-hostile-"));
  bin = binDir(dir);
  root = path.join(dir, "device");
  pub = path.join(dir, "fleet.pub");
  writeFileSync(pub, formatPublicKey(key.publicKey));
  writeFileSync(path.join(dir, "v1.bundle"), fullBundle(key, v1));
  const r = await runAgent(["--root", root, "--key", pub, "apply", path.join(dir, "v1.bundle")], {
    pathDir: bin,
  });
  expect(r.status, r.stderr).toBe(0);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("hostile bundles", () => {
  it.each(cases)("refuses %s, changing nothing", async (_name, make, reason) => {
    const before = snapshot(root);
    const file = path.join(dir, "hostile.bundle");
    writeFileSync(file, make());
    const r = await runAgent(["--root", root, "--key", pub, "apply", file], { pathDir: bin });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(reason);
    expect(snapshot(root)).toEqual(before);
    expect(checkCurrent(root, "myapp")).toBe(100);
  });

  it("refuses a bundle that does not fit on the disk, changing nothing", async () => {
    const before = snapshot(root);
    const file = path.join(dir, "big.bundle");
    writeFileSync(file, good());
    const r = await runAgent(["--root", root, "--key", pub, "apply", file], {
      pathDir: bin,
      env: { SLIMENV_AGENT_TEST_FREE: String(1024 * 1024) },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /not enough disk space in .*: the bundle needs 16 MiB, 1 MiB are free/,
    );
    expect(snapshot(root)).toEqual(before);
  });

  it("still applies the good bundle afterwards", async () => {
    const file = path.join(dir, "good.bundle");
    writeFileSync(file, good());
    const r = await runAgent(["--root", root, "--key", pub, "apply", file], { pathDir: bin });
    expect(r.status, r.stderr).toBe(0);
    expect(checkCurrent(root, "myapp")).toBe(200);
  });
});
