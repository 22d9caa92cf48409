/**
 * A full garbage collection on request, for the moment one phase's data has just become
 * garbage and the next phase is about to allocate. V8 collects its old generation only once it
 * reaches a limit set from the last collection, so the next phase's objects would be added on
 * top of the dead ones, and the process's peak memory with them: after a resolution (project
 * pages, listed files, version sets) an install grew the web set's peak from ~152 to ~172 MiB;
 * one collection in between keeps it at ~161 MiB (docs/benchmarks.md), for ~10–20 ms.
 *
 * `gc()` exists only under `--expose-gc`; set at run time, the flag gives it to contexts made
 * afterwards, hence the one made here (once).
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/** Collect garbage now (a full, blocking collection). */
export function collectGarbage(): void {
  if (collect === undefined) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}
