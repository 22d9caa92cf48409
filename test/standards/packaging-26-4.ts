/**
 * Where slimenv deliberately answers as packaging 26.4 (and PEP 440/508) rather than as the
 * pinned oracle, packaging 26.3 (docs/standards.md, "packaging 26.4: what changed and what
 * slimenv decided"). The differential tests skip exactly these inputs, and only when the
 * oracle is older than 26.4; `npm run test:packaging-newest` compares them all.
 */

/** True when the oracle predates 26.4, so the exceptions below apply. */
export function oracleBefore264(packagingVersion: string): boolean {
  const [major = 0, minor = 0] = packagingVersion.split(".").map(Number);
  return major < 26 || (major === 26 && minor < 4);
}

/** An `===` with no version (`===`, `=== ;`, `===,`): 26.3 accepts it, PEP 508 and 26.4 do not. */
export function hasEmptyArbitraryEquality(text: string): boolean {
  // (?=([ \t]*))\1: all the blanks, no backtracking ("=== 1.0" has a version).
  return /===(?=([ \t]*))\1(?=$|[,;)])/.test(text);
}

/**
 * An `===` whose version, as 26.3 reads it (up to whitespace, ";" or ")"), holds a comma:
 * 26.3 kept reading the next clause into it (`===1.0,> 1` was an error), 26.4 and slimenv
 * stop at the comma when the whole list reads as clauses.
 */
export function hasCommaInArbitraryToken(text: string): boolean {
  return /===[ \t]*[^ \t;)]*,/.test(text);
}

/**
 * A cpython_tags() abi list whose free-threading 26.3 and 26.4 judge differently: 26.3 looked
 * at the first entry only, 26.4 (and slimenv) at the first version-specific abi or abi3t.
 */
export function threadingDiffersFrom263(abis: readonly string[]): boolean {
  const cp = (abi: string | undefined) => (abi === undefined ? null : /^cp\d+(.*)$/s.exec(abi));
  const first = cp(abis[0]);
  const old = first !== null && (first[1] ?? "").includes("t");
  let now = false;
  for (const abi of abis) {
    if (abi === "abi3t") {
      now = true;
      break;
    }
    const m = cp(abi);
    if (m !== null) {
      now = (m[1] ?? "").includes("t");
      break;
    }
  }
  return old !== now;
}

/**
 * Not followed (from 26.4 on): where a clause has an epoch and no release (`<1!'.0`), 26.4's
 * faster specifier pattern no longer reads `<1` as a clause, so it reports the error at the
 * operator; slimenv (as 26.3) reports it after `<1`. Only the column of an error differs.
 */
export function epochWithoutRelease(text: string): boolean {
  return /(?:[<>=!~]=?|===?)[ \t]*v?\d+!(?!\d)/i.test(text);
}

/** A requirement or specifier set on which slimenv follows 26.4, not 26.3. */
export function specifierDiffersFrom263(text: string): boolean {
  return hasEmptyArbitraryEquality(text) || hasCommaInArbitraryToken(text);
}

/**
 * A marker evaluation that 26.3 answers and slimenv (with 26.4) refuses: `===` against an
 * empty string is no version comparison (no version on one side) and Python has no `===`;
 * every comparison of a marker is evaluated, so the whole marker is refused.
 */
export function markerEvaluationDiffersFrom263(
  marker: string,
  env: Record<string, string | readonly string[]>,
  theirs: unknown,
  mine: unknown,
): boolean {
  if (!marker.includes("===") || typeof theirs !== "boolean" || mine !== "undefined-comparison") {
    return false;
  }
  return /(["'])\1/.test(marker) || Object.values(env).some((v) => v === "");
}
