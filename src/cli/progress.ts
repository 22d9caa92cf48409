/**
 * Progress display for the CLI. On a TTY, one status line on stderr is redrawn (at most
 * every 80 ms) with every running task: `Resolving 34/51 · Downloading 12.3/40.0 MiB`.
 * Elsewhere nothing is drawn; a finished task prints one plain line. Log lines clear the
 * status line first, so the two never mix.
 */
import type { ProgressTask } from "../base/index.ts";
import { formatBytes } from "../base/index.ts";

interface Running {
  label: string;
  unit: string | undefined;
  done: number;
  total: number | undefined;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 80;

function formatAmount(n: number, unit: string | undefined): string {
  return unit === "B" ? formatBytes(n) : String(n);
}

function describe(t: Running): string {
  const done = formatAmount(t.done, t.unit);
  if (t.total === undefined) return `${t.label} ${done}`;
  return `${t.label} ${done}/${formatAmount(t.total, t.unit)}`;
}

export class ProgressDisplay {
  private readonly tasks = new Set<Running>();
  private readonly stream: ProgressStream;
  private readonly live: boolean;
  private readonly finished: (line: string) => void;
  private lastDraw = 0;
  private drawn = false;

  /** `live`: draw the status line; `finished` receives one line per finished task. */
  constructor(stream: ProgressStream, live: boolean, finished: (line: string) => void) {
    this.stream = stream;
    this.live = live;
    this.finished = finished;
  }

  start(label: string, total: number | undefined, unit: string | undefined): ProgressTask {
    const t: Running = { label, unit, done: 0, total };
    this.tasks.add(t);
    this.redraw(true);
    return {
      advance: (n) => {
        t.done += n;
        this.redraw(false);
      },
      setTotal: (total) => {
        t.total = total;
        this.redraw(false);
      },
      done: () => {
        if (!this.tasks.delete(t)) return;
        this.clear();
        this.finished(describe(t));
        this.redraw(true);
      },
    };
  }

  /** Remove the status line (before other output is written). */
  clear(): void {
    if (this.drawn) {
      this.stream.write("\r\u001b[K");
      this.drawn = false;
    }
  }

  /** Put the status line back after other output. */
  restore(): void {
    this.redraw(true);
  }

  private redraw(force: boolean): void {
    if (!this.live) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.clear();
    if (this.tasks.size === 0) return;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    const line = [...this.tasks].map(describe).join(" · ");
    this.stream.write(line.length > width ? `${line.slice(0, width - 1)}…` : line);
    this.drawn = true;
  }
}
