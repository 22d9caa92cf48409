import path from "node:path";
import { Command, Option } from "commander";
import { cacheDir, SlimenvError } from "../../base/index.ts";
import { install } from "../../env/install.ts";
import { classifyInstallArgs } from "../../env/install-inputs.ts";
import { describeTarget } from "../../env/lock-plan.ts";
import { type Layout, LINK_MODES, type LinkMode } from "../../env/types.ts";
import { zipTarget } from "../../report/zip.ts";
import { DROP_GROUPS } from "../../slim/drop/rules.ts";
import { installSlim, type SlimInstallResult } from "../../slim/install-slim.ts";
import { BYTECODE_MODES, describePolicy, STRIP_MODES, slimPolicy } from "../../slim/policy.ts";
import { PRESET_NAMES } from "../../slim/presets.ts";
import { action } from "../action.ts";
import { addBuildOptions, type BuildOptionValues, buildFromOptions } from "../build-options.ts";
import { cliIo } from "../context.ts";
import {
  addIndexOptions,
  collect,
  type IndexOptionValues,
  settingsFromOptions,
} from "../index-options.ts";
import { changesJson, renderChanges } from "../render-changes.ts";
import {
  addTargetOptions,
  type TargetOptionValues,
  targetChosen,
  targetSelection,
} from "../target-options.ts";
import { slimenvVersion } from "../version.ts";
import { parseSize } from "./store.ts";
import { MAX_SIZE_HELP, renderZip } from "./zip.ts";

interface InstallOptions extends TargetOptionValues, IndexOptionValues, BuildOptionValues {
  requirements?: string[];
  editable?: string[];
  constraint?: string[];
  extra?: string[];
  group?: string[];
  prefix?: string;
  target?: string;
  venv?: string;
  linkMode: string;
  isolated?: boolean;
  copyPackage?: string[];
  interpreterCommand?: string;
  deps: boolean;
  reinstall?: boolean;
  lockOut?: string;
  slim?: string;
  strict?: boolean;
  bytecode?: string;
  strip?: string;
  drop?: string;
  keepUsedBy?: string;
  recheck?: boolean;
  zip?: string;
  maxSize?: string;
}

function layoutOf(opts: InstallOptions): Layout {
  const given: Layout[] = [];
  if (opts.prefix !== undefined) given.push({ kind: "prefix", dir: opts.prefix });
  if (opts.target !== undefined) given.push({ kind: "target", dir: opts.target });
  if (opts.venv !== undefined) given.push({ kind: "venv", dir: opts.venv });
  const [layout] = given;
  if (layout === undefined || given.length > 1) {
    throw new SlimenvError(
      "INVALID_OPTION",
      layout === undefined
        ? "where to install? give --prefix DIR, --target DIR or --venv DIR"
        : "give only one of --prefix, --target and --venv",
      { hint: "--prefix DIR: pip's prefix layout; --target DIR: flat; --venv DIR: a venv" },
    );
  }
  return layout;
}

