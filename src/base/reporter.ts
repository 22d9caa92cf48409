/**
 * How core code tells the outside world what it is doing. Core never prints; it calls a
 * reporter, and the CLI decides how (progress bars on a TTY, plain lines, JSON, nothing).
 */

export type LogLevel = "debug" | "info" | "warn";

export interface ProgressTask {
  /** Advance by `n` units (bytes, files, packages). */
  advance(n: number): void;
  /** Set the total once it is known. */
  setTotal(total: number): void;
  /** Finish the task (successfully or not). */
  done(): void;
}

export interface Reporter {
  log(level: LogLevel, message: string): void;
  /** Start a task; `total` may be unknown. `unit` is for display ("B", "files"). */
  task(label: string, total?: number, unit?: string): ProgressTask;
}

const NOOP_TASK: ProgressTask = {
  advance() {},
  setTotal() {},
  done() {},
};

/** A reporter that drops everything: the default for library callers. */
export const silentReporter: Reporter = {
  log() {},
  task() {
    return NOOP_TASK;
  },
};

export interface RecordedEvent {
  kind: "log" | "task-start" | "task-advance" | "task-total" | "task-done";
  label: string;
  level?: LogLevel;
  value?: number;
}

/** A reporter that keeps every event, for tests and for `--json` event streams. */
export class RecordingReporter implements Reporter {
  readonly events: RecordedEvent[] = [];

  log(level: LogLevel, message: string): void {
    this.events.push({ kind: "log", label: message, level });
  }

  task(label: string, total?: number, _unit?: string): ProgressTask {
    const events = this.events;
    events.push(
      total === undefined
        ? { kind: "task-start", label }
        : { kind: "task-start", label, value: total },
    );
    return {
      advance(n) {
        events.push({ kind: "task-advance", label, value: n });
      },
      setTotal(t) {
        events.push({ kind: "task-total", label, value: t });
      },
      done() {
        events.push({ kind: "task-done", label });
      },
    };
  }

  messages(level?: LogLevel): string[] {
    return this.events
      .filter((e) => e.kind === "log" && (level === undefined || e.level === level))
      .map((e) => e.label);
  }
}
