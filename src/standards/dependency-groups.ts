/**
 * PEP 735 dependency groups: `[dependency-groups]` with `{include-group = "…"}` expansion,
 * normalized group names, duplicate-after-normalization and cycle errors.
 */

import { canonicalizeName, isValidName } from "./names.ts";
import type { PyprojectReader } from "./pyproject-reader.ts";
import type { Requirement } from "./requirement.ts";

/** `a.b` → `dependency-groups."a.b"`; bare keys stay bare. */
export function tomlKeyPath(prefix: string, key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}.${JSON.stringify(key)}`;
}

/**
 * Validate and expand every group of a `[dependency-groups]` table. The result is keyed
 * by normalized name; each list holds the group's requirements with includes inserted in
 * place, duplicates kept (as the spec says).
 */
export function expandDependencyGroups(
  reader: PyprojectReader,
  value: unknown,
): Record<string, Requirement[]> {
  const table = reader.table(value, "dependency-groups");
  const original = new Map<string, string>();
  for (const name of Object.keys(table)) {
    const key = tomlKeyPath("dependency-groups", name);
    if (!isValidName(name)) reader.fail(key, `${JSON.stringify(name)} is not a valid group name`);
    const normalized = canonicalizeName(name);
    const before = original.get(normalized);
    if (before !== undefined) {
      reader.fail(
        key,
        `groups ${JSON.stringify(before)} and ${JSON.stringify(name)} are the same name once normalized (${normalized})`,
      );
    }
    original.set(normalized, name);
  }

  const done = new Map<string, Requirement[]>();
  const expand = (normalized: string, stack: string[]): Requirement[] => {
    const cached = done.get(normalized);
    if (cached !== undefined) return cached;
    const name = original.get(normalized) as string;
    const key = tomlKeyPath("dependency-groups", name);
    const items = reader.array(table[name], key);
    const out: Requirement[] = [];
    items.forEach((item, i) => {
      const itemKey = `${key}[${i}]`;
      if (typeof item === "string") {
        out.push(reader.requirement(item, itemKey));
        return;
      }
      const keys = item !== null && typeof item === "object" ? Object.keys(item) : [];
      const include = (item as Record<string, unknown> | null)?.["include-group"];
      if (Array.isArray(item) || keys.length !== 1 || keys[0] !== "include-group") {
        reader.fail(itemKey, 'must be a requirement string or a table {include-group = "name"}');
      }
      const target = reader.string(include, `${itemKey}.include-group`);
      const targetNormalized = canonicalizeName(target);
      if (!original.has(targetNormalized)) {
        reader.fail(
          `${itemKey}.include-group`,
          `no dependency group named ${JSON.stringify(target)}`,
        );
      }
      if (targetNormalized === normalized || stack.includes(targetNormalized)) {
        const from = stack.indexOf(targetNormalized);
        const chain = [
          ...stack.slice(from === -1 ? stack.length : from),
          normalized,
          targetNormalized,
        ]
          .map((n) => original.get(n) ?? n)
          .join(" -> ");
        reader.fail(`${itemKey}.include-group`, `include cycle: ${chain}`);
      }
      out.push(...expand(targetNormalized, [...stack, normalized]));
    });
    done.set(normalized, out);
    return out;
  };

  const result: Record<string, Requirement[]> = {};
  for (const normalized of original.keys()) result[normalized] = [...expand(normalized, [])];
  return result;
}
