/**
 * Suffix array by SA-IS (Nong, Zhang, Chan 2009), for the bsdiff encoder: linear time, and
 * in place in the output array as in Yuta Mori's sais — the reduced problem of a level lives
 * in the two halves of that level's output, so the memory is the output (4 bytes per input
 * byte), one type byte per input symbol of each level (n + n/2 + …) and the bucket arrays.
 * No sentinel is needed: the end of the text is a virtual smallest symbol.
 */

/** Below this many symbols a plain comparison sort is faster than the machinery. */
const NAIVE_BELOW = 16;

type Text = Uint8Array | Int32Array;

/** The suffix array of `text`: positions of its suffixes in lexicographic order. */
export function suffixArray(text: Uint8Array): Int32Array {
  const sa = new Int32Array(text.length);
  sais(text, sa, text.length, 255);
  return sa;
}

function naive(s: Text, sa: Int32Array, n: number): void {
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    if (a === b) return 0;
    while (a < n && b < n) {
      const d = (s[a] as number) - (s[b] as number);
      if (d !== 0) return d;
      a++;
      b++;
    }
    return a === n ? -1 : 1;
  });
  for (let i = 0; i < n; i++) sa[i] = order[i] as number;
}

/** Bucket starts (`end` false) or ends (`end` true) of each symbol, from the counts. */
function buckets(counts: Int32Array, out: Int32Array, end: boolean): void {
  let sum = 0;
  for (let c = 0; c < counts.length; c++) {
    sum += counts[c] as number;
    out[c] = end ? sum : sum - (counts[c] as number);
  }
}

/** `sa[bkt[c]++] = v` */
function put(sa: Int32Array, bkt: Int32Array, c: number, v: number): void {
  const at = bkt[c] as number;
  sa[at] = v;
  bkt[c] = at + 1;
}

/** `sa[--bkt[c]] = v` */
function putBack(sa: Int32Array, bkt: Int32Array, c: number, v: number): void {
  const at = (bkt[c] as number) - 1;
  sa[at] = v;
  bkt[c] = at;
}

/** The L- and S-type passes that sort every suffix from sorted LMS suffixes in their buckets. */
function induce(
  s: Text,
  sa: Int32Array,
  n: number,
  ls: Uint8Array,
  counts: Int32Array,
  bkt: Int32Array,
): void {
  buckets(counts, bkt, false);
  // The virtual sentinel's predecessor, the last suffix, comes first in its bucket.
  put(sa, bkt, s[n - 1] as number, n - 1);
  for (let i = 0; i < n; i++) {
    const v = (sa[i] as number) - 1;
    if (v >= 0 && ls[v] === 0) put(sa, bkt, s[v] as number, v);
  }
  buckets(counts, bkt, true);
  for (let i = n - 1; i >= 0; i--) {
    const v = (sa[i] as number) - 1;
    if (v >= 0 && ls[v] === 1) putBack(sa, bkt, s[v] as number, v);
  }
}

function isLms(ls: Uint8Array, i: number): boolean {
  return i > 0 && ls[i] === 1 && ls[i - 1] === 0;
}

/** SA-IS of `s[0..n)` with symbols in `[0, upper]` into `sa[0..n)`. */
function sais(s: Text, sa: Int32Array, n: number, upper: number): void {
  if (n < NAIVE_BELOW) {
    naive(s, sa, n);
    return;
  }
  // Types: 1 = S (smaller than the suffix after it), 0 = L. The last suffix is L.
  const ls = new Uint8Array(n);
  for (let i = n - 2; i >= 0; i--) {
    const a = s[i] as number;
    const b = s[i + 1] as number;
    ls[i] = a === b ? (ls[i + 1] as number) : a < b ? 1 : 0;
  }
  const counts = new Int32Array(upper + 1);
  for (let i = 0; i < n; i++) {
    const c = s[i] as number;
    counts[c] = (counts[c] as number) + 1;
  }
  const bkt = new Int32Array(upper + 1);

  // 1. LMS suffixes in text order at their bucket ends; induce: LMS substrings sorted.
  sa.fill(-1, 0, n);
  buckets(counts, bkt, true);
  let m = 0;
  for (let i = 1; i < n; i++) {
    if (isLms(ls, i)) {
      putBack(sa, bkt, s[i] as number, i);
      m++;
    }
  }
  induce(s, sa, n, ls, counts, bkt);

  // 2. The sorted LMS positions to sa[0..m); their substring lengths at sa[m + pos/2].
  let j = 0;
  for (let i = 0; i < n; i++) {
    const v = sa[i] as number;
    if (isLms(ls, v)) sa[j++] = v;
  }
  sa.fill(-1, m, n);
  let next = n;
  for (let i = n - 1; i >= 1; i--) {
    if (isLms(ls, i)) {
      sa[m + (i >> 1)] = next - i;
      next = i;
    }
  }

  // 3. Name the LMS substrings in sorted order (equal substrings, equal names).
  let names = 0;
  let prev = -1;
  let prevLen = 0;
  for (let i = 0; i < m; i++) {
    const p = sa[i] as number;
    const len = sa[m + (p >> 1)] as number;
    let same = false;
    if (prev >= 0 && len === prevLen && prev + len < n && p + len < n) {
      let k = 0;
      while (k <= len && s[prev + k] === s[p + k]) k++;
      same = k > len;
    }
    if (!same) names++;
    sa[m + (p >> 1)] = names - 1;
    prev = p;
    prevLen = len;
  }
  // The reduced text (names in text order) to sa[n-m..n).
  j = n - 1;
  for (let i = n - 1; i >= m; i--) {
    const v = sa[i] as number;
    if (v >= 0) sa[j--] = v;
  }

  // 4. Sort the reduced text: directly when every name is unique, else recursively.
  const reduced = sa.subarray(n - m, n);
  if (names < m) {
    sais(reduced, sa.subarray(0, m), m, names - 1);
  } else {
    for (let i = 0; i < m; i++) sa[reduced[i] as number] = i;
  }

  // 5. Map the reduced suffix array back to LMS positions, then induce the whole.
  j = n - m;
  for (let i = 1; i < n; i++) if (isLms(ls, i)) sa[j++] = i;
  for (let i = 0; i < m; i++) sa[i] = sa[n - m + (sa[i] as number)] as number;
  sa.fill(-1, m, n);
  buckets(counts, bkt, true);
  for (let i = m - 1; i >= 0; i--) {
    const p = sa[i] as number;
    sa[i] = -1;
    putBack(sa, bkt, s[p] as number, p);
  }
  induce(s, sa, n, ls, counts, bkt);
}
