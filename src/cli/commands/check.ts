import { Command, InvalidArgumentError } from "commander";
import { checkEnv } from "../../slim/check/check.ts";
import type { CheckReport } from "../../slim/check/types.ts";
import { action } from "../action.ts";
import type { Output } from "../output.ts";

interface CheckFlags {
  smoke?: string;
  timeout?: number;
  python?: string;
  concurrency?: number;
}

function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

/** `slimenv check DIR [--smoke CMD]`: import every module; exit 1 when anything failed. */
export function checkCommand(): Command {
  return new Command("check")
    .description(
      "import every importable module of every distribution in the environment's own interpreter, and optionally run a smoke command; exits 1 when anything failed",
    )
    .argument("<dir>", "a slimenv environment, a venv, or a site-packages folder")
    .option("--smoke <cmd>", "a shell command to run with the environment active (must exit 0)")
    .option(
      "--timeout <seconds>",
      "longest time one module may take to import (default 60)",
      positiveNumber,
    )
    .option(
      "--python <exe>",
      "the interpreter: for a bare site-packages folder, or an interpreter of an env's target (e.g. a wrapper running it under qemu-user)",
    )
    .option(
      "--concurrency <n>",
      "import processes at once (default: CPUs, at most 4)",
      positiveNumber,
    )
    .action(
      action<CheckFlags>(async (opts, args, out) => {
        const report = await checkEnv(args[0] as string, {
          reporter: out.reporter(),
          ...(opts.smoke === undefined ? {} : { smoke: opts.smoke }),
          ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout * 1000 }),
          ...(opts.python === undefined ? {} : { python: opts.python }),
          ...(opts.concurrency === undefined ? {} : { concurrency: Math.floor(opts.concurrency) }),
        });
        if (out.json) out.data(report);
        else renderCheck(report, out);
        return report.ok ? 0 : 1;
      }),
    );
}

/** The human report: a table per package, then every failure, then the smoke result. */
export function renderCheck(report: CheckReport, out: Output): void {
  const t = report.totals;
  out.line(`${report.path} (${report.layout}, Python ${report.python})`);
  out.line();
  out.table(
    ["distribution", "version", "modules", "ok", "failed", "skipped", "test failures"],
    report.packages.map((p) => [
      p.name,
      p.version,
      String(p.modules),
      String(p.ok),
      String(p.failed.length),
      String(p.skipped.length),
      String(p.testFailures.length),
    ]),
  );
  const failures = report.packages.flatMap((p) =>
    p.failed.map((f) => `  ${p.name}: ${f.module} [${f.kind}]: ${f.error}`),
  );
  if (failures.length > 0) {
    out.line();
    out.line("failed:");
    for (const line of failures) out.line(line);
  }
  for (const p of report.packages) {
    for (const s of p.skipped) out.debug(`skipped (known) ${p.name}: ${s.module}: ${s.reason}`);
    for (const f of p.testFailures) out.debug(`test module ${p.name}: ${f.module}: ${f.error}`);
  }
  if (report.smoke !== undefined) {
    const s = report.smoke;
    out.line();
    out.line(`smoke: ${s.command} → exit ${s.exitCode} (${(s.durationMs / 1000).toFixed(1)} s)`);
    if (!s.ok && s.output !== "") {
      for (const line of s.output.trimEnd().split("\n").slice(-20)) out.line(`  | ${line}`);
    }
  }
  out.line();
  out.line(
    report.ok
      ? `check passed: ${t.ok} of ${t.modules} modules imported, ${t.skipped} skipped as known-benign, ${t.testFailures} test-module failures ignored`
      : `check FAILED: ${t.failed} modules failed${report.smoke !== undefined && !report.smoke.ok ? ", smoke command failed" : ""}`,
  );
}
