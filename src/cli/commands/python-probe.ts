import { Command } from "commander";
import type { ResolvedTarget } from "../../python/resolve-target.ts";
import { resolveTarget } from "../../python/resolve-target.ts";
import { action } from "../action.ts";
import type { Output } from "../output.ts";
import type { TargetOptionValues } from "../target-options.ts";
import { addTargetOptions, targetSelectionFromOptions } from "../target-options.ts";

interface ProbeOptions extends TargetOptionValues {
  tags?: boolean;
}

/** `slimenv python probe`: what slimenv knows about an interpreter, or about a spec target. */
export function pythonProbeCommand(): Command {
  const command = new Command("probe")
    .description("probe an interpreter (or build a target from a spec) and show what slimenv sees")
    .option("--json", "the full probe and target as JSON on stdout")
    .option("--tags", "the supported tags, one per line, most preferred first");
  return addTargetOptions(command).action(
    action<ProbeOptions>(async (opts, _args, out) => {
      const selection = targetSelectionFromOptions(opts);
      const resolved = await resolveTarget(selection, { reporter: out.reporter() });
      if (out.json) {
        out.data(opts.tags ? { tags: resolved.target.tags } : jsonView(resolved));
      } else if (opts.tags) {
        for (const tag of resolved.target.tags) out.line(tag);
      } else {
        summary(resolved, out);
      }
      return 0;
    }),
  );
}

function jsonView(resolved: ResolvedTarget): unknown {
  const { target, interpreter } = resolved;
  if (interpreter === undefined) return { target };
  return {
    interpreter: {
      path: interpreter.path,
      executable: interpreter.executable,
      source: interpreter.source,
    },
    probe: interpreter.probe,
    target,
  };
}

function summary(resolved: ResolvedTarget, out: Output): void {
  const { target, interpreter } = resolved;
  const rows: [string, string][] = [];
  if (interpreter) {
    const via = interpreter.path === interpreter.executable ? "" : ` (via ${interpreter.path})`;
    rows.push(["interpreter", `${interpreter.executable}${via}`]);
  } else {
    rows.push(["interpreter", "none (target built from a spec)"]);
  }
  const impl = target.implementationName === "cpython" ? "CPython" : target.implementationName;
  rows.push(["python", `${impl} ${target.pythonVersion.join(".")}`]);
  const libc = target.libc ? `, ${target.libc.kind} ${target.libc.version.join(".")}` : "";
  rows.push(["platform", `${target.os} ${target.arch}${libc}`]);
  rows.push(["abi", target.abis.join(", ") || "(none)"]);
  rows.push(["tags", `${target.tags.length}, most preferred ${target.tags[0] ?? "(none)"}`]);
  rows.push(["pyc magic", target.pycMagic ?? "(unknown)"]);
  if (interpreter) {
    const p = interpreter.probe;
    rows.push([
      "prefix",
      p.prefix === p.basePrefix ? p.prefix : `${p.prefix} (base ${p.basePrefix})`,
    ]);
    rows.push(["stdlib", p.stdlib ?? "(unknown)"]);
    rows.push([
      "schemes",
      `prefix=${p.schemes.prefix.name} user=${p.schemes.user.name} venv=${p.schemes.venv.name}`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`${k.padEnd(width)}  ${v}`);
  out.line("markers:");
  const env = target.markerEnvironment as unknown as Record<string, string>;
  const keyWidth = Math.max(...Object.keys(env).map((k) => k.length));
  for (const [k, v] of Object.entries(env))
    out.line(`  ${k.padEnd(keyWidth)}  ${JSON.stringify(v)}`);
}
