/**
 * The options a requirements file may hold, and an option parser that reads them the way
 * pip's (optparse-based) one does: `--long=value`, `--long value`, unique prefixes of long
 * names, `-xvalue`, `-x value` and clustered short flags.
 */

/** What an option is stored as; file-wide options and per-requirement ones. */
export type OptionDest =
  | "indexUrl"
  | "extraIndexUrl"
  | "noIndex"
  | "constraint"
  | "requirement"
  | "editable"
  | "findLinks"
  | "noBinary"
  | "onlyBinary"
  | "preferBinary"
  | "requireHashes"
  | "pre"
  | "trustedHost"
  | "useFeature"
  | "globalOption"
  | "hash"
  | "configSettings";

interface OptionSpec {
  dest: OptionDest;
  names: readonly string[];
  takesValue: boolean;
}

const OPTIONS: readonly OptionSpec[] = [
  { dest: "indexUrl", names: ["-i", "--index-url", "--pypi-url"], takesValue: true },
  { dest: "extraIndexUrl", names: ["--extra-index-url"], takesValue: true },
  { dest: "noIndex", names: ["--no-index"], takesValue: false },
  { dest: "constraint", names: ["-c", "--constraint"], takesValue: true },
  { dest: "requirement", names: ["-r", "--requirement"], takesValue: true },
  { dest: "editable", names: ["-e", "--editable"], takesValue: true },
  { dest: "findLinks", names: ["-f", "--find-links"], takesValue: true },
  { dest: "noBinary", names: ["--no-binary"], takesValue: true },
  { dest: "onlyBinary", names: ["--only-binary"], takesValue: true },
  { dest: "preferBinary", names: ["--prefer-binary"], takesValue: false },
  { dest: "requireHashes", names: ["--require-hashes"], takesValue: false },
  { dest: "pre", names: ["--pre"], takesValue: false },
  { dest: "trustedHost", names: ["--trusted-host"], takesValue: true },
  { dest: "useFeature", names: ["--use-feature"], takesValue: true },
  { dest: "globalOption", names: ["--global-option"], takesValue: true },
  { dest: "hash", names: ["--hash"], takesValue: true },
  { dest: "configSettings", names: ["-C", "--config-settings"], takesValue: true },
];

/** Options that apply to the requirement on their line rather than to the whole file. */
export const PER_REQUIREMENT_OPTIONS: ReadonlySet<OptionDest> = new Set([
  "hash",
  "globalOption",
  "configSettings",
]);

const BY_NAME = new Map<string, OptionSpec>();
for (const spec of OPTIONS) for (const name of spec.names) BY_NAME.set(name, spec);
const LONG_NAMES = [...BY_NAME.keys()].filter((name) => name.startsWith("--"));

/** One option as given on a line, in order. `name` is the spelling that was used. */
export interface ParsedOption {
  dest: OptionDest;
  name: string;
  value: string | undefined;
}

/** Thrown by parseOptionWords with a reason; the caller adds file and line. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

function findLong(name: string): [OptionSpec, string] {
  const exact = BY_NAME.get(name);
  if (exact !== undefined) return [exact, name];
  const matches = LONG_NAMES.filter((long) => long.startsWith(name));
  const only = matches.length === 1 ? matches[0] : undefined;
  if (only !== undefined) return [BY_NAME.get(only) as OptionSpec, only];
  if (matches.length === 0) throw new OptionError(`unknown option ${name}`);
  throw new OptionError(`ambiguous option ${name} (could be ${matches.join(", ")})`);
}

/**
 * Parse shell-split option words. Returns the options in order and any words that are
 * not options (after `--`, or a lone `-`, or a word not starting with `-`).
 */
export function parseOptionWords(words: readonly string[]): {
  options: ParsedOption[];
  positional: string[];
} {
  const options: ParsedOption[] = [];
  const positional: string[] = [];
  let i = 0;
  const takeNext = (name: string): string => {
    if (i >= words.length) throw new OptionError(`${name} needs a value`);
    return words[i++] as string;
  };
  while (i < words.length) {
    const word = words[i++] as string;
    if (word === "--") {
      positional.push(...words.slice(i));
      break;
    }
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const given = eq === -1 ? word : word.slice(0, eq);
      const [spec, shown] = findLong(given);
      if (spec.takesValue) {
        const value = eq === -1 ? takeNext(shown) : word.slice(eq + 1);
        options.push({ dest: spec.dest, name: shown, value });
      } else {
        if (eq !== -1) throw new OptionError(`${shown} takes no value`);
        options.push({ dest: spec.dest, name: shown, value: undefined });
      }
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const name = `-${word[j]}`;
        const spec = BY_NAME.get(name);
        if (spec === undefined) throw new OptionError(`unknown option ${name}`);
        if (spec.takesValue) {
          const rest = word.slice(j + 1);
          const value = rest !== "" ? rest : takeNext(name);
          options.push({ dest: spec.dest, name, value });
          break;
        }
        options.push({ dest: spec.dest, name, value: undefined });
      }
      continue;
    }
    positional.push(word);
  }
  return { options, positional };
}

/** The hash algorithms pip accepts in `--hash`. */
export const HASH_ALGORITHMS: readonly string[] = ["sha256", "sha384", "sha512"];

/** Check `--hash` value `algo:digest`; returns it unchanged. */
export function checkHash(name: string, value: string): string {
  const colon = value.indexOf(":");
  if (colon === -1) {
    throw new OptionError(`${name} needs a hash name and a value, like ${name}=sha256:abcde…`);
  }
  const algo = value.slice(0, colon);
  if (!HASH_ALGORITHMS.includes(algo)) {
    throw new OptionError(
      `${name} algorithm ${JSON.stringify(algo)} is not allowed (use one of ${HASH_ALGORITHMS.join(", ")})`,
    );
  }
  return value;
}

/**
 * pip's "format control": which projects must not use wheels (`noBinary`) and which must
 * not use sdists (`onlyBinary`). Names are canonical; `:all:` stands for every project.
 */
export interface FormatControl {
  noBinary: Set<string>;
  onlyBinary: Set<string>;
}

/**
 * Apply one `--no-binary` / `--only-binary` value (comma-separated names, `:all:`,
 * `:none:`) to `control`, with pip's rules: `:all:` clears both sets and sets `:all:` on
 * this side; `:none:` clears this side; a name is added here and removed from the other side.
 */
export function applyFormatControl(
  control: FormatControl,
  kind: "noBinary" | "onlyBinary",
  value: string,
  canonicalize: (name: string) => string,
): void {
  const target = kind === "noBinary" ? control.noBinary : control.onlyBinary;
  const other = kind === "noBinary" ? control.onlyBinary : control.noBinary;
  if (value.startsWith("-")) {
    throw new OptionError("--no-binary / --only-binary needs a value (names, :all: or :none:)");
  }
  let items = value.split(",");
  while (items.includes(":all:")) {
    other.clear();
    target.clear();
    target.add(":all:");
    items = items.slice(items.indexOf(":all:") + 1);
    if (!items.includes(":none:")) return;
  }
  for (const item of items) {
    if (item === ":none:") {
      target.clear();
      continue;
    }
    const name = canonicalize(item);
    other.delete(name);
    target.add(name);
  }
}
