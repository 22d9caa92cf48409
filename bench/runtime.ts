/**
 * `slimenv runtime --table` for CPython 3.11 and 3.13 (pyenv), written to the "runtime"
 * section of docs/benchmarks.md beside the distributor table it reproduces.
 * Run: npm run bench:runtime   (BENCH_RUNS sets the timed rounds, default 15)
 */
import os from "node:os";
import { runtimeTable, tableMarkdown } from "../src/runtime/table.ts";
import { writeSection } from "./report.ts";

const ROUNDS = Number(process.env.BENCH_RUNS ?? 15);
const PYTHONS = (process.env.BENCH_PYTHONS ?? "3.11,3.13").split(",");
const VARIANTS = [
  { name: "as is", drops: [] },
  { name: "test suites dropped", drops: ["tests"] },
  {
    name: "like python3-libs",
    drops: ["tests", "idlelib", "tkinter", "turtledemo", "devel"],
  },
];

const reporter = {
  log: (_level: string, message: string) => console.error(message),
  task: () => ({ advance() {}, setTotal() {}, done() {} }),
};

const sections: string[] = [];
for (const python of PYTHONS) {
  const started = Date.now();
  const table = await runtimeTable({ python, variants: VARIANTS, rounds: ROUNDS, reporter });
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  sections.push(
    [
      `### CPython ${table.python.version} (${table.python.executable})`,
      "",
      `Built, checked and timed in ${secs} s; import set: ${table.moduleSet.length} modules (${table.moduleSet.join(", ")}).`,
      "",
      tableMarkdown(table),
    ].join("\n"),
  );
  console.log(tableMarkdown(table));
}

const doc = `## Slim standard library (\`slimenv runtime --table\`)

The distributor table this reproduces (Fedora's Python maintainers, "Disk space minimization
for Python distributors", discuss.python.org 2020; Fedora's python3-libs stdlib):

| stdlib as | size | vs status quo |
| --- | ---: | ---: |
| status quo: .py + .pyc at opt 0, 1, 2 | 31.8 MiB | 0% |
| .py + opt-0 .pyc | | −28% |
| .py only | | −52% |
| .pyc + zipped .py | | −46% |
| .pyc only | | −57% |

Ours, measured with \`npm run bench:runtime\` (\`slimenv runtime --table --python 3.11\` and
\`--python 3.13\`, three variants) on ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}.
"size on disk" is the whole copy as \`du\` counts it (interpreter, libpython, lib-dynload,
stdlib); "pure-Python part" leaves out the native files (bin/, libpython, lib-dynload, the
static library and objects in config-*). Times are medians of ${ROUNDS} interleaved runs of
\`python -c pass\` (start-up) and \`python -c "import <set>"\` (import set), as ratios against
the status quo of the same variant in the same run. "works" = starts with sys.prefix at the
copy, maps its own libpython, imports the module set and every lib-dynload extension the
original imports; "source in tracebacks" = a traceback (caught and uncaught) and
inspect.getsource show stdlib source lines.

Why the figures differ from Fedora's:

- **What the baseline holds.** Fedora's 31.8 MiB is python3-libs' stdlib folder: no test
  suites, tkinter, IDLE or devel files (separate subpackages), but *with* the stripped
  lib-dynload extensions (~5 MiB) that no stdlib mode changes. Our "size on disk" also
  holds the interpreter and pyenv's **unstripped** libpython and lib-dynload (~47 MiB with
  debug info; \`--strip\` removes most of it), so its percentages are smaller than Fedora's;
  our "pure-Python part" leaves every native file out, so its percentages are larger. The
  "like python3-libs" variant is the closest in content; Fedora's figures fall between its
  two columns.
- **Python version.** Fedora measured 3.8/3.9. 3.11+ bytecode is larger relative to the
  source (exception tables, inline caches, position tables for fine-grained tracebacks), so
  dropping the two optimized levels (py+pyc) saves more, and keeping sources only saves more
  too; 3.13 has lost lib2to3 and distutils and gained _pyrepl.
- **Archives.** Our zipped sources and pythonXY.zip are deflate level 9; pyc-zip also
  compresses the bytecode, a row Fedora's table does not have.
- **Timings.** Start-up differences between modes are small and, on a loaded machine, within
  noise (the runs are interleaved, so drift hits every mode alike); the robust signals are
  the import ratios: .py only compiles every imported module at every start (≈4×), and
  pyc-zip pays for decompression (≈1.2–1.4×), while sourceless .pyc is as fast as or faster
  than the status quo (no source stat).
- **.py only** ships an empty \`__pycache__\` file per folder so nothing is written at run
  time (see docs/runtime.md).

${sections.join("\n\n")}
`;
writeSection("runtime", doc);
