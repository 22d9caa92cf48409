/**
 * Assembling a runtime copy in its staging folder: the interpreter and its python3 link, the
 * stdlib files the plan keeps laid out for the mode, native libraries with relative search
 * paths (stripped if asked), bytecode and archives from one run of the target interpreter,
 * the `py` mode's __pycache__ guards, an empty site-packages and the marker file.
 */
import { chmod, copyFile, mkdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../base/index.ts";
import { mapLimit, SlimenvError } from "../base/index.ts";
import { runProcess } from "../python/process.ts";
import type { StripTool } from "../slim/strip/tool.ts";
import { runtimeEnv } from "./check.ts";
import type { SourceLayout } from "./cpython-paths.ts";
import type { StdlibMode } from "./modes.ts";
import { stdlibModeInfo } from "./modes.ts";
import type { RuntimeNativeChanges, StripMode } from "./native.ts";
import { copyNativeDependencies } from "./native.ts";
import type { PlannedFile } from "./plan.ts";
import { goesInZip, topLevelPackages } from "./plan.ts";
import { COMPILE_SCRIPT, SCRIPT_MARK, SOURCE_ARCHIVE, SOURCE_HOOK } from "./python-scripts.ts";

/** The file that marks a folder as a slimenv runtime (so a rebuild may replace it). */
export const RUNTIME_MARKER = "slimenv-runtime.json";

export function posixJoin(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

interface CompileJob {
  src: string;
  dfile: string;
  opt: number;
  out: string;
  pycache: boolean;
  zip?: [number, string];
  onFail?: { copy: string } | { zip: [number, string] };
}

export interface AssembleInput {
  staging: string;
  out: string;
  layout: SourceLayout;
  plan: PlannedFile[];
  mode: StdlibMode;
  stripTool: StripTool | undefined;
  strip: StripMode;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  notes: string[];
}

export async function assembleRuntime(input: AssembleInput): Promise<{
  copied: number;
  compiled: number;
  failed: string[];
  native: RuntimeNativeChanges;
}> {
  const { staging, out, layout, plan, mode, env } = input;
  const info = stdlibModeInfo(mode);
  const stdlibSrc = path.join(layout.prefix, layout.stdlibRel);
  const stdlibDst = path.join(staging, layout.stdlibRel);
  const stdlibFinal = path.join(out, layout.stdlibRel);
  // The interpreter and its python3 link.
  const exeName = path.basename(layout.executableRel);
  const exeDst = path.join(staging, layout.executableRel);
  await mkdir(path.dirname(exeDst), { recursive: true });
  await copyFile(layout.executable, exeDst);
  await chmod(exeDst, 0o755);
  const major = `python${layout.version[0]}`;
  if (exeName !== major) await symlink(exeName, path.join(path.dirname(exeDst), major));

  const jobs: CompileJob[] = [];
  const zips: { path: string; members: [string, string][] }[] = [];
  const stdlibZip =
    mode === "pyc-zip" && layout.zipRel !== undefined
      ? zips.push({ path: path.join(staging, layout.zipRel), members: [] }) - 1
      : -1;
  const sourceZip =
    mode === "pyc+zipped-source"
      ? zips.push({ path: path.join(stdlibDst, SOURCE_ARCHIVE), members: [] }) - 1
      : -1;
  const packages = topLevelPackages(plan);
  const copies: { from: string; to: string; link: boolean }[] = [];
  const pyDirs = new Set<string>();
  const zipStage = path.join(staging, ".slimenv-zip");
  for (const file of plan) {
    const src = path.join(stdlibSrc, file.rel);
    const dst = path.join(stdlibDst, file.rel);
    const isPy = file.kind === "file" && file.rel.endsWith(".py");
    const inZip = stdlibZip >= 0 && goesInZip(file.rel, packages, layout.dynloadInStdlib);
    if (!isPy) {
      if (inZip && file.kind === "file")
        (zips[stdlibZip] as { members: [string, string][] }).members.push([file.rel, src]);
      else copies.push({ from: src, to: dst, link: file.kind === "symlink" });
      continue;
    }
    const dfile = path.join(stdlibFinal, file.rel);
    pyDirs.add(path.dirname(dst));
    if (info.sources === "in-place") {
      copies.push({ from: src, to: dst, link: false });
      for (const opt of info.optimizations) jobs.push({ src, dfile, opt, out: dst, pycache: true });
    } else if (inZip && layout.zipRel !== undefined) {
      jobs.push({
        src,
        dfile: path.join(out, layout.zipRel, file.rel),
        opt: 0,
        out: path.join(zipStage, `${file.rel}c`),
        pycache: false,
        zip: [stdlibZip, `${file.rel}c`],
        onFail: { zip: [stdlibZip, file.rel] },
      });
    } else {
      jobs.push({ src, dfile, opt: 0, out: `${dst}c`, pycache: false, onFail: { copy: dst } });
      if (sourceZip >= 0)
        (zips[sourceZip] as { members: [string, string][] }).members.push([file.rel, src]);
    }
  }
  await mapLimit(copies, 16, async (c) => {
    await mkdir(path.dirname(c.to), { recursive: true });
    if (c.link) await symlink(await readlink(c.from), c.to);
    else await copyFile(c.from, c.to);
  });
  if (sourceZip >= 0) {
    const hook = path.join(stdlibDst, "sitecustomize.py");
    await writeFile(hook, SOURCE_HOOK);
    jobs.push({
      src: hook,
      dfile: path.join(stdlibFinal, "sitecustomize.py"),
      opt: 0,
      out: `${hook}c`,
      pycache: false,
    });
    (zips[sourceZip] as { members: [string, string][] }).members.push(["sitecustomize.py", hook]);
  }
  // Native parts: the interpreter, libpython and friends, lib-dynload.
  const dynloadRel = posixJoin(layout.stdlibRel, layout.dynloadInStdlib);
  const elfRels = [
    layout.executableRel,
    ...plan
      .filter(
        (f) =>
          f.kind === "file" &&
          f.rel.startsWith(`${layout.dynloadInStdlib}/`) &&
          f.rel.endsWith(".so"),
      )
      .map((f) => posixJoin(layout.stdlibRel, f.rel)),
  ];
  await mkdir(path.join(staging, dynloadRel), { recursive: true });
  input.reporter.log("debug", "copying native libraries");
  const native = await copyNativeDependencies(layout.prefix, staging, elfRels, {
    executableRel: layout.executableRel,
    libdir: layout.libdir,
    shared: layout.shared,
    ...(input.stripTool !== undefined
      ? { strip: { tool: input.stripTool, mode: input.strip } }
      : {}),
  });
  input.notes.push(...native.notes);
  // Bytecode and archives, in one run of the target interpreter.
  let compiled = 0;
  let failed: string[] = [];
  if (jobs.length > 0 || zips.length > 0) {
    input.reporter.log("info", `compiling ${jobs.length} modules with ${layout.executable}`);
    const specFile = path.join(staging, ".slimenv-compile.json");
    await writeFile(specFile, JSON.stringify({ jobs, zips }));
    const res = await runProcess(layout.executable, ["-I", "-S", "-c", COMPILE_SCRIPT, specFile], {
      env: runtimeEnv(env),
      timeoutMs: 1_800_000,
    });
    await rm(specFile, { force: true });
    const at = res.stdout.lastIndexOf(SCRIPT_MARK);
    if (res.status !== 0 || at < 0) {
      throw new SlimenvError(
        "RUNTIME_CHECK_FAILED",
        `compiling the stdlib with ${layout.executable} failed`,
        {
          detail: res.stderr.trim().split("\n").slice(-10).join("\n") || undefined,
        },
      );
    }
    const parsed = JSON.parse(
      res.stdout.slice(at + SCRIPT_MARK.length).split("\n", 1)[0] ?? "{}",
    ) as {
      failed: string[];
      compiled: number;
    };
    compiled = parsed.compiled;
    failed = parsed.failed.map((f) => path.relative(stdlibSrc, f).split(path.sep).join("/"));
    await rm(zipStage, { recursive: true, force: true });
    if (sourceZip >= 0) await rm(path.join(stdlibDst, "sitecustomize.py"));
  }
  if (mode === "py") {
    // An empty *file* named __pycache__ stops the import system writing bytecode beside the
    // sources: it cannot make the folder, and it skips writing silently (as on a read-only disk).
    for (const dir of pyDirs) await writeFile(path.join(dir, "__pycache__"), "");
  }
  if (layout.sitePackagesRel !== undefined) {
    await mkdir(path.join(staging, layout.sitePackagesRel), { recursive: true });
  }
  if (mode === "pyc-zip") {
    await mkdir(stdlibDst, { recursive: true });
  }
  await writeFile(
    path.join(staging, RUNTIME_MARKER),
    `${JSON.stringify(
      {
        kind: "slimenv-runtime",
        version: 1,
        python: layout.version.join("."),
        mode,
        strip: input.strip,
        executable: layout.executableRel,
        stdlib: layout.stdlibRel,
      },
      null,
      2,
    )}\n`,
  );
  return {
    copied: copies.length,
    compiled,
    failed,
    native: { ...native, stripped: input.strip === "none" ? [] : native.elfFiles },
  };
}
