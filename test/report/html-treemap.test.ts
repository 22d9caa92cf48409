import { describe, expect, it } from "vitest";
import {
  escapeHtml,
  formatBytes,
  formatCount,
  formatShare,
  jsonForScript,
} from "../../src/report/html-format.ts";
import type { Rect } from "../../src/report/html-treemap.ts";
import { squarify, treemapHtml } from "../../src/report/html-treemap.ts";
import type { SizeReport } from "../../src/report/types.ts";
import { zeroByKind, zeroFigures } from "../../src/report/types.ts";
import { Rng } from "../helpers/random.ts";

const EPS = 1e-6;

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

describe("squarify", () => {
  it("gives each value an area proportional to it, inside the box, without overlap", () => {
    const rng = new Rng(20240611);
    for (let round = 0; round < 300; round++) {
      const n = 1 + rng.int(40);
      const values = Array.from({ length: n }, () => {
        const scale = 10 ** rng.int(7);
        return rng.chance(0.1) ? 0 : Math.floor(rng.next() * scale) + 1;
      });
      const box: Rect = {
        x: rng.int(50),
        y: rng.int(50),
        w: 10 + rng.int(990),
        h: 10 + rng.int(990),
      };
      const rects = squarify(values, box);
      expect(rects).toHaveLength(n);
      const total = values.reduce((s, v) => s + v, 0);
      let sum = 0;
      rects.forEach((r, i) => {
        const v = values[i] as number;
        const expected = total === 0 ? 0 : (v / total) * box.w * box.h;
        expect(Math.abs(r.w * r.h - expected)).toBeLessThanOrEqual(1e-6 * box.w * box.h);
        expect(r.w).toBeGreaterThanOrEqual(-EPS);
        expect(r.h).toBeGreaterThanOrEqual(-EPS);
        if (v > 0) {
          expect(r.x).toBeGreaterThanOrEqual(box.x - EPS);
          expect(r.y).toBeGreaterThanOrEqual(box.y - EPS);
          expect(r.x + r.w).toBeLessThanOrEqual(box.x + box.w + 1e-6 * box.w);
          expect(r.y + r.h).toBeLessThanOrEqual(box.y + box.h + 1e-6 * box.h);
        }
        sum += r.w * r.h;
      });
      if (total > 0) expect(Math.abs(sum - box.w * box.h)).toBeLessThan(1e-6 * box.w * box.h);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          expect(overlap(rects[i] as Rect, rects[j] as Rect)).toBeLessThan(1e-6 * box.w * box.h);
        }
      }
    }
  });

  it("keeps rectangles near square for equal values", () => {
    const rects = squarify(Array(16).fill(1), { x: 0, y: 0, w: 400, h: 400 });
    for (const r of rects) {
      expect(Math.max(r.w / r.h, r.h / r.w)).toBeLessThan(1.5);
      expect(r.w * r.h).toBeCloseTo(10000, 6);
    }
  });

  it("gives zero, negative and non-finite values an empty rectangle", () => {
    const rects = squarify([0, 5, -3, Number.NaN, 5], { x: 10, y: 20, w: 100, h: 50 });
    expect(rects[0]).toEqual({ x: 10, y: 20, w: 0, h: 0 });
    expect(rects[2]).toEqual({ x: 10, y: 20, w: 0, h: 0 });
    expect(rects[3]).toEqual({ x: 10, y: 20, w: 0, h: 0 });
    expect((rects[1] as Rect).w * (rects[1] as Rect).h).toBeCloseTo(2500, 9);
    expect((rects[4] as Rect).w * (rects[4] as Rect).h).toBeCloseTo(2500, 9);
    expect(squarify([], { x: 0, y: 0, w: 1, h: 1 })).toEqual([]);
    expect(squarify([0, 0], { x: 0, y: 0, w: 1, h: 1 })).toEqual([
      { x: 0, y: 0, w: 0, h: 0 },
      { x: 0, y: 0, w: 0, h: 0 },
    ]);
  });
});

describe("treemapHtml", () => {
  it("says so when there is nothing on disk", () => {
    const report: SizeReport = {
      version: 1,
      path: "/e",
      layout: "dir",
      total: zeroFigures(),
      byKind: zeroByKind(),
      distributions: [],
      unowned: { total: zeroFigures(), byKind: zeroByKind() },
      savings: [],
    };
    const html = treemapHtml(report);
    expect(html).toContain("Nothing on disk");
    expect(html).not.toContain("tm-dist");
  });
});

describe("html text helpers", () => {
  it("escapes text and attributes", () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&amp;`)).toBe(
      "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;amp;",
    );
    expect(escapeHtml("numpy")).toBe("numpy");
  });

  it("embeds JSON that cannot close the script element and parses back", () => {
    const value = {
      a: "</script><script>alert(1)</script>",
      b: "<!-- x --> & \u2028\u2029 </SCRIPT >",
      c: [1, 2.5, -3],
    };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/<|>|&|\u2028|\u2029/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("formats bytes, counts and shares", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(85 * 1024 * 1024)).toBe("85.0 MiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GiB");
    expect(formatCount(0)).toBe("0");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(-1000)).toBe("-1,000");
    expect(formatShare(1, 4)).toBe("25.0%");
    expect(formatShare(0, 4)).toBe("0%");
    expect(formatShare(1, 0)).toBe("0%");
    expect(formatShare(1, 100000)).toBe("<0.1%");
  });
});
