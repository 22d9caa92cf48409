/**
 * Hostile bundles: each is refused by the device agent with exit status 1 and one line saying
 * why, and the device store (objects, apps, state, keys) is byte-for-byte unchanged.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTar } from "../../src/archive/tar-write.ts";
import { canonicalJsonBytes } from "../../src/bundle/canonical-json.ts";
import { compressPayload, PATCH_CODEC, xzCompress } from "../../src/bundle/compress.ts";
import { sha256Hex } from "../../src/bundle/hashing.ts";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { treeBytesOf } from "../../src/bundle/tree-codec.ts";
import type { BundleManifest, FileEntry } from "../../src/bundle/types.ts";
import { writeBundle } from "../../src/bundle/wire.ts";
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
import { flipAt, members, type ResignOptions, resign as resignWith, rezip } from "./bundle-edit.ts";

const key = generateSigningKey();
const otherKey = generateSigningKey();
let dir: string;
let bin: string;
let root: string;
let pub: string;

const v1: AppSpec = { sequence: 100 };
const v2: AppSpec = { sequence: 200, files: { "lib/myapp/two.py": "X = 2\n" } };

/** Re-sign with the trusted key (a trusted key signing something hostile). */
const resign = (
  bundle: Uint8Array,
  mutate: (m: BundleManifest) => void,
  opts: ResignOptions = {},
): Uint8Array => resignWith(bundle, key, mutate, opts);

const enc = new TextEncoder();

const good = () => fullBundle(key, v2, "print('agent')\n");

function manifestEncoding(bundle: Uint8Array): string {
  return JSON.parse(new TextDecoder().decode(members(bundle)[0]?.data)).tree.encoding;
}

/** ~64 MiB of zeros as xz (about 10 KB). */
function bomb(): Uint8Array {
  return xzCompress(new Uint8Array(64 * 1024 * 1024));
}

