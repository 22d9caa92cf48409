/**
 * The slim transform's dropping steps: drop rules and overrides (minus what the import scan
 * keeps), and usage-based pruning.
 */
import type { SlimContext } from "../../env/types.ts";
import { dropClassifier } from "../drop/classify.ts";
import { keptByImports, type ScanCandidate, type ScanFile } from "../drop/imports.ts";
import type { SlimPolicy } from "../policy.ts";
import type { UsageKeep } from "../usage/keep.ts";
import { isSiteSource, type ObjectFile, readText, type SlimFile } from "./files.ts";
import type { PackageState } from "./summary.ts";

/** Drop rules and overrides, minus the scopes the import scan keeps. */
export async function applyDrops(states: PackageState[], policy: SlimPolicy, ctx: SlimContext) {
  const classifier = dropClassifier(policy.drop, { keep: policy.keep, drop: policy.dropGlobs });
  const candidates = new Map<SlimFile, { state: PackageState; rule: string; scope: string }>();
  for (const state of states) {
    if (state.skipped) continue;
    for (const f of state.files) {
      if (f.rulePath === undefined) continue;
      const c = classifier.classify(f.rulePath);
      if (c !== undefined) candidates.set(f, { state, rule: c.rule, scope: c.scope });
    }
  }
  if (candidates.size === 0) return;
  const scanFile = (f: SlimFile & { rulePath: string; file: ObjectFile }): ScanFile => ({
    rulePath: f.rulePath,
    read: () => readText(ctx.store, f.file),
  });
  const code: ScanFile[] = [];
  for (const state of states) {
    for (const f of state.files) {
      if (isSiteSource(f) && !candidates.has(f)) code.push(scanFile(f));
    }
  }
  const pyCandidates: ScanCandidate[] = [];
  for (const [f, c] of candidates) {
    if (isSiteSource(f)) pyCandidates.push({ ...scanFile(f), scope: c.scope });
  }
  const kept = await keptByImports(code, pyCandidates);
  for (const state of states) {
    if (state.skipped) continue;
    const keep: SlimFile[] = [];
    for (const f of state.files) {
      const c = candidates.get(f);
      const keepIt =
        c !== undefined &&
        (isSiteSource(f)
          ? kept.files.has(f.rulePath)
          : kept.scopes.has(c.scope) && c.scope !== f.rulePath);
      if (c === undefined) {
        keep.push(f);
      } else if (keepIt) {
        keep.push(f);
        if (!state.summary.keptByImports.includes(c.scope))
          state.summary.keptByImports.push(c.scope);
      } else {
        state.summary.droppedFiles++;
        state.summary.droppedBytes += f.file.kind === "object" ? f.file.size : f.file.bytes.length;
        state.summary.byRule[c.rule] = (state.summary.byRule[c.rule] ?? 0) + 1;
      }
    }
    state.files = keep;
  }
  for (const scope of kept.scopes) {
    ctx.reporter.log("info", `kept what code imports from ${scope}`);
  }
}

/** Usage-based pruning: site files the traced command never touched are dropped. */
export function applyUsage(states: PackageState[], keep: UsageKeep) {
  for (const state of states) {
    if (state.skipped) continue;
    state.files = state.files.filter((f) => {
      if (!f.inSite || f.rulePath === undefined || keep.keeps(f.rulePath)) return true;
      state.summary.droppedFiles++;
      state.summary.droppedBytes += f.file.kind === "object" ? f.file.size : f.file.bytes.length;
      state.summary.byRule.unused = (state.summary.byRule.unused ?? 0) + 1;
      return false;
    });
  }
}
