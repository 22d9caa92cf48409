/**
 * Provider calls for one resolution: each answer is asked once and cached, at most
 * `concurrency` calls are in flight, and calls the solver is waiting for go before
 * background prefetches. A failed call keeps its error for whoever awaits it (and never
 * surfaces as an unhandled rejection when nobody does).
 */
import type { Requirement } from "../standards/requirement.ts";
import type { Version } from "../standards/version.ts";
import type { Candidate, Dependencies, ResolverProvider } from "./types.ts";

interface Task {
  readonly run: () => void;
  urgent: boolean;
  started: boolean;
}

interface Entry<T> {
  readonly promise: Promise<T>;
  readonly task: Task;
}

export class Fetcher {
  readonly #provider: ResolverProvider;
  readonly #limit: number;
  #running = 0;
  readonly #queue: Task[] = [];
  readonly #candidates = new Map<string, Entry<Candidate[]>>();
  readonly #dependencies = new Map<string, Entry<Dependencies>>();
  readonly #urls = new Map<string, Entry<{ version: Version; requires: Requirement[] }>>();

  constructor(provider: ResolverProvider, concurrency = 16) {
    this.#provider = provider;
    this.#limit = Math.max(1, Math.floor(concurrency));
  }

  candidates(name: string, urgent = true): Promise<Candidate[]> {
    return this.#get(this.#candidates, name, urgent, () => this.#provider.candidates(name));
  }

  dependencies(name: string, version: Version, urgent = true): Promise<Dependencies> {
    return this.#get(this.#dependencies, `${name} ${version}`, urgent, () =>
      this.#provider.dependencies(name, version),
    );
  }

  directUrl(req: Requirement): Promise<{ version: Version; requires: Requirement[] }> {
    const provider = this.#provider;
    return this.#get(this.#urls, req.url ?? "", true, () => {
      if (provider.directUrl === undefined) {
        return Promise.reject(new Error("the provider cannot read direct URL requirements"));
      }
      return provider.directUrl(req);
    });
  }

  /** True once the answer for these dependencies was asked for (prefetch or not). */
  hasDependencies(name: string, version: Version): boolean {
    return this.#dependencies.has(`${name} ${version}`);
  }

  #get<T>(cache: Map<string, Entry<T>>, key: string, urgent: boolean, call: () => Promise<T>) {
    const known = cache.get(key);
    if (known !== undefined) {
      if (urgent && !known.task.started && !known.task.urgent) {
        known.task.urgent = true;
        this.#queue.splice(this.#queue.indexOf(known.task), 1);
        this.#enqueue(known.task);
      }
      return known.promise;
    }
    let resolveFn: (value: T) => void = () => {};
    let rejectFn: (reason: unknown) => void = () => {};
    const promise = new Promise<T>((res, rej) => {
      resolveFn = res;
      rejectFn = rej;
    });
    promise.catch(() => {});
    const task: Task = {
      urgent,
      started: false,
      run: () => {
        this.#running++;
        let result: Promise<T>;
        try {
          result = call();
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(resolveFn, rejectFn).finally(() => {
          this.#running--;
          this.#pump();
        });
      },
    };
    cache.set(key, { promise, task });
    this.#enqueue(task);
    this.#pump();
    return promise;
  }

  #enqueue(task: Task): void {
    if (task.urgent) {
      const firstLazy = this.#queue.findIndex((t) => !t.urgent);
      if (firstLazy < 0) this.#queue.push(task);
      else this.#queue.splice(firstLazy, 0, task);
    } else {
      this.#queue.push(task);
    }
  }

  #pump(): void {
    while (this.#running < this.#limit) {
      const task = this.#queue.shift();
      if (task === undefined) return;
      task.started = true;
      task.run();
    }
  }
}
