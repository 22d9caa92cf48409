import { linkSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic, writeFileAtomicSync } from "../../src/base/atomic-write.ts";
import { isSlimenvError } from "../../src/base/errors.ts";
import { tempDir as cleanedTempDir } from "../helpers/tmp.ts";

function tempDir(): string {
  return cleanedTempDir("slimenv-atomic-");
}

describe("atomic writes", () => {
  it("writes text and bytes, creating the folder, leaving no temporary file", async () => {
    const dir = tempDir();
    writeFileAtomicSync(path.join(dir, "a", "x.txt"), "hello");
    await writeFileAtomic(path.join(dir, "b", "y.bin"), new Uint8Array([1, 2, 3]), {
      fsync: true,
      mode: 0o640,
    });
    expect(readFileSync(path.join(dir, "a", "x.txt"), "utf8")).toBe("hello");
    expect([...readFileSync(path.join(dir, "b", "y.bin"))]).toEqual([1, 2, 3]);
    expect(statSync(path.join(dir, "b", "y.bin")).mode & 0o777).toBe(0o640);
    expect(readdirSync(path.join(dir, "a"))).toEqual(["x.txt"]);
    expect(readdirSync(path.join(dir, "b"))).toEqual(["y.bin"]);
  });

  it("never writes through an existing hard link", async () => {
    const dir = tempDir();
    const original = path.join(dir, "object");
    const linked = path.join(dir, "env-file");
    writeFileSync(original, "store bytes");
    linkSync(original, linked);
    writeFileAtomicSync(linked, "new bytes");
    await writeFileAtomic(linked, "newer bytes");
    expect(readFileSync(original, "utf8")).toBe("store bytes");
    expect(readFileSync(linked, "utf8")).toBe("newer bytes");
  });

  it("fails with IO_ERROR and the hint, and leaves nothing behind", async () => {
    const dir = tempDir();
    const file = path.join(dir, "missing", "x.txt");
    let err: unknown;
    try {
      writeFileAtomicSync(file, "x", { mkdir: false, hint: "make the folder" });
    } catch (e) {
      err = e;
    }
    expect(isSlimenvError(err) && err.code === "IO_ERROR" && err.hint === "make the folder").toBe(
      true,
    );
    expect((err as Error).message).toMatch(/^cannot write .*x\.txt: ENOENT/);
    await expect(writeFileAtomic(file, "x", { mkdir: false })).rejects.toThrow(/cannot write/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
