/**
 * Payload xz with an x86 block: several xz streams spliced into one (xz-blocks.ts), read back
 * by the xz binary and by the lzma module of the oldest and newest CPython the agent supports.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { compressPayload, xzDecompress } from "../../src/bundle/compress.ts";
import { spliceXz } from "../../src/bundle/xz-blocks.ts";
import { bytesReader, parseElf } from "../../src/elf/index.ts";
import { command, describeWith, itWith, pyenv } from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";

const XZ = command("xz", "xz-utils");
const PY38 = pyenv("3.8");
const PY313 = pyenv("3.13");

/** What python's lzma makes of `xz` (one FORMAT_XZ stream, nothing after it): hex sha256. */
function pythonDecodes(python: string, xz: Uint8Array): string {
  const r = spawnSync(
    python,
    [
      "-I",
      "-c",
      [
        "import hashlib, lzma, sys",
        "d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)",
        "out = d.decompress(sys.stdin.buffer.read())",
        "assert d.eof and not d.unused_data",
        "print(hashlib.sha256(out).hexdigest())",
      ].join("\n"),
    ],
    { input: xz, maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString().trim();
}

const sha = (d: Uint8Array) => {
  const r = spawnSync("sha256sum", [], { input: d });
  return r.stdout.toString().split(" ")[0] as string;
};

describeWith(XZ)("payload xz blocks", () => {
  // Real x86-64 code (1 MiB of node's own .text), then text.
  const exe = realpathSync(process.execPath);
  const bytes = readFileSync(exe);
  const text0 = parseElf(bytesReader(bytes), bytes.length).sections.find((x) => x.name === ".text");
  const at = text0?.offset ?? 0;
  const code = new Uint8Array(bytes.subarray(at, at + (1 << 20)));
  const text = new Uint8Array(Buffer.from("def f(x):\n    return x + 1\n".repeat(2000)));
  const data = new Uint8Array(Buffer.concat([code, text]));

  it("splits at the x86 prefix: two blocks, the same bytes back, deterministic", () => {
    const split = compressPayload(data, "xz", { x86Prefix: code.length });
    expect(Buffer.from(xzDecompress(split)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(compressPayload(data, "xz", { x86Prefix: code.length }))).toEqual(
      Buffer.from(split),
    );
    const file = path.join(tempDir("slimenv-xz-"), "split.xz");
    writeFileSync(file, split);
    const list = spawnSync("xz", ["--robot", "-lvv", file]).stdout.toString();
    const blocks = list.split("\n").filter((l) => l.startsWith("block\t"));
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/x86/);
    expect(blocks[1]).not.toMatch(/x86/);
    expect(spawnSync("xz", ["-t", "-"], { input: split }).status).toBe(0);
    // the filter pays on code: the split payload is smaller than a plain one
    const plain = compressPayload(data, "xz");
    expect(split.length).toBeLessThan(plain.length);
    // no prefix, or all of it: one stream as xz writes it
    expect(Buffer.from(xzDecompress(compressPayload(data, "xz", { x86Prefix: 0 })))).toEqual(
      Buffer.from(data),
    );
    const all = compressPayload(data, "xz", { x86Prefix: data.length + 5 });
    expect(Buffer.from(xzDecompress(all))).toEqual(Buffer.from(data));
  });

  itWith(PY38, PY313)("is read by python 3.8's and 3.13's lzma", () => {
    const split = compressPayload(data, "xz", { x86Prefix: code.length });
    const three = spliceXz([
      compressPayload(code, "xz", { x86Prefix: code.length }),
      compressPayload(text, "xz"),
      compressPayload(new Uint8Array(0), "xz"),
    ]);
    for (const py of [PY38.exe, PY313.exe] as string[]) {
      expect(pythonDecodes(py, split)).toBe(sha(data));
      expect(pythonDecodes(py, three)).toBe(sha(data));
    }
  });

  it("refuses what it cannot splice", () => {
    const one = compressPayload(text, "xz");
    expect(() => spliceXz([])).toThrow(/nothing to splice/);
    expect(() => spliceXz([one.subarray(0, 10)])).toThrow(/no header/);
    expect(() => spliceXz([new Uint8Array([...one, ...one])])).toThrow(/does not account/);
    const crc32 = spawnSync("xz", ["-c", "--check=crc32"], { input: text }).stdout;
    expect(() => spliceXz([one, new Uint8Array(crc32)])).toThrow(/different check types/);
  });
});
