import path from "node:path";
import { Command, Option } from "commander";
import type { TargetSelection } from "../../python/resolve-target.ts";
import { type LockRunResult, runLock } from "../../resolve/lock-run.ts";
import { describeTargetTable } from "../../resolve/lock-target.ts";
import { resolveSettings } from "../../settings/load.ts";
import type { SettingKey } from "../../settings/schema.ts";
import { action } from "../action.ts";
import type { Output } from "../output.ts";
import {
  addTargetOptions,
  type TargetOptionValues,
  targetSelectionFromOptions,
} from "../target-options.ts";
import { slimenvVersion } from "../version.ts";

interface LockOptions extends TargetOptionValues {
  requirements?: string[];
  constraint?: string[];
  extra?: string[];
  group?: string[];
  output: string;
  check?: boolean;
  upgrade?: boolean;
  upgradePackage?: string[];
  resolution?: string;
  prerelease?: string;
  offline?: boolean;
  indexUrl?: string;
  extraIndexUrl?: string[];
  findLinks?: string[];
  indexStrategy?: string;
  onlyBinary?: string[];
  /** `--no-binary` (commander names a `--no-…` option after what it negates). */
  binary: string[] | boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** `--no-binary`'s previous value is commander's negation default (true) the first time. */
const collectCommaList = (value: string, previous: unknown) => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

const orUndefined = <T>(list: T[] | undefined) =>
  list !== undefined && list.length > 0 ? list : undefined;

/** Flags given on the command line win; otherwise the target comes from settings. */
function selection(opts: LockOptions, values: Record<string, unknown>): TargetSelection {
  const flagged =
    opts.python !== undefined ||
    opts.pythonVersion !== undefined ||
    opts.platform !== undefined ||
    opts.implementation !== undefined;
  if (flagged) return targetSelectionFromOptions(opts);
  const fromSettings: TargetOptionValues = {};
  if (typeof values["python-version"] === "string" || typeof values.platform === "string") {
    if (typeof values["python-version"] === "string")
      fromSettings.pythonVersion = values["python-version"];
    if (typeof values.platform === "string") fromSettings.platform = values.platform;
  } else if (typeof values.python === "string") {
    fromSettings.python = values.python;
  }
  return targetSelectionFromOptions(fromSettings);
}

/** `slimenv lock`: resolve requirements into a PEP 751 pylock.toml for one target. */
export function lockCommand(): Command {
  const command = new Command("lock")
    .description(
      "resolve requirements into a PEP 751 pylock.toml for one target (the local Python, or --python-version + --platform)",
    )
    .argument("[requirements...]", "requirement strings, e.g. requests 'numpy>=2'")
    .option(
      "-r, --requirements <file>",
      "a requirements.txt or a pyproject.toml to lock (repeatable; default: ./pyproject.toml, else ./requirements.txt)",
      collect,
    )
    .option("-c, --constraint <file>", "a constraints file (repeatable)", collect)
    .option(
      "--extra <name>",
      "an extra of the pyproject.toml project to include (repeatable)",
      collect,
    )
    .option(
      "--group <name>",
      "a dependency group of the pyproject.toml to include (repeatable)",
      collect,
    )
    .option("-o, --output <file>", "the lock file to write (or check)", "pylock.toml")
    .option(
      "--check",
      "write nothing; exit 1 and say why when the lock no longer matches its inputs",
    )
    .option("-U, --upgrade", "ignore the versions in the existing lock")
    .option(
      "-P, --upgrade-package <name>",
      "ignore the existing lock's version of this package (repeatable)",
      collect,
    )
    .addOption(
      new Option("--resolution <strategy>", "which versions to prefer").choices([
        "highest",
        "lowest",
        "lowest-direct",
      ]),
    )
    .addOption(
      new Option("--prerelease <mode>", "when pre-releases may be chosen").choices([
        "if-necessary-or-explicit",
        "allow",
        "disallow",
      ]),
    )
    .option("--offline", "use only the HTTP cache, never the network")
    .option("-i, --index-url <url>", "the primary package index (default https://pypi.org/simple/)")
    .option(
      "--extra-index-url <url>",
      "another index, consulted after the primary (repeatable)",
      collect,
    )
    .option(
      "-f, --find-links <source>",
      "a folder of wheels or a flat HTML page of links (repeatable)",
      collect,
    )
    .addOption(
      new Option(
        "--index-strategy <strategy>",
        "first-index takes each name from the first index that has it (safe against dependency confusion)",
      ).choices(["first-index", "unsafe-best-match"]),
    )
    .option(
      "--only-binary <names>",
      "packages (comma-separated, or :all:) that must come as wheels (repeatable)",
      collectCommaList,
    )
    .option(
      "--no-binary <names>",
      "packages (comma-separated, or :all:) whose wheels are not used (repeatable)",
      collectCommaList,
    );
  return addTargetOptions(command).action(
    action<LockOptions>(async (opts, args, out) => {
      const cwd = process.cwd();
      const flags: Partial<Record<SettingKey, unknown>> = {
        "index-url": opts.indexUrl,
        "extra-index-url": orUndefined(opts.extraIndexUrl),
        "find-links": orUndefined(opts.findLinks),
        "index-strategy": opts.indexStrategy,
        offline: opts.offline,
        prerelease: opts.prerelease,
        resolution: opts.resolution,
        "only-binary": orUndefined(opts.onlyBinary),
        "no-binary": Array.isArray(opts.binary) ? orUndefined(opts.binary) : undefined,
      };
      const settings = resolveSettings({ flags, env: process.env, cwd });
      const run = await runLock({
        cwd,
        env: process.env,
        settings,
        selection: selection(opts, settings.values),
        requirementFiles: opts.requirements ?? [],
        requirements: args,
        constraintFiles: opts.constraint ?? [],
        extras: opts.extra ?? [],
        groups: opts.group ?? [],
        output: opts.output,
        check: opts.check === true,
        upgrade: opts.upgrade === true,
        upgradePackages: opts.upgradePackage ?? [],
        userAgent: `slimenv/${slimenvVersion()}`,
        reporter: out.reporter(),
      });
      return render(run, opts.output, out);
    }),
  );
}

function render(run: LockRunResult, shown: string, out: Output): number {
  const packages = run.result.pylock.packages;
  const tool = (run.result.pylock.tool?.slimenv ?? {}) as Record<string, unknown>;
  const targetTable = tool.target as Record<string, unknown> | undefined;
  const target = describeTargetTable(targetTable);
  if (run.check !== undefined) {
    if (out.json) {
      out.data({ lock: shown, upToDate: run.check.upToDate, reasons: run.check.reasons });
    } else if (run.check.upToDate) {
      out.line(`${shown} is up to date (${packages.length} packages, ${target})`);
    } else {
      out.line(`${shown} is out of date:`);
      for (const reason of run.check.reasons) out.line(`  - ${reason}`);
      out.line(`run slimenv lock to update it`);
    }
    return run.check.upToDate ? 0 : 1;
  }
  if (out.json) {
    out.data({
      lock: shown,
      path: path.resolve(run.output),
      written: run.written,
      target: targetTable,
      packages: packages.map((p) => ({ name: p.name, version: p.version })),
    });
  } else {
    const verb = run.written ? "wrote" : "unchanged:";
    out.line(`Locked ${packages.length} packages for ${target}; ${verb} ${shown}`);
  }
  return 0;
}
