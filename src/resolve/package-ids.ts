/**
 * Package ids as the solver sees them: a canonical name, or "name[extra]" for the virtual
 * package of an extra.
 */
import { canonicalizeName, normalizeExtra } from "../standards/names.ts";
import type { Requirement } from "../standards/requirement.ts";

/** The package an id belongs to: `name[extra]` → `name`. */
export function baseName(id: string): string {
  const open = id.indexOf("[");
  return open < 0 ? id : id.slice(0, open);
}

/** The extra of a virtual id, undefined for a real package. */
export function extraOf(id: string): string | undefined {
  const open = id.indexOf("[");
  return open < 0 ? undefined : id.slice(open + 1, -1);
}

/** The package ids a requirement points at: the package, or one virtual id per extra. */
export function requirementTargetIds(req: Requirement): string[] {
  const name = canonicalizeName(req.name);
  if (req.extras.length === 0) return [name];
  return [...new Set(req.extras.map((e) => `${name}[${normalizeExtra(e)}]`))];
}
