/**
 * Evaluation of a parsed PEP 508 marker against an environment, with pypa/packaging's
 * semantics: version variables compare as PEP 440 versions when the other side makes a
 * valid specifier, everything else compares as strings (where `<`/`>` are never true and
 * `<=`/`>=` mean equality), `extra` is compared PEP 685-normalized, and every comparison
 * in the expression is evaluated (an invalid comparison fails even if the result is known).
 */
import { isSlimenvError, SlimenvError } from "../base/index.ts";
import type { MarkerComparison, MarkerNode, MarkerOp } from "./markers-parse.ts";
import { canonicalizeName } from "./names.ts";
import { Specifier } from "./specifiers.ts";

/** Flattened environment: a variable's value is a string, or a set for `extras` and such. */
export type EvaluationEnvironment = Readonly<Record<string, string | ReadonlySet<string>>>;

/** Variables that compare as versions when the operand forms a valid specifier. */
const VERSION_VARIABLES = new Set([
  "implementation_version",
  "platform_release",
  "python_full_version",
  "python_version",
]);

/** Set-valued variables (PEP 751 lock files): members compared normalized. */
const SET_VARIABLES = new Set(["extras", "dependency_groups"]);

export function evaluateNode(node: MarkerNode, env: EvaluationEnvironment): boolean {
  if (node.type === "comparison") return evaluateComparison(node, env);
  let anyGroup = false;
  let current = true;
  node.items.forEach((item, i) => {
    const value = evaluateNode(item, env);
    if (i > 0 && node.joins[i - 1] === "or") {
      anyGroup ||= current;
      current = true;
    }
    current &&= value;
  });
  return anyGroup || current;
}

function lookup(env: EvaluationEnvironment, name: string): string | ReadonlySet<string> {
  const value = Object.hasOwn(env, name) ? env[name] : undefined;
  if (value === undefined) {
    throw new SlimenvError(
      "MARKER_EVALUATION",
      `Marker variable "${name}" is not defined in the environment`,
      { hint: "Evaluate markers against a complete marker environment (the target's)." },
    );
  }
  return value;
}

function evaluateComparison(c: MarkerComparison, env: EvaluationEnvironment): boolean {
  let key: string;
  let lhs: string | ReadonlySet<string>;
  let rhs: string | ReadonlySet<string>;
  if (c.left.kind === "variable") {
    key = c.left.name;
    lhs = lookup(env, key);
    rhs = c.right.kind === "variable" ? c.right.name : c.right.value;
  } else {
    lhs = c.left.value;
    key = c.right.kind === "variable" ? c.right.name : c.right.value;
    rhs = lookup(env, key);
  }
  if (typeof lhs !== "string") {
    throw new SlimenvError(
      "MARKER_EVALUATION",
      `Marker variable "${key}" holds a set and can only be tested with "<name>" in ${key}, not on the left of ${c.op}`,
    );
  }
  if (SET_VARIABLES.has(key)) {
    lhs = canonicalizeName(lhs);
    rhs = typeof rhs === "string" ? canonicalizeName(rhs) : new Set([...rhs].map(canonicalizeName));
  }
  if (VERSION_VARIABLES.has(key) && typeof rhs === "string") {
    const spec = specifierOrUndefined(c.op, rhs);
    if (spec !== undefined) return containsVersion(spec, lhs);
  }
  return compareStrings(lhs, c.op, rhs);
}

function specifierOrUndefined(op: MarkerOp, rhs: string): Specifier | undefined {
  if (op === "in" || op === "not in") return undefined;
  try {
    return new Specifier(`${op}${rhs}`);
  } catch (err) {
    if (isSlimenvError(err, "INVALID_SPECIFIER")) return undefined;
    throw err;
  }
}

function containsVersion(spec: Specifier, version: string): boolean {
  try {
    return spec.contains(version, { prereleases: true });
  } catch (err) {
    // An unparsable version is never contained (packaging ≥ 26).
    if (isSlimenvError(err, "INVALID_VERSION")) return false;
    throw err;
  }
}

function compareStrings(lhs: string, op: MarkerOp, rhs: string | ReadonlySet<string>): boolean {
  const equal = typeof rhs === "string" ? lhs === rhs : false;
  switch (op) {
    case "in":
      return typeof rhs === "string" ? rhs.includes(lhs) : rhs.has(lhs);
    case "not in":
      return typeof rhs === "string" ? !rhs.includes(lhs) : !rhs.has(lhs);
    case "==":
    case "<=":
    case ">=":
      return equal;
    case "!=":
      return !equal;
    case "<":
    case ">":
      return false;
    default:
      throw new SlimenvError(
        "MARKER_EVALUATION",
        `Cannot evaluate ${JSON.stringify(lhs)} ${op} ${typeof rhs === "string" ? JSON.stringify(rhs) : "{...}"}: ${op} needs PEP 440 versions on both sides`,
      );
  }
}
