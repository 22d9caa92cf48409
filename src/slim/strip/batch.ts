/**
 * Strip a set of native files and prove they still load: files the never-strip rules name are
 * left alone, each other ELF file is stripped (its original kept aside), then every stripped
 * file is loaded in the target interpreter; one that no longer loads gets its original back.
 * The caller passes writable copies (never store objects).
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isSlimenvError } from "../../base/index.ts";
import { readElfInfo } from "../../elf/index.ts";
import { NEVER_STRIP, type NeverStripRule, neverStripReason } from "./never-strip.ts";
import { type StripFileOptions, type StripMode, stripFile } from "./strip-file.ts";
import { hostArch, normalizeArch } from "./tool.ts";
import { type LoadResult, verifyLoads } from "./verify.ts";

export interface StripItem {
  /** The writable file to strip. */
  path: string;
  /** Its path relative to the site directory or env root, for the never-strip rules. */
  rel: string;
}

export type StripOutcome =
  /** Stripped and loads. */
  | "stripped"
  /** Stripped; not loaded (another architecture than the interpreter's, or no interpreter). */
  | "stripped-unverified"
  /** Stripping would not make it smaller. */
  | "unchanged"
  /** A never-strip rule or a tool rule kept it as it was. */
  | "kept"
  /** Stripped, failed to load, original put back. */
  | "reverted"
  /** Not an ELF file. */
  | "not-elf";

export interface StripItemResult {
  path: string;
  rel: string;
  outcome: StripOutcome;
  before: number;
  after: number;
  /** The rule, refusal or load error behind kept / reverted / stripped-unverified. */
  reason?: string;
  tool?: string;
}

export interface StripAndVerifyOptions extends StripFileOptions {
  mode: StripMode;
  /** The target interpreter to load files in; without it nothing is verified. */
  interpreter?: string;
  siteDir?: string;
  env?: NodeJS.ProcessEnv;
  rules?: readonly NeverStripRule[];
  /** The interpreter's architecture (default: the host's). */
  arch?: string;
}

export async function stripAndVerify(
  items: readonly StripItem[],
  options: StripAndVerifyOptions,
): Promise<StripItemResult[]> {
  const rules = options.rules ?? NEVER_STRIP;
  const arch = normalizeArch(options.arch ?? hostArch());
  const backups = mkdtempSync(path.join(os.tmpdir(), "slimenv-strip-"));
  const results: StripItemResult[] = [];
  const backupOf = new Map<string, string>();
  try {
    for (const [i, item] of items.entries()) {
      const info = readElfInfo(item.path);
      if (info === undefined) {
        results.push({ ...item, outcome: "not-elf", before: 0, after: 0 });
        continue;
      }
      const rule = neverStripReason(item.rel, rules);
      if (rule !== undefined) {
        results.push({ ...item, outcome: "kept", before: 0, after: 0, reason: rule });
        continue;
      }
      const backup = path.join(backups, String(i));
      copyFileSync(item.path, backup);
      try {
        const r = stripFile(item.path, options.mode, options);
        if (!r.changed) {
          results.push({ ...item, outcome: "unchanged", before: r.before, after: r.after });
          continue;
        }
        backupOf.set(item.path, backup);
        const verifiable = options.interpreter !== undefined && info.arch === arch;
        results.push({
          ...item,
          outcome: verifiable ? "stripped" : "stripped-unverified",
          before: r.before,
          after: r.after,
          tool: r.tool.command,
          ...(verifiable
            ? {}
            : {
                reason:
                  options.interpreter === undefined
                    ? "no interpreter to load it in"
                    : `built for ${info.arch}, the interpreter runs ${arch}`,
              }),
        });
      } catch (err) {
        if (!isSlimenvError(err, "STRIP_FAILED")) throw err;
        results.push({ ...item, outcome: "kept", before: 0, after: 0, reason: err.message });
      }
    }
    if (options.interpreter !== undefined) {
      await verifyAndRevert(results, backupOf, options, items, arch);
    }
    return results;
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }
}

/**
 * Load every stripped file; a file can fail because another stripped file it needs is broken
 * (an extension module whose vendored library no longer loads), so: put back every file that
 * failed, then strip and load those again one at a time (libraries first) with the rest in a
 * known state, keeping only the ones that now load; last, load everything once more and put
 * back whatever still fails.
 */
async function verifyAndRevert(
  results: StripItemResult[],
  backupOf: Map<string, string>,
  options: StripAndVerifyOptions,
  items: readonly StripItem[],
  arch: string,
): Promise<void> {
  const interpreter = options.interpreter as string;
  const verifyOptions = {
    ...(options.siteDir === undefined ? {} : { siteDir: options.siteDir }),
    ...(options.env === undefined ? {} : { env: options.env }),
    siblings: items.map((i) => i.path),
    arch,
  };
  const load = (list: StripItemResult[]): Promise<LoadResult[]> =>
    verifyLoads(
      list.map((r) => r.path),
      interpreter,
      verifyOptions,
    );
  const revert = (r: StripItemResult, reason: string) => {
    const backup = backupOf.get(r.path);
    if (backup !== undefined) copyFileSync(backup, r.path);
    r.outcome = "reverted";
    r.reason = reason;
    r.after = r.before;
  };
  const stripped = () => results.filter((r) => r.outcome === "stripped");
  const first = stripped();
  const loads = await load(first);
  const failed = first
    .map((r, i) => ({ r, load: loads[i] }))
    .filter((x) => x.load?.status === "failed");
  for (const { r, load: l } of failed) revert(r, l?.error ?? "does not load");
  failed.sort(
    (a, b) => Number(a.load?.kind === "extension") - Number(b.load?.kind === "extension"),
  );
  for (const { r } of failed) {
    const again = stripFile(r.path, options.mode, options);
    const [l] = await load([r]);
    if (l?.status === "failed") {
      revert(r, l.error ?? "does not load");
    } else {
      r.outcome = "stripped";
      r.after = again.after;
      delete r.reason;
    }
  }
  if (failed.length === 0) return;
  const last = stripped();
  const finalLoads = await load(last);
  last.forEach((r, i) => {
    const l = finalLoads[i];
    if (l?.status === "failed") revert(r, l.error ?? "does not load");
  });
}
