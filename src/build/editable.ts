/**
 * Editable installs (PEP 660): the backend's `build_editable` wheel points at the source folder
 * (a `.pth` line or an import hook), and the frontend records that in the wheel's
 * `.dist-info/direct_url.json` (PEP 610: `{"url": "file:///…", "dir_info": {"editable": true}}`)
 * with its RECORD line, as pip does. The wheel is rewritten whole (a new zip) before it enters
 * the store; every other member keeps its bytes and mode.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { bufferSource, readZipDirectory, readZipEntry, writeZip } from "../archive/index.ts";
import { SlimenvError } from "../base/index.ts";
import { formatRecordHash, recordHash } from "../standards/record.ts";

/** Add `direct_url.json` naming `sourceDir` as an editable install to the wheel at `wheelPath`. */
export async function markEditable(wheelPath: string, sourceDir: string): Promise<void> {
  const bytes = readFileSync(wheelPath);
  const source = bufferSource(bytes);
  const what = path.basename(wheelPath);
  const dir = await readZipDirectory(source, what);
  const record = dir.entries.find((e) => /^[^/]+\.dist-info\/RECORD$/.test(e.name));
  if (record === undefined) {
    throw new SlimenvError("BUILD_FAILED", `the editable wheel ${what} has no .dist-info/RECORD`);
  }
  const distInfo = record.name.slice(0, record.name.indexOf("/"));
  const directUrl = new TextEncoder().encode(
    `${JSON.stringify({ url: pathToFileURL(path.resolve(sourceDir)).href, dir_info: { editable: true } })}\n`,
  );
  const name = `${distInfo}/direct_url.json`;
  const members: { name: string; data: Uint8Array; mode: number }[] = [];
  for (const entry of dir.entries) {
    if (entry.name.endsWith("/") || entry.name === name) continue;
    const data = await readZipEntry(source, dir, entry, what);
    const unixMode = entry.versionMadeBy >> 8 === 3 ? (entry.externalAttributes >>> 16) & 0o777 : 0;
    members.push({ name: entry.name, data, mode: unixMode || 0o644 });
  }
  const recordEntry = members.find((m) => m.name === record.name);
  if (recordEntry === undefined) throw new SlimenvError("INTERNAL", `lost ${record.name}`);
  const lines = new TextDecoder()
    .decode(recordEntry.data)
    .split(/\r?\n/)
    .filter((l) => l !== "" && !l.startsWith(`${name},`));
  const line = `${name},${formatRecordHash(recordHash(directUrl))},${directUrl.length}`;
  const at = lines.findIndex((l) => l.startsWith(`${record.name},`));
  lines.splice(at < 0 ? lines.length : at, 0, line);
  recordEntry.data = new TextEncoder().encode(`${lines.join("\n")}\n`);
  members.push({ name, data: directUrl, mode: 0o644 });
  const tmp = `${wheelPath}.tmp-${process.pid}`;
  writeFileSync(tmp, writeZip(members));
  renameSync(tmp, wheelPath);
}
