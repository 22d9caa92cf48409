import path from "node:path";
import { Command } from "commander";
import type { FoundInterpreter } from "../../python/discover.ts";
import { listInterpreters } from "../../python/discover.ts";
import { action } from "../action.ts";

/** `slimenv python list`: every interpreter found on PATH and under pyenv. */
export function pythonListCommand(): Command {
  return new Command("list")
    .description("list the Python interpreters found on PATH and under pyenv")
    .option("--json", "machine-readable output on stdout")
    .action(
      action(async (_opts, _args, out) => {
        const list = await listInterpreters({ reporter: out.reporter() });
        const isDefault = (i: FoundInterpreter) => i.executable === list.defaultExecutable;
        if (out.json) {
          out.data({
            interpreters: list.interpreters.map((i) => ({
              version: i.probe.version.join("."),
              implementation: i.probe.implementation.name,
              executable: i.executable,
              path: i.path,
              source: i.source,
              foundAt: i.foundAt,
              default: isDefault(i),
            })),
            default: list.defaultExecutable ?? null,
            failures: list.failures,
          });
          return 0;
        }
        if (list.defaultError !== undefined) out.warn(list.defaultError);
        for (const f of list.failures) out.debug(`not usable: ${f.path}: ${f.reason}`);
        if (list.interpreters.length === 0) {
          out.info("no Python interpreters found on PATH or under pyenv");
          return 0;
        }
        out.table(
          ["", "VERSION", "IMPLEMENTATION", "FOUND", "EXECUTABLE"],
          list.interpreters.map((i) => [
            isDefault(i) ? "*" : "",
            i.probe.version.join("."),
            i.probe.implementation.name,
            [...new Set(i.foundAt.map((f) => f.source))].join(","),
            path.dirname(i.path) === path.dirname(i.executable)
              ? i.executable
              : `${i.executable} (via ${i.path})`,
          ]),
        );
        return 0;
      }),
    );
}
