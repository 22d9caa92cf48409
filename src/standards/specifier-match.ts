/**
 * What each PEP 440 comparison operator admits, on exact version parts, without any
 * pre-release policy (that is applied by Specifier / SpecifierSet). The rules follow
 * PEP 440 and match pypa/packaging's range semantics:
 *   - `==V` / `!=V` / `<=V` ignore a candidate's local label unless V has one;
 *   - `==V.*` is the half-open range [V.dev0, next-prefix.dev0);
 *   - `~=X.Y` is `>=X.Y` and below the next prefix's .dev0;
 *   - `<V` excludes V's pre-releases unless V is one (bound V.dev0);
 *   - `>V` excludes V's post-releases and local versions unless V is a post-release.
 */
import { compareParts, incrementDigits, sameRelease, type VersionParts } from "./version-parse.ts";

export type ComparisonOperator = "~=" | "==" | "!=" | "<=" | ">=" | "<" | ">";

export interface SpecTarget {
  readonly operator: ComparisonOperator;
  /** The specifier's version (for `.*`, without the `.*`). */
  readonly version: VersionParts;
  readonly wildcard: boolean;
  readonly hasLocal: boolean;
}

function devZero(epoch: string, release: readonly string[]): VersionParts {
  return { epoch, release, pre: undefined, post: undefined, dev: "0", local: undefined };
}

/** The first version of the series after `release`'s prefix: 1.2 → 1.3.dev0. */
function nextPrefixDevZero(epoch: string, release: readonly string[]): VersionParts {
  const last = release[release.length - 1] ?? "0";
  return devZero(epoch, [...release.slice(0, -1), incrementDigits(last)]);
}

function inPrefix(candidate: VersionParts, base: VersionParts): boolean {
  return (
    compareParts(candidate, devZero(base.epoch, base.release)) >= 0 &&
    compareParts(candidate, nextPrefixDevZero(base.epoch, base.release)) < 0
  );
}

function equalTo(candidate: VersionParts, t: SpecTarget): boolean {
  if (t.wildcard) return inPrefix(candidate, t.version);
  return compareParts(candidate, t.version, !t.hasLocal) === 0;
}

function greaterThan(candidate: VersionParts, v: VersionParts): boolean {
  if (v.dev !== undefined) {
    // Nothing sits between V.devN (and its locals) and V.dev(N+1).
    return compareParts(candidate, { ...v, dev: incrementDigits(v.dev), local: undefined }) >= 0;
  }
  if (v.post !== undefined) {
    return (
      compareParts(candidate, {
        ...v,
        post: incrementDigits(v.post),
        dev: "0",
        local: undefined,
      }) >= 0
    );
  }
  if (compareParts(candidate, v) <= 0) return false;
  // Above V, but V's own post-releases and local versions are not "greater" (PEP 440).
  return !(sameRelease(candidate, v) && samePre(candidate, v));
}

function samePre(a: VersionParts, b: VersionParts): boolean {
  if (a.pre === undefined || b.pre === undefined) return a.pre === b.pre;
  return a.pre[0] === b.pre[0] && a.pre[1] === b.pre[1];
}

function lessThan(candidate: VersionParts, v: VersionParts): boolean {
  const isPre = v.pre !== undefined || v.dev !== undefined;
  const bound = isPre ? v : { ...v, dev: "0", local: undefined };
  return compareParts(candidate, bound) < 0;
}

/** Whether `candidate` satisfies the clause (no pre-release policy applied). */
export function clauseAdmits(t: SpecTarget, candidate: VersionParts): boolean {
  const v = t.version;
  switch (t.operator) {
    case ">=":
      return compareParts(candidate, v) >= 0;
    case "<=":
      return compareParts(candidate, v, true) <= 0;
    case "==":
      return equalTo(candidate, t);
    case "!=":
      return !equalTo(candidate, t);
    case "~=":
      return (
        compareParts(candidate, v) >= 0 &&
        compareParts(candidate, nextPrefixDevZero(v.epoch, v.release.slice(0, -1))) < 0
      );
    case "<":
      return lessThan(candidate, v);
    case ">":
      return greaterThan(candidate, v);
  }
}