/** The zip without its last central directory entry (the entry's data stays in the file). */
function dropLastEntry(zip: Uint8Array): Uint8Array {
  const b = Buffer.from(zip);
  const eocd = b.length - 22;
  const count = b.readUInt16LE(eocd + 10);
  const cdSize = b.readUInt32LE(eocd + 12);
  const cdStart = b.readUInt32LE(eocd + 16);
  let p = cdStart;
  for (let i = 0; i < count - 1; i++) {
    p += 46 + b.readUInt16LE(p + 28) + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  const end = Buffer.from(b.subarray(eocd));
  end.writeUInt16LE(count - 1, 8);
  end.writeUInt16LE(count - 1, 10);
  end.writeUInt32LE(p - cdStart, 12);
  void cdSize;
  return new Uint8Array(Buffer.concat([b.subarray(0, p), end]));
}

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

/** A signed bundle of v2 whose payload is xz of `edit(tar)`, tar being v2's objects as ustar. */
function payloadTar(
  edit: (tar: Buffer) => Uint8Array,
  extra: { path: string; data?: Uint8Array }[] = [],
) {
  const { draft, objects } = appEnv(v2);
  const tar = writeTar(
    [...[...objects].map(([sha, data]) => ({ path: `objects/${sha}`, data })), ...extra],
    { sort: false },
  );
  const bundle = writeBundle({ manifest: draft, objects }, key).bytes;
  const payload = compressPayload(edit(Buffer.from(tar)), "xz");
  return resign(bundle, () => {}, { payload });
}

/** `tar` with `text` written at byte `at`. */
function overwrite(tar: Buffer, at: number, text: string): Buffer {
  tar.write(text, at, "latin1");
  return tar;
}

/** Sets a ustar header's checksum field to what its bytes add up to. */
function fixChecksum(tar: Buffer, at = 0): Buffer {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tar[i] as number;
  tar.write(`${sum.toString(8).padStart(6, "0")}\0 `, at + 148, "latin1");
  return tar;
}

/** The zip with an archive comment appended (its length in the end record). */
function withComment(zip: Uint8Array): Uint8Array {
  const b = Buffer.from(zip);
  b.writeUInt16LE(7, b.length - 2);
  return new Uint8Array(Buffer.concat([b, Buffer.from("comment")]));
}

/** The zip with the first central directory entry's sizes set to zip64's 0xFFFFFFFF. */
function zip64Sizes(zip: Uint8Array): Uint8Array {
  const b = Buffer.from(zip);
  const cdStart = b.readUInt32LE(b.length - 22 + 16);
  b.writeUInt32LE(0xffffffff, cdStart + 20);
  b.writeUInt32LE(0xffffffff, cdStart + 24);
  return new Uint8Array(b);
}

const cases: [string, () => Uint8Array, RegExp][] = [
  ["bit flip in the payload", () => flipAt(good(), "payload.tar.xz", 100), /payload|corrupt/],
  ["bit flip (zip CRC-32 not fixed)", () => flipAt(good(), "bundle.json", 40), /CRC/],
  [
    "bit flip in bundle.json (CRC-32 fixed)",
    () => rezip(members(flipAt(good(), "bundle.json", 40))),
    /bad signature/,
  ],
  [
    "bit flip in the tree member (CRC-32 fixed)",
    () => rezip(members(flipAt(good(), "tree.json.xz", 30))),
    /tree\.json\.xz does not match bundle\.json \(corrupt\)/,
  ],
  ["an archive comment", () => withComment(good()), /unreadable zip .*archive comment/],
  ["a zip64 size", () => zip64Sizes(good()), /two sizes or a zip64 size/],
  [
    "a payload tar with a pax header",
    () => payloadTar((t) => t, [{ path: `objects/${"a".repeat(200)}`, data: enc.encode("x") }]),
    /corrupt payload .*'\.\/\.\/@PaxHeader' is not a regular file/,
  ],
  [
    "a folder in the payload tar",
    () => payloadTar((t) => t, [{ path: "objects" }]),
    /corrupt payload .*'objects\/' is not a regular file/,
  ],
  [
    "a payload tar header whose checksum is wrong",
    () => payloadTar((t) => t.fill(0x61, 8, 12)),
    /corrupt payload \(tar header checksum differs\)/,
  ],
  [
    "a GNU tar header in the payload",
    () => payloadTar((t) => fixChecksum(overwrite(t, 257, "ustar  \0"))),
    /corrupt payload \(not a POSIX ustar header\)/,
  ],
  [
    "a payload tar without its end blocks",
    () => payloadTar((t) => t.subarray(0, t.length - 1024)),
    /corrupt payload \(truncated tar header\)/,
  ],
  [
    "a payload tar with a size that is not octal",
    () => payloadTar((t) => fixChecksum(overwrite(t, 124, "0000000009x\0"))),
    /corrupt payload \(member size is not an octal number\)/,
  ],
  ["truncated bundle", () => good().subarray(0, 1500), /cannot read bundle|unreadable/],
  ["truncated payload", () => good().subarray(0, 2200), /cannot read bundle|unreadable/],
  [
    "an extra member",
    () => rezip([...members(good()), { name: "evil.sh", data: new Uint8Array(10) }]),
    /members .*evil\.sh, bundle\.json says bundle\.json,bundle\.sig,tree\.json\.xz,payload\.tar\.xz,agent\.py$/m,
  ],
  [
    "a member in place of agent.py",
    () => rezip([...members(good()).slice(0, 4), { name: "evil.sh", data: new Uint8Array(10) }]),
    /members .*evil\.sh, bundle\.json says .*agent\.py/,
  ],
  [
    "a duplicate member",
    () => {
      // writeZip refuses two entries of one name: write a same-length name, then rename it
      const l = members(good());
      const zip = Buffer.from(
        rezip([...l.slice(0, 4), { name: "payload.tar.xy", data: l[3]?.data as Uint8Array }]),
      );
      const alias = Buffer.from("payload.tar.xy");
      for (let i = zip.indexOf(alias); i >= 0; i = zip.indexOf(alias, i + 1))
        zip.write("z", i + 13);
      return new Uint8Array(zip);
    },
    /members .*payload\.tar\.xz,payload\.tar\.xz/,
  ],
  [
    "members out of order (payload before tree)",
    () => {
      const l = members(good());
      return rezip([l[0], l[1], l[3], l[2], l[4]] as typeof l);
    },
    /members bundle\.json,bundle\.sig,payload\.tar\.xz,tree\.json\.xz/,
  ],
  [
    "bundle.sig before bundle.json",
    () => {
      const l = members(good());
      return rezip([l[1], l[0], ...l.slice(2)] as typeof l);
    },
    /bundle\.json and bundle\.sig must come first/,
  ],
  ["a deflated member", () => rezip(members(good()), true), /is compressed \(method 8\)/],
  [
    "a local header name differing from the central directory",
    () => {
      const out = new Uint8Array(good());
      out[30 + 10] = "x".charCodeAt(0); // "bundle.json" -> "bundle.jsox", local header only
      return out;
    },
    /local header of bundle\.json differs from the central directory|differ/,
  ],
  [
    "bytes smuggled between the members and the central directory",
    () => {
      const l = members(good());
      const zip = rezip([...l, { name: "evil", data: enc.encode("evil") }]);
      // the central directory names 5 members; the sixth's data stays in the file
      return dropLastEntry(zip);
    },
    /bytes lie between the last member and the central directory/,
  ],
  ["signed by an untrusted key", () => fullBundle(otherKey, v2), /not trusted \(wrong key\)/],
  [
    "tampered bundle.json (sequence raised, old signature kept)",
    () => {
      const list = members(good());
      const h = JSON.parse(new TextDecoder().decode(list[0]?.data)) as BundleManifest;
      h.sequence = 999;
      return rezip([{ name: "bundle.json", data: canonicalJsonBytes(h) }, ...list.slice(1)]);
    },
    /bad signature/,
  ],
  [
    "a tree member that is a decompression bomb, its size signed but not its hash",
    () => {
      // 64 MiB of zeros in ~10 KB of xz in place of the signed tree, bundle.json signed with
      // the bomb's size and the tree's size at the bound: only the stored hash stops it, and
      // it does so before decoding (decoded, it would fail on the decoded hash instead)
      const b = bomb();
      const signed = resign(good(), () => {}, {
        header: (h) => {
          h.tree.stored.size = b.length;
          h.tree.size = 64 * 1024 * 1024;
        },
      });
      const l = members(signed);
      return rezip([l[0], l[1], { name: "tree.json.xz", data: b }, ...l.slice(3)] as typeof l);
    },
    /tree\.json\.xz does not match bundle\.json \(corrupt\)/,
  ],
  [
    "a signed tree decoding to other bytes than tree.sha256",
    () => resign(good(), () => {}, { header: (h) => (h.tree.sha256 = sha256Hex(enc.encode("x"))) }),
    /decoded tree does not match bundle\.json/,
  ],
  [
    "a signed tree member larger than tree.size once decoded (a bomb)",
    () =>
      resign(good(), () => {}, {
        treeBytes: new Uint8Array(8 * 1024 * 1024),
        header: (h) => (h.tree.size = 1000),
      }),
    /decodes to more than the 1000 bytes bundle\.json says/,
  ],
  [
    "an oversized tree",
    () => resign(good(), () => {}, { header: (h) => (h.tree.size = 65 * 1024 * 1024) }),
    /the tree is \d+ bytes, over the 67108864 this agent accepts/,
  ],
  [
    "a tree with fields besides files and symlinks",
    () => {
      const m = { files: appEnv(v2).draft.files, symlinks: [], extra: 1 };
      return resign(good(), () => {}, { treeBytes: canonicalJsonBytes(m) });
    },
    /tree is not \{files, symlinks\}/,
  ],
  [
    "bundle.json carrying the files itself",
    () =>
      resign(good(), () => {}, {
        header: (h) => Object.assign(h, { files: appEnv(v2).draft.files }),
      }),
    /bundle\.json is not a bundle header/,
  ],
  [
    "an sldiff tree against a base this device does not keep",
    () => {
      const other = treeBytesOf(appEnv({ sequence: 1, files: { "x.py": "other\n" } }).draft);
      const { draft, objects } = appEnv(v2);
      const bytes = writeBundle({ manifest: draft, objects, treeBase: other }, key).bytes;
      expect(manifestEncoding(bytes)).toBe("sldiff");
      return bytes;
    },
    /lacks base tree [0-9a-f]{12} of this delta/,
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
  // the agent checks a tree over whole lists first and entry by entry only when that fails:
  // each of these must still be refused, naming why
  ...(
    [
      ["a path not in NFC", "lib/cafe\u0301.py", /path not NFC/],
      ["an empty segment", "lib//evil", /'' segment in path/],
      ["a '.' segment", "lib/./evil", /'\.' segment in path/],
      ["a trailing slash", "lib/evil/", /'' segment in path/],
      ["an empty path", "", /empty path/],
      ["a NUL in a path", "lib/ev\u0000il", /NUL in path/],
    ] as const
  ).map(([name, bad, why]): [string, () => Uint8Array, RegExp] => [
    name,
    () => resign(good(), (m) => ((m.files[0] as { path: string }).path = bad)),
    why,
  ]),
  [
    "files not sorted",
    () => resign(good(), (m) => m.files.reverse()),
    /manifest files not sorted or not unique/,
  ],
  [
    "a path twice",
    () => resign(good(), (m) => m.files.splice(1, 0, { ...(m.files[0] as FileEntry) })),
    /manifest files not sorted or not unique/,
  ],
  [
    "a file that is also a symlink",
    () => resign(good(), (m) => m.symlinks.push({ path: m.files[0]?.path ?? "", target: "lib" })),
    /is a file and a symlink/,
  ],
  [
    "an upper-case hash",
    () => resign(good(), (m) => ((m.files[0] as FileEntry).sha256 = "A".repeat(64))),
    /manifest entry/,
  ],
  [
    "a negative size",
    () => resign(good(), (m) => ((m.files[0] as FileEntry).size = -1)),
    /manifest entry/,
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
    /not named by bundle\.json/,
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
