/**
 * Seeded pseudo-random numbers for generated test cases, so a failing case reproduces from its
 * seed. One algorithm for every test (mulberry32): changing it changes every generated case.
 */

/** mulberry32: a small 32-bit PRNG giving numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random choices from one seed. Every method draws exactly one number from `next`. */
export class Rng {
  /** The next number in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** One of the items (undefined only when the list is empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}
