/**
 * A minimal in-test store with the `EnvStore` interface: imports wheels built with
 * test/helpers/wheels.ts into a temp dir of read-only objects (objects/<h[0:2]>/<h[2:]>, `.x`
 * for executables), makes per-wheel trees for link mode pth, and records registrations.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { chmod, link, mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { bufferSource, readZipDirectory, readZipEntry } from "../../src/archive/zip-read.ts";
import type { EnvStore } from "../../src/env/types.ts";
import { parseWheelFile } from "../../src/standards/wheel-file.ts";
import { parseWheelFilename } from "../../src/standards/wheel-filename.ts";
import type { StoredFile, StoredWheel } from "../../src/store/types.ts";
import { tempDir } from "../helpers/tmp.ts";

export class FakeStore implements EnvStore {
  readonly root: string;
  readonly registered: { envPath: string; wheels: StoredWheel[]; manifestPath: string }[] = [];

  constructor(root?: string) {
    this.root = root ?? tempDir("slimenv-fake-store-");
    mkdirSync(path.join(this.root, "objects"), { recursive: true });
  }

  objectPath(hash: string, exec: boolean): string {
    return path.join(this.root, "objects", hash.slice(0, 2), `${hash.slice(2)}${exec ? ".x" : ""}`);
  }

  async importWheel(built: { filename: string; bytes: Uint8Array }): Promise<StoredWheel> {
    const source = bufferSource(built.bytes);
    const dir = await readZipDirectory(source, built.filename);
    const files: StoredFile[] = [];
    let record = "";
    let rootIsPurelib = true;
    for (const entry of dir.entries) {
      if (entry.name.endsWith("/")) continue;
      const bytes = await readZipEntry(source, dir, entry, built.filename);
      const mode = (entry.externalAttributes >>> 16) & 0o777;
      const exec = (mode & 0o111) !== 0;
      const hash = createHash("sha256").update(bytes).digest("hex");
      const file = this.objectPath(hash, exec);
      if (!existsSync(file)) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(`${file}.tmp`, bytes);
        await chmod(`${file}.tmp`, exec ? 0o555 : 0o444);
        await rename(`${file}.tmp`, file);
      }
      files.push({ path: entry.name, hash, exec, size: bytes.length });
      if (/^[^/]+\.dist-info\/RECORD$/.test(entry.name)) record = new TextDecoder().decode(bytes);
      if (/^[^/]+\.dist-info\/WHEEL$/.test(entry.name)) {
        rootIsPurelib = parseWheelFile(new TextDecoder().decode(bytes)).rootIsPurelib;
      }
    }
    const parsed = parseWheelFilename(built.filename);
    return {
      sha256: createHash("sha256").update(built.bytes).digest("hex"),
      filename: built.filename,
      name: parsed.name,
      version: parsed.version.toString(),
      tags: parsed.tags.map((t) => t.toString()),
      rootIsPurelib,
      files,
      record,
    };
  }

  async wheelTree(wheel: StoredWheel): Promise<string> {
    const tree = path.join(this.root, "trees", wheel.sha256);
    if (existsSync(tree)) return tree;
    const temp = `${tree}.tmp`;
    for (const f of wheel.files) {
      const dest = path.join(temp, ...f.path.split("/"));
      await mkdir(path.dirname(dest), { recursive: true });
      await link(this.objectPath(f.hash, f.exec), dest);
    }
    await rename(temp, tree);
    return tree;
  }

  registerEnv(envPath: string, wheels: StoredWheel[], manifestPath: string): void {
    this.registered.push({ envPath, wheels, manifestPath });
  }
}
