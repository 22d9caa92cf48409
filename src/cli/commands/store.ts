import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { cacheDir, formatBytes, SlimenvError } from "../../base/index.ts";
import { HttpClient } from "../../index/http.ts";
import { Store } from "../../store/store.ts";
import { action } from "../action.ts";
import { cliIo } from "../context.ts";
import { slimenvVersion } from "../version.ts";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "5G" → 5 GiB, "500M" → 500 MiB, "1.5GB" → 1.5e9, "1234" → 1234 bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = m === null ? undefined : SIZE_UNITS[(m[2] ?? "").toLowerCase()];
  if (m === null || factor === undefined) {
    throw new SlimenvError("INVALID_OPTION", `--max-size ${JSON.stringify(text)} is not a size`, {
      hint: "e.g. 5G, 500M, 800MiB, 2GB or a number of bytes (K/M/G/T are powers of 1024)",
    });
  }
  return Math.floor(Number(m[1]) * factor);
}

function withStore<T>(body: (store: Store) => Promise<T> | T): Promise<T> {
  const store = Store.open({ env: cliIo().env });
  return Promise.resolve()
    .then(() => body(store))
    .finally(() => store.close());
}

/** Sum of the sizes of the files directly in `dir` (0 when it does not exist). */
function folderBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      try {
        const st = statSync(path.join(dir, name));
        if (st.isFile()) total += st.size;
      } catch {
        // removed meanwhile
      }
    }
  } catch {
    return 0;
  }
  return total;
}

/** `slimenv store status|verify|prune|path`. */
export function storeCommand(): Command {
  const store = new Command("store").description(
    "the global store: status, verify [--repair], prune, path",
  );
  store
    .command("status")
    .description("objects, wheels, envs, and the bytes dedupe saves")
    .action(
      action(async (_opts, _args, out) =>
        withStore((s) => {
          const st = s.status();
          if (out.json) {
            out.data(st);
            return 0;
          }
          out.line(`store: ${st.root}`);
          out.table(
            ["", "count / bytes", ""],
            [
              ["objects", String(st.objects), ""],
              ["wheels", String(st.wheels), ""],
              ["built from sdists", String(st.builtWheels), "of the wheels; prune evicts them"],
              ["environments", String(st.envs), ""],
              ["unpacked size of all wheels", formatBytes(st.logicalBytes), "logical"],
              ["stored (distinct files)", formatBytes(st.uniqueBytes), ""],
              [
                "derived objects",
                formatBytes(st.derivedBytes),
                `${st.derivedObjects} slimmed files, bytecode, stripped libraries`,
              ],
              ["check cache (outside the store)", formatBytes(folderBytes(cacheDir("checks"))), ""],
              ["on disk", formatBytes(st.diskBytes), `apparent ${formatBytes(st.apparentBytes)}`],
              ["saved by dedupe", formatBytes(st.savedByDedupe), ""],
              ["  of which across versions", formatBytes(st.savedAcrossVersions), ""],
            ],
          );
          return 0;
        }),
      ),
    );
  store
    .command("verify")
    .description("re-hash every object; find files changed through hard links, and more")
    .option("--repair", "fix what can be fixed (from a twin, an env's copy, or a re-download)")
    .action(
      action<{ repair?: boolean }>(async (opts, _args, out) =>
        withStore(async (s) => {
          const client =
            opts.repair === true
              ? new HttpClient({ env: cliIo().env, userAgent: `slimenv/${slimenvVersion()}` })
              : undefined;
          try {
            const report = await s.verify({
              repair: opts.repair === true,
              ...(client === undefined ? {} : { client }),
            });
            if (out.json) out.data(report);
            else {
              for (const p of report.problems) {
                const fix = p.repaired
                  ? ` — repaired (${p.repairedBy ?? "?"})`
                  : p.unrepairedReason === undefined
                    ? ""
                    : ` — not repaired: ${p.unrepairedReason}`;
                out.line(`${p.kind}: ${p.path}: ${p.detail}${fix}`);
              }
              const left = report.problems.filter((p) => !p.repaired).length;
              out.line(
                `${report.objects} objects (${formatBytes(report.bytes)}) checked; ${report.problems.length} problems${
                  opts.repair === true ? `, ${left} left` : ""
                }; ${report.orphans} orphans${
                  report.orphansRemoved > 0 ? ` (${report.orphansRemoved} removed)` : ""
                }`,
              );
              if (!report.ok && opts.repair !== true) out.line("run slimenv store verify --repair");
            }
            return report.ok ? 0 : 1;
          } finally {
            await client?.close();
          }
        }),
      ),
    );
  store
    .command("prune")
    .description("drop what no live environment uses (least recently used first, down to a cap)")
    .addOption(
      new Option("--max-size <size>", "keep unused wheels up to this store size (5G, 500M…)"),
    )
    .option("--dry-run", "say what would be deleted; delete nothing")
    .action(
      action<{ maxSize?: string; dryRun?: boolean }>(async (opts, _args, out) => {
        const maxSize = opts.maxSize === undefined ? undefined : parseSize(opts.maxSize);
        return withStore((s) => {
          const report = s.prune({
            ...(maxSize === undefined ? {} : { maxSize }),
            dryRun: opts.dryRun === true,
          });
          if (out.json) {
            out.data(report);
            return 0;
          }
          const verb = report.dryRun ? "would free" : "freed";
          for (const env of report.envsDropped) out.line(`dropped env (gone): ${env}`);
          const evicted = report.dryRun ? "would evict" : "evicted";
          for (const w of report.wheelsEvicted) out.line(`${evicted} ${w.filename}`);
          if (report.derivedDeleted > 0) {
            out.line(
              `${evicted} ${report.derivedDeleted} derived objects no environment uses (${formatBytes(report.derivedBytesFreed)})`,
            );
          }
          out.line(
            `${report.wheelsEvicted.length} wheels, ${report.objectsDeleted} objects: ${verb} ${formatBytes(report.bytesFreed)}; store now ${formatBytes(report.sizeAfter)}`,
          );
          return 0;
        });
      }),
    );
  store
    .command("path")
    .description("print the store's directory")
    .action(
      action(async (_opts, _args, out) =>
        withStore((s) => {
          if (out.json) out.data({ path: s.root });
          else out.line(s.root);
          return 0;
        }),
      ),
    );
  return store;
}
