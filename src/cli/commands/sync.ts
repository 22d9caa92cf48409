import path from "node:path";
import { Command } from "commander";
import { sync } from "../../env/sync.ts";
import { syncSlimTransform } from "../../slim/policy-record.ts";
import { action } from "../action.ts";
import { addBuildOptions, type BuildOptionValues, buildFromOptions } from "../build-options.ts";
import { cliIo } from "../context.ts";
import { addIndexOptions, type IndexOptionValues, settingsFromOptions } from "../index-options.ts";
import { changesJson, renderChanges } from "../render-changes.ts";
import { slimenvVersion } from "../version.ts";

/** `slimenv sync DIR [LOCK]`: make an environment match a lock exactly. */
export function syncCommand(): Command {
  const command = new Command("sync")
    .description(
      "make an environment hold exactly what a lock says: add, remove, upgrade, touch nothing else",
    )
    .argument("<dir>", "the environment (made by slimenv install)")
    .argument("[lock]", "the lock (default: the env's own lock, else ./pylock.toml)");
  addIndexOptions(command, false);
  addBuildOptions(command);
  return command.action(
    action<IndexOptionValues & BuildOptionValues>(async (opts, args, out) => {
      const cwd = cliIo().cwd;
      const [dir = ".", lockFile] = args;
      const settings = settingsFromOptions(opts, cwd);
      const result = await sync({
        dir,
        ...(lockFile === undefined ? {} : { lockFile }),
        cwd,
        env: cliIo().env,
        settings,
        userAgent: `slimenv/${slimenvVersion()}`,
        reporter: out.reporter(),
        build: buildFromOptions(opts, settings.values),
        slimFor: syncSlimTransform({ env: cliIo().env, cwd, reporter: out.reporter() }),
      });
      const lockShown = path.relative(cwd, result.lockFile) || result.lockFile;
      if (out.json) {
        out.data({
          dir: result.dir,
          lock: result.lockFile,
          ...changesJson(result.manifest, result.changes, result.rebuilt),
        });
        return 0;
      }
      const shown = path.relative(cwd, result.dir) || ".";
      out.summary(
        result.rebuilt
          ? `Synced ${shown} to ${lockShown}: ${result.manifest.packages.length} packages (generation ${result.manifest.generation})`
          : `${shown} already matches ${lockShown}; nothing changed`,
      );
      renderChanges(out, result.changes);
      return 0;
    }),
  );
}
