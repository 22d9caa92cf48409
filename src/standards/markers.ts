/**
 * PEP 508 environment markers: `python_version >= "3.8" and sys_platform == "linux"`.
 * Parsing, canonical text and evaluation match pypa/packaging (newest).
 */
import { SlimenvError } from "../base/index.ts";
import { evaluateNode } from "./markers-evaluate.ts";
import type { MarkerGroup } from "./markers-parse.ts";
import { formatMarker, parseMarkerExpression, Scanner } from "./markers-parse.ts";
import { canonicalizeName } from "./names.ts";

/** The values a marker can test, as PEP 508 names them. */
export interface MarkerEnvironment {
  implementation_name: string;
  implementation_version: string;
  os_name: string;
  platform_machine: string;
  platform_release: string;
  platform_system: string;
  platform_version: string;
  python_full_version: string;
  platform_python_implementation: string;
  python_version: string;
  sys_platform: string;
}

/**
 * What `Marker.evaluate` accepts: the environment, plus the extra being installed
 * (`extra`, absent or "" = none), and for lock files (PEP 751) the sets `extras` and
 * `dependency_groups`.
 */
export type MarkerEvaluationEnvironment = Partial<MarkerEnvironment> & {
  extra?: string | undefined;
  extras?: Iterable<string> | undefined;
  dependency_groups?: Iterable<string> | undefined;
};

/** Set by Marker.fromTree just around the constructor call that adopts the tree. */
let adopting: MarkerGroup | undefined;

export class Marker {
  readonly #tree: MarkerGroup;

  /** Parses marker text; throws INVALID_MARKER pointing at the column that is wrong. */
  constructor(text: string) {
    if (adopting !== undefined) {
      this.#tree = adopting;
      adopting = undefined;
      return;
    }
    const sc = new Scanner(text, "INVALID_MARKER", "marker");
    const tree = parseMarkerExpression(sc);
    if (!sc.atEnd()) sc.fail("expected 'and', 'or' or the end of the marker");
    this.#tree = tree;
  }

  /** A Marker from an already parsed expression (used by Requirement). */
  static fromTree(tree: MarkerGroup): Marker {
    adopting = tree;
    return new Marker("");
  }

  /** The parsed expression (read-only data). */
  get tree(): MarkerGroup {
    return this.#tree;
  }

  /**
   * True when the environment satisfies the marker. Every variable the marker uses must be
   * in `environment` (MARKER_EVALUATION otherwise), except `extra`, which defaults to "".
   */
  evaluate(environment?: MarkerEvaluationEnvironment): boolean {
    if (environment === undefined) {
      throw new SlimenvError(
        "MARKER_EVALUATION",
        "Cannot evaluate a marker without an environment",
        {
          hint: "Pass the target's marker environment.",
        },
      );
    }
    const env: Record<string, string | ReadonlySet<string>> = {};
    for (const [key, value] of Object.entries(environment)) {
      if (typeof value === "string") env[key] = value;
      else if (value !== undefined && value !== null && typeof value === "object") {
        env[key] = new Set(value as Iterable<string>);
      }
    }
    const extra = environment.extra;
    env.extra = typeof extra === "string" && extra !== "" ? canonicalizeName(extra) : "";
    const full = env.python_full_version;
    if (typeof full === "string" && full.endsWith("+")) env.python_full_version = `${full}local`;
    return evaluateNode(this.#tree, env);
  }

  /** `this and other`, as one marker. */
  and(other: Marker): Marker {
    return Marker.fromTree({ type: "group", items: [this.#tree, other.#tree], joins: ["and"] });
  }

  /** `this or other`, as one marker. */
  or(other: Marker): Marker {
    return Marker.fromTree({ type: "group", items: [this.#tree, other.#tree], joins: ["or"] });
  }

  /** Same canonical text. */
  equals(other: Marker): boolean {
    return this.toString() === other.toString();
  }

  /** Canonical text, as packaging's str(Marker). */
  toString(): string {
    return formatMarker(this.#tree);
  }
}
