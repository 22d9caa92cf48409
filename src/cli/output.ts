/**
 * Everything the CLI writes goes through here: plain lines, tables, JSON, warnings and
 * errors. Colour only on a TTY and never when NO_COLOR is set.
 */

import type { LogLevel, ProgressTask, Reporter } from "../base/index.ts";
import { isSlimenvError } from "../base/index.ts";
import { ProgressDisplay } from "./progress.ts";

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly color: boolean;
  private readonly progress: ProgressDisplay;

  constructor(options: OutputOptions = {}) {
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    this.verbose = options.verbose ?? false;
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
    const env = options.env ?? process.env;
    this.color = Boolean(this.err.isTTY) && env.NO_COLOR === undefined && env.TERM !== "dumb";
    const live = Boolean(this.err.isTTY) && !this.quiet && !this.json && env.TERM !== "dumb";
    this.progress = new ProgressDisplay(this.err, live, (line) => this.info(line));
  }

  /** Write to stderr without breaking the status line. */
  private note(text: string): void {
    this.progress.clear();
    this.err.write(text);
    this.progress.restore();
  }

  /** A summary of what a command did (not its result): silenced by `-q`. */
  summary(text = ""): void {
    if (!this.quiet) this.line(text);
  }

  line(text = ""): void {
    this.out.write(`${text}\n`);
  }

  data(value: unknown): void {
    this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A table with a header row; columns padded to the widest cell. */
  table(header: string[], rows: string[][]): void {
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)),
    );
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd();
    this.line(this.style(fmt(header), "1"));
    for (const row of rows) this.line(fmt(row));
  }

  warn(message: string): void {
    if (!this.quiet) this.note(`${this.style("warning:", "33")} ${message}\n`);
  }

  info(message: string): void {
    if (!this.quiet && !this.json) this.note(`${message}\n`);
  }

  debug(message: string): void {
    if (this.verbose) this.note(`${this.style("debug:", "2")} ${message}\n`);
  }

  /** Render any thrown value; returns the process exit code to use. */
  error(err: unknown): number {
    this.progress.clear();
    if (isSlimenvError(err)) {
      if (this.json) {
        this.out.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
      } else {
        this.err.write(`${this.style("error:", "31")} [${err.code}] ${err.message}\n`);
        if (err.detail !== undefined) this.err.write(`${indent(err.detail)}\n`);
        if (err.hint !== undefined) this.err.write(`${this.style("hint:", "36")} ${err.hint}\n`);
      }
      // A usage error (a missing or contradictory option) exits 2, as commander's own do.
      return err.code === "INVALID_OPTION" ? 2 : 1;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.err.write(`${this.style("internal error:", "31")} ${message}\n`);
    return 70;
  }

  /** A reporter for core code that writes to this output. */
  /** A reporter for core code that writes to this output, with a live status line on a TTY. */
  reporter(): Reporter {
    return {
      log: (level: LogLevel, message: string) => {
        if (level === "warn") this.warn(message);
        else if (level === "info") this.info(message);
        else this.debug(message);
      },
      task: (label: string, total?: number, unit?: string): ProgressTask =>
        this.progress.start(label, total, unit),
    };
  }

  private style(text: string, code: string): string {
    return this.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
