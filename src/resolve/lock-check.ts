/**
 * `lock --check`: compare an existing lock with the lock slimenv would write now (resolved
 * with the existing lock's versions as preferences, so a new upstream release alone does not
 * make a lock stale). Says why they differ: the inputs' fingerprint, the target, packages
 * added / removed / changed, the file set of a package, or (when nothing more specific is
 * found) that the text differs.
 */
import type { Pylock, PylockPackage } from "../standards/pylock-types.ts";
import { describeTargetTable } from "./lock-target.ts";

export interface LockComparison {
  upToDate: boolean;
  reasons: string[];
}

function slimenvTool(lock: Pylock): Record<string, unknown> | undefined {
  const tool = lock.tool?.slimenv;
  return typeof tool === "object" && tool !== null ? (tool as Record<string, unknown>) : undefined;
}

function fileSet(pkg: PylockPackage): Map<string, string> {
  const out = new Map<string, string>();
  const add = (
    label: string,
    f: { name?: string; url?: string; path?: string; hashes: Record<string, string> },
  ) => {
    const id = f.name ?? f.url ?? f.path ?? label;
    out.set(id, JSON.stringify(Object.entries(f.hashes).sort()));
  };
  for (const w of pkg.wheels ?? []) add("wheel", w);
  if (pkg.sdist !== undefined) add("sdist", pkg.sdist);
  if (pkg.archive !== undefined) add("archive", pkg.archive);
  return out;
}

function firstDifferentLine(a: string, b: string): string | undefined {
  const la = a.split("\n");
  const lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      return `line ${i + 1}: ${JSON.stringify(la[i] ?? "")} would now be ${JSON.stringify(lb[i] ?? "")}`;
    }
  }
  return undefined;
}

/** Compare an existing lock (and its text) with a freshly made one. */
export function compareLocks(
  existing: Pylock,
  existingText: string,
  fresh: Pylock,
  freshText: string,
): LockComparison {
  if (existingText === freshText) return { upToDate: true, reasons: [] };
  const reasons: string[] = [];
  const oldTool = slimenvTool(existing);
  const newTool = slimenvTool(fresh);
  if (oldTool === undefined) {
    reasons.push("the lock has no [tool.slimenv] fingerprint: it was not written by slimenv lock");
  } else if (oldTool["inputs-sha256"] !== newTool?.["inputs-sha256"]) {
    reasons.push(
      "the inputs changed since the lock was written (requirements, constraints, extras, groups, indexes or options)",
    );
  }
  const oldTarget = oldTool?.target as Record<string, unknown> | undefined;
  const newTarget = newTool?.target as Record<string, unknown> | undefined;
  if (oldTool !== undefined && JSON.stringify(oldTarget) !== JSON.stringify(newTarget)) {
    reasons.push(
      `the target changed: the lock is for ${describeTargetTable(oldTarget)}, the target now is ${describeTargetTable(newTarget)}`,
    );
  }
  const byName = (lock: Pylock) => new Map(lock.packages.map((p) => [p.name, p]));
  const before = byName(existing);
  const after = byName(fresh);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const name of names) {
    const a = before.get(name);
    const b = after.get(name);
    if (a === undefined && b !== undefined) {
      reasons.push(`package added: ${name} ${b.version ?? ""}`.trimEnd());
    } else if (a !== undefined && b === undefined) {
      reasons.push(`package removed: ${name} ${a.version ?? ""}`.trimEnd());
    } else if (a !== undefined && b !== undefined) {
      if (a.version !== b.version) {
        reasons.push(`package changed: ${name} ${a.version ?? "?"} -> ${b.version ?? "?"}`);
        continue;
      }
      const fa = fileSet(a);
      const fb = fileSet(b);
      const gone = [...fa.keys()].filter((k) => !fb.has(k));
      const added = [...fb.keys()].filter((k) => !fa.has(k));
      const rehashed = [...fa.keys()].filter((k) => fb.has(k) && fa.get(k) !== fb.get(k));
      if (gone.length + added.length + rehashed.length > 0) {
        const parts = [
          ...added.map((k) => `+${k}`),
          ...gone.map((k) => `-${k}`),
          ...rehashed.map((k) => `${k} (hashes differ)`),
        ];
        reasons.push(`files of ${name} ${b.version ?? ""} changed: ${parts.join(", ")}`);
      }
    }
  }
  if (reasons.length === 0) {
    const where = firstDifferentLine(existingText, freshText);
    reasons.push(`the lock file differs from what slimenv writes now${where ? ` (${where})` : ""}`);
  }
  return { upToDate: false, reasons };
}
