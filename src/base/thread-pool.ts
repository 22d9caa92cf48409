/**
 * A small pool of worker threads running one script: jobs are queued and each worker runs
 * one at a time. Workers start on first use, up to `size`, and stay for the next job; an idle
 * worker does not keep the process alive. The script answers each `{ id, job }` message
 * with `{ id, result }` (a job's own failures belong in its result: the pool rejects only
 * when a worker dies or cannot start).
 */
import { Worker } from "node:worker_threads";

interface Pending {
  id: number;
  job: unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
}

export class ThreadPool<Job, Result> {
  readonly #script: URL;
  readonly #size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;

  constructor(script: URL, size: number) {
    this.#script = script;
    this.#size = Math.max(1, Math.floor(size));
  }

  get size(): number {
    return this.#size;
  }

  /** Run `job` on a worker; resolves with the script's result. */
  run(job: Job): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({
        id: this.#nextId++,
        job,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /** Stop every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    for (const p of this.#queue.splice(0)) p.reject(new Error("thread pool closed"));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.current === undefined);
      if (slot === undefined) {
        if (this.#slots.length >= this.#size) return;
        slot = this.#spawn();
      }
      const next = this.#queue.shift() as Pending;
      slot.current = next;
      slot.worker.ref();
      slot.worker.postMessage({ id: next.id, job: next.job });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(this.#script);
    const slot: Slot = { worker, current: undefined };
    worker.on("message", (message: { id: number; result: unknown }) => {
      const done = slot.current;
      if (done === undefined || done.id !== message.id) return;
      slot.current = undefined;
      worker.unref();
      done.resolve(message.result);
      this.#dispatch();
    });
    const fail = (err: unknown) => {
      const index = this.#slots.indexOf(slot);
      if (index < 0) return;
      this.#slots.splice(index, 1);
      const done = slot.current;
      slot.current = undefined;
      done?.reject(err);
      void worker.terminate();
      this.#dispatch();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`worker thread exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }
}
