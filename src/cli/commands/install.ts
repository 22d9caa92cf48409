import path from "node:path";
import { Command, Option } from "commander";
import { SlimenvError } from "../../base/index.ts";
import { install } from "../../env/install.ts";
import { classifyInstallArgs } from "../../env/install-inputs.ts";
import { describeTarget } from "../../env/lock-plan.ts";
import { type Layout, LINK_MODES, type LinkMode } from "../../env/types.ts";
import { action } from "../action.ts";
import {
  addIndexOptions,
  collect,
  type IndexOptionValues,
  settingsFromOptions,
} from "../index-options.ts";
import { changesJson, renderChanges } from "../render-changes.ts";
import { addTargetOptions, type TargetOptionValues, targetSelection } from "../target-options.ts";
import { slimenvVersion } from "../version.ts";

interface InstallOptions extends TargetOptionValues, IndexOptionValues {
  requirements?: string[];
  constraint?: string[];
  extra?: string[];
  group?: string[];
  prefix?: string;
  target?: string;
  venv?: string;
  linkMode: string;
  isolated?: boolean;
  interpreterCommand?: string;
  deps: boolean;
  lockOut?: string;
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
      "--interpreter-command <cmd>",
      "the command launchers run (default python3.X of the target)",
    )
    .option("--no-deps", "install only what is named, not its dependencies")
    .option("--lock-out <file>", "also write the lock made from requirements to FILE");
  addIndexOptions(command, true);
  return addTargetOptions(command).action(
    action<InstallOptions>(async (opts, args, out) => {
      const cwd = process.cwd();
      const layout = layoutOf(opts);
      const settings = settingsFromOptions(opts, cwd);
      const inputs = classifyInstallArgs(args, opts.requirements ?? [], cwd);
      if (opts.constraint !== undefined) inputs.constraintFiles = opts.constraint;
      if (opts.extra !== undefined) inputs.extras = opts.extra;
      if (opts.group !== undefined) inputs.groups = opts.group;
      const result = await install({
        cwd,
        env: process.env,
        settings,
        selection: targetSelection(opts, settings.values),
        layout,
        inputs,
        noDeps: opts.deps === false,
        ...(opts.lockOut === undefined ? {} : { lockOut: opts.lockOut }),
        linkMode: opts.linkMode as LinkMode,
        isolated: opts.isolated === true,
        ...(opts.interpreterCommand === undefined
          ? {}
          : { interpreterCommand: opts.interpreterCommand }),
        userAgent: `slimenv/${slimenvVersion()}`,
        reporter: out.reporter(),
      });
      if (out.json) {
        out.data({
          dir: result.dir,
          target: describeTarget(result.target),
          ...(result.lockWritten === undefined ? {} : { lockWritten: result.lockWritten }),
          ...changesJson(result.manifest, result.changes, result.rebuilt),
        });
        return 0;
      }
      const shown = path.relative(cwd, result.dir) || ".";
      const n = result.manifest.packages.length;
      out.line(
        result.rebuilt
          ? `Installed ${n} packages into ${shown} (${result.layout}, ${describeTarget(result.target)}, link mode ${result.manifest.effectiveLinkMode})`
          : `${shown} already holds these ${n} packages; nothing changed`,
      );
      renderChanges(out, result.changes);
      if (result.lockWritten !== undefined) {
        out.line(`wrote ${path.relative(cwd, result.lockWritten)}`);
      }
      return 0;
    }),
  );
}