/** `slimenv install`: lock if needed, fetch into the store, materialize an environment. */
export function installCommand(): Command {
  const command = new Command("install")
    .description(
      "install packages into a prefix, target or venv directory, linked from the global store",
    )
    .argument(
      "[inputs...]",
      "project names or requirements, pyproject.toml, pylock.toml, requirements.txt, ./x.whl files",
    )
    .option(
      "-r, --requirements <file>",
      "a requirements.txt, pyproject.toml or pylock.toml (repeatable)",
      collect,
    )
    .option(
      "-e, --editable <dir>",
      "install a local project folder editable (PEP 660: its backend's build_editable; repeatable)",
      collect,
    )
    .option("-c, --constraint <file>", "a constraints file (repeatable)", collect)
    .option("--extra <name>", "an extra of the pyproject.toml project (repeatable)", collect)
    .option("--group <name>", "a dependency group of the pyproject.toml (repeatable)", collect)
    .option("--prefix <dir>", "install into DIR with pip's prefix layout (DIR/lib/pythonX.Y/…)")
    .option("--target <dir>", "install into DIR flat (for zips and AWS Lambda)")
    .option("--venv <dir>", "install into a venv at DIR on the shared interpreter")
    .addOption(
      new Option("--link-mode <mode>", "how files get from the store into the env")
        .choices([...LINK_MODES])
        .default("auto"),
    )
    .option("--isolated", "hide the system site-packages from a prefix env")
    .option(
      "--copy-package <name>",
      "place this distribution's files as writable copies, whatever the link mode, so they can be edited in place without touching the store (repeatable)",
      collect,
    )
    .option(
      "--interpreter-command <cmd>",
      "the command launchers run (default python3.X of the target)",
    )
    .option("--no-deps", "install only what is named, not its dependencies")
    .option(
      "--reinstall",
      "rebuild the environment even when it already holds exactly this (every file placed from the store again)",
    )
    .option("--lock-out <file>", "also write the lock made from requirements to FILE")
    .addOption(
      new Option(
        "--slim <preset>",
        "slim the environment (checked by importing every module)",
      ).choices([...PRESET_NAMES]),
    )
    .option("--strict", "with --slim: fail when the check fails, instead of un-slimming packages")
    .option(
      "--recheck",
      "with --slim: import-check even when this set and policy were checked before",
    )
    .addOption(
      new Option("--bytecode <mode>", "with --slim: the bytecode mode").choices([
        ...BYTECODE_MODES,
        "smallest",
      ]),
    )
    .addOption(
      new Option("--strip <mode>", "with --slim: strip native files").choices([...STRIP_MODES]),
    )
    .option(
      "--drop <groups>",
      `with --slim: drop-rule groups (${DROP_GROUPS.join(",")}, all, none)`,
    )
    .option(
      "--keep-used-by <cmd>",
      "with --slim: run CMD traced, drop every file it never touches, keep that only if CMD gives the same output",
    )
    .option(
      "--zip <file>",
      "with --target: then write the folder's deployment zip (as slimenv zip)",
    )
    .option("--max-size <size>", `with --zip: ${MAX_SIZE_HELP}`);
  addIndexOptions(command, true);
  addBuildOptions(command);
  return addTargetOptions(command).action(
    action<InstallOptions>(async (opts, args, out) => {
      const cwd = cliIo().cwd;
      const layout = layoutOf(opts);
      const settings = settingsFromOptions(opts, cwd);
      const inputs = classifyInstallArgs(args, opts.requirements ?? [], cwd, opts.editable ?? []);
      if (opts.constraint !== undefined) inputs.constraintFiles = opts.constraint;
      if (opts.extra !== undefined) inputs.extras = opts.extra;
      if (opts.group !== undefined) inputs.groups = opts.group;
      const slimFlags = (
        ["strict", "bytecode", "strip", "drop", "keepUsedBy", "recheck"] as const
      ).filter((k) => opts[k] !== undefined);
      if (opts.slim === undefined && slimFlags.length > 0) {
        const flag = slimFlags[0] === "keepUsedBy" ? "keep-used-by" : slimFlags[0];
        throw new SlimenvError("INVALID_OPTION", `--${flag} needs --slim PRESET`, {
          hint: `--slim: one of ${PRESET_NAMES.join(", ")}`,
        });
      }
      if (opts.zip !== undefined && layout.kind !== "target") {
        throw new SlimenvError("INVALID_OPTION", "--zip needs --target DIR", {
          hint: "a zip's root goes on sys.path: install flat with --target, or zip later with slimenv zip",
        });
      }
      if (opts.maxSize !== undefined && opts.zip === undefined) {
        throw new SlimenvError("INVALID_OPTION", "--max-size needs --zip FILE", {
          hint: "the budget is the zip's unzipped size: add --zip lambda.zip",
        });
      }
      const maxSize = opts.maxSize === undefined ? undefined : parseSize(opts.maxSize);
      const v = settings.values;
      const policy =
        opts.slim === undefined
          ? undefined
          : slimPolicy({
              preset: opts.slim,
              ...(opts.bytecode === undefined ? {} : { bytecode: opts.bytecode }),
              ...(opts.strip === undefined ? {} : { strip: opts.strip }),
              ...(opts.drop === undefined ? {} : { drop: opts.drop }),
              keep: v["slim-keep"] ?? [],
              dropGlobs: v["slim-drop"] ?? [],
              skip: v["slim-skip"] ?? [],
            });
      const request = {
        cwd,
        env: cliIo().env,
        settings,
        selection: targetSelection(opts, settings.values),
        lockTargetWins: !targetChosen(opts, settings.values),
        layout,
        inputs,
        noDeps: opts.deps === false,
        reinstall: opts.reinstall === true,
        ...(opts.lockOut === undefined ? {} : { lockOut: opts.lockOut }),
        linkMode: opts.linkMode as LinkMode,
        isolated: opts.isolated === true,
        ...(opts.copyPackage === undefined ? {} : { copyPackages: opts.copyPackage }),
        ...(opts.interpreterCommand === undefined
          ? {}
          : { interpreterCommand: opts.interpreterCommand }),
        userAgent: `slimenv/${slimenvVersion()}`,
        reporter: out.reporter(),
        build: buildFromOptions(opts, settings.values),
      };
      const slimmed: SlimInstallResult | undefined =
        policy === undefined
          ? undefined
          : await installSlim(request, {
              policy,
              strict: opts.strict === true,
              checkCacheDir: cacheDir("checks"),
              recheck: opts.recheck === true,
              ...(opts.keepUsedBy === undefined ? {} : { keepUsedBy: opts.keepUsedBy }),
            });
      const result = slimmed ?? (await install(request));
      // The env is installed either way (and said so first); over the budget, no zip (exit 1).
      const zip = () =>
        opts.zip === undefined
          ? undefined
          : zipTarget({
              dir: result.dir,
              out: opts.zip,
              ...(maxSize !== undefined ? { maxSize } : {}),
              reporter: out.reporter(),
            });
      if (out.json) {
        const zipped = zip();
        out.data({
          dir: result.dir,
          target: describeTarget(result.target),
          ...(result.lockWritten === undefined ? {} : { lockWritten: result.lockWritten }),
          ...changesJson(result.manifest, result.changes, result.rebuilt),
          ...(slimmed === undefined
            ? {}
            : {
                slim: {
                  policy: slimmed.policy,
                  checked: slimmed.checked,
                  checkMs: slimmed.checkMs,
                  checkCached: slimmed.checkCached,
                  unslimmed: slimmed.unslimmed,
                  preexisting: slimmed.preexisting,
                  summary: result.manifest.slim?.summary,
                  ...(slimmed.usage === undefined ? {} : { usage: slimmed.usage }),
                },
              }),
          ...(zipped === undefined ? {} : { zip: zipped }),
        });
        return 0;
      }
      const shown = path.relative(cwd, result.dir) || ".";
      const n = result.manifest.packages.length;
      out.summary(
        result.rebuilt
          ? `Installed ${n} packages into ${shown} (${result.layout}, ${describeTarget(result.target)}, link mode ${result.manifest.effectiveLinkMode})`
          : `${shown} already holds these ${n} packages; nothing changed`,
      );
      renderChanges(out, result.changes);
      if (slimmed !== undefined && result.rebuilt) {
        out.summary(
          `slim: ${describePolicy(slimmed.policy)}${!slimmed.checked ? "" : slimmed.preexisting.length === 0 ? ", import check passed" : ", import check: nothing broken by slimming"}${slimmed.checkCached ? " (cached: checked before)" : ""}`,
        );
        for (const u of slimmed.unslimmed) {
          out.summary(
            `  ${u.name}: rebuilt unslimmed, the import check failed when slimmed (${u.reason})`,
          );
        }
        for (const p of slimmed.preexisting) {
          out.summary(
            `  ${p.name}: kept slimmed; ${p.modules?.length ?? 1} module(s) fail to import unslimmed too (${p.reason})`,
          );
        }
      }
      const usage = slimmed?.usage;
      if (usage !== undefined && result.rebuilt) {
        const kb = (n: number | undefined) =>
          n === undefined ? "?" : `${(n / 1024).toFixed(1)} KiB`;
        out.summary(
          usage.kept
            ? `keep-used-by: pruned to the ${usage.usedFiles} files ${JSON.stringify(usage.command)} touched, plus ${usage.dependencyFiles} that kept native files need; same output`
            : `keep-used-by: not pruned: ${usage.reason ?? "unknown"}`,
        );
        out.summary(
          `  floor ${kb(usage.floorBytes)} touched; env ${kb(usage.kept ? usage.prunedBytes : usage.policyBytes)} (policy only ${kb(usage.policyBytes)}, unslimmed packages ${kb(usage.unslimmedBytes)})`,
        );
      }
      if (result.lockWritten !== undefined) {
        out.summary(`wrote ${path.relative(cwd, result.lockWritten)}`);
      }
      const zipped = zip();
      if (zipped !== undefined) renderZip(out, zipped);
      return 0;
    }),
  );
}
