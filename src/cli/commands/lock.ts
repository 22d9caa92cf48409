import path from "node:path";
import { Command } from "commander";
import { sdistMetadataBuilder } from "../../env/sdist-metadata.ts";
import { credentialsOf, indexSettingsOf } from "../../resolve/lock-pipeline.ts";
import { type LockRunResult, runLock } from "../../resolve/lock-run.ts";
import { describeTargetTable } from "../../resolve/lock-target.ts";
import { action } from "../action.ts";
import { cliIo } from "../context.ts";
import {
  addIndexOptions,
  collect,
  type IndexOptionValues,
  settingsFromOptions,
} from "../index-options.ts";
import type { Output } from "../output.ts";
import {
  addTargetOptions,
  type TargetOptionValues,
  targetChosen,
  targetSelection,
} from "../target-options.ts";
import { slimenvVersion } from "../version.ts";

interface LockOptions extends TargetOptionValues, IndexOptionValues {
  requirements?: string[];
  constraint?: string[];
  extra?: string[];
  group?: string[];
  output: string;
  check?: boolean;
  upgrade?: boolean;
  upgradePackage?: string[];
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
    );
  return addTargetOptions(addIndexOptions(command, true)).action(
    action<LockOptions>(async (opts, args, out) => {
      const cwd = cliIo().cwd;
      const settings = settingsFromOptions(opts, cwd);
      const run = await runLock({
        cwd,
        env: cliIo().env,
        settings,
        selection: targetSelection(opts, settings.values),
        lockTargetWins: !targetChosen(opts, settings.values),
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
        sdistMetadata: (context) => {
          // A target without an interpreter cannot build: such sdists stay BUILD_REQUIRED.
          if (context.interpreter === undefined) return undefined;
          const credentials = credentialsOf(settings, cwd);
          return sdistMetadataBuilder({
            env: process.env,
            client: context.client,
            target: context.target,
            python: context.interpreter.probe.executable,
            build: { settings: indexSettingsOf(settings, cwd) },
            withCredentials: (url) => credentials.apply(url),
            reporter: out.reporter(),
          });
        },
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
      path: path.resolve(cliIo().cwd, run.output),
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
