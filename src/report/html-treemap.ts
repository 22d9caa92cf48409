/**
 * The treemap of the HTML size page: a squarified layout (Bruls, Huizing & van Wijk, 2000)
 * computed here, so the page needs no layout script and every rectangle's area is exactly
 * proportional to its bytes. Rectangles are written as percentages of the treemap box, so the
 * proportions hold at any size the browser gives the box.
 */
import { LIGHT_KINDS } from "./html-assets.ts";
import { escapeHtml, formatBytes, formatCount, formatShare } from "./html-format.ts";
import type { SizeFigures, SizeKind, SizeReport } from "./types.ts";
import { SIZE_KINDS } from "./types.ts";

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The coordinate space the layout is computed in; the page's treemap box has this aspect. */
export const TREEMAP_WIDTH = 1000;
export const TREEMAP_HEIGHT = 500;

/** The worst aspect ratio of a row of areas laid along a side of length `side`. */
function worst(areas: readonly number[], sum: number, side: number): number {
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const a of areas) {
    if (a > max) max = a;
    if (a < min) min = a;
  }
  const s2 = sum * sum;
  const w2 = side * side;
  return Math.max((w2 * max) / s2, s2 / (w2 * min));
}

/**
 * Squarified treemap: splits `rect` into one rectangle per value, each with an area
 * proportional to its value. Returns the rectangles in the order of `values`. Values that
 * are zero, negative or not finite get an empty rectangle at the corner of `rect`.
 */
export function squarify(values: readonly number[], rect: Rect): Rect[] {
  const out: Rect[] = values.map(() => ({ x: rect.x, y: rect.y, w: 0, h: 0 }));
  const order = values
    .map((v, i) => ({ v, i }))
    .filter((e) => Number.isFinite(e.v) && e.v > 0)
    .sort((a, b) => b.v - a.v || a.i - b.i);
  const total = order.reduce((s, e) => s + e.v, 0);
  if (total <= 0 || rect.w <= 0 || rect.h <= 0) return out;
  const scale = (rect.w * rect.h) / total;
  const items = order.map((e) => ({ i: e.i, area: e.v * scale }));
  let free: Rect = { ...rect };
  let start = 0;
  while (start < items.length) {
    const side = Math.min(free.w, free.h);
    const row: number[] = [];
    let sum = 0;
    let end = start;
    while (end < items.length) {
      const area = (items[end] as { area: number }).area;
      if (row.length > 0 && worst([...row, area], sum + area, side) > worst(row, sum, side)) break;
      row.push(area);
      sum += area;
      end++;
    }
    const last = end === items.length;
    if (free.w >= free.h) {
      // A column along the left side, as tall as the free space.
      const colW = last ? free.w : sum / free.h;
      let y = free.y;
      for (let k = start; k < end; k++) {
        const item = items[k] as { i: number; area: number };
        const h = k === end - 1 ? free.y + free.h - y : item.area / colW;
        out[item.i] = { x: free.x, y, w: colW, h };
        y += h;
      }
      free = { x: free.x + colW, y: free.y, w: free.w - colW, h: free.h };
    } else {
      // A row along the top side, as wide as the free space.
      const rowH = last ? free.h : sum / free.w;
      let x = free.x;
      for (let k = start; k < end; k++) {
        const item = items[k] as { i: number; area: number };
        const w = k === end - 1 ? free.x + free.w - x : item.area / rowH;
        out[item.i] = { x, y: free.y, w, h: rowH };
        x += w;
      }
      free = { x: free.x, y: free.y + rowH, w: free.w, h: free.h - rowH };
    }
    start = end;
  }
  return out;
}

/** One block of the treemap: a distribution, or the files no distribution owns. */
interface Block {
  label: string;
  sub: string;
  cls: "tm-dist" | "tm-unowned";
  attrs: string;
  src: string;
  total: SizeFigures;
  byKind: Record<SizeKind, SizeFigures>;
}

function pct(v: number, of: number): string {
  return `${Number(((v / of) * 100).toFixed(4))}%`;
}

function boxStyle(r: Rect, outer: Rect): string {
  return (
    `left:${pct(r.x - outer.x, outer.w)};top:${pct(r.y - outer.y, outer.h)};` +
    `width:${pct(r.w, outer.w)};height:${pct(r.h, outer.h)}`
  );
}

function tip(title: string, f: SizeFigures, whole: number): string {
  return (
    `${title}\n${formatBytes(f.onDisk)} on disk (${formatCount(f.onDisk)} bytes, ` +
    `${formatShare(f.onDisk, whole)})\n${formatBytes(f.apparent)} apparent · ` +
    `${formatCount(f.files)} files`
  );
}

function blockHtml(b: Block, r: Rect, whole: number): string {
  const inner: Rect = { x: 0, y: 0, w: r.w, h: r.h };
  const kinds = SIZE_KINDS.filter((k) => b.byKind[k].onDisk > 0);
  const rects = squarify(
    kinds.map((k) => b.byKind[k].onDisk),
    inner,
  );
  const cells = kinds.map((k, i) => {
    const f = b.byKind[k];
    const t = tip(`${b.label} — ${k}`, f, whole);
    return (
      `<div class="tm-kind k-${k}${LIGHT_KINDS.has(k) ? " light" : ""}" data-kind="${k}" data-bytes="${f.onDisk}" ` +
      `data-src="${b.src}.byKind.${k}.onDisk" style="${boxStyle(rects[i] as Rect, inner)}" ` +
      `title="${escapeHtml(t)}"><span class="tm-kl">${k}</span></div>`
    );
  });
  const title = tip(b.label + (b.sub ? ` ${b.sub}` : ""), b.total, whole);
  return (
    `<div class="${b.cls}" ${b.attrs} data-bytes="${b.total.onDisk}" ` +
    `data-src="${b.src}.total.onDisk" style="${boxStyle(r, { x: 0, y: 0, w: TREEMAP_WIDTH, h: TREEMAP_HEIGHT })}" ` +
    `title="${escapeHtml(title)}">${cells.join("")}` +
    `<span class="tm-label"><span class="tm-name">${escapeHtml(b.label)}</span> ` +
    `<span class="tm-size">${escapeHtml(formatBytes(b.total.onDisk))}</span></span></div>`
  );
}

/** What the page calls the files no distribution owns. */
export function unownedLabel(report: SizeReport): string {
  if (report.layout === "stdlib") return "standard library";
  return report.distributions.length === 0 ? "all files" : "not in any RECORD";
}

/**
 * The treemap's markup: one `.tm-dist` block per distribution (in report order, carrying
 * `data-index`), one `.tm-unowned` block for files no distribution owns (when there are any),
 * each split into `.tm-kind` cells by kind.
 */
export function treemapHtml(report: SizeReport): string {
  const blocks: Block[] = report.distributions.map((d, i) => ({
    label: d.name,
    sub: d.version,
    cls: "tm-dist",
    attrs: `data-index="${i}"`,
    src: `distributions.${i}`,
    total: d.total,
    byKind: d.byKind,
  }));
  if (report.unowned.total.onDisk > 0) {
    blocks.push({
      label: unownedLabel(report),
      sub: "",
      cls: "tm-unowned",
      attrs: 'data-unowned=""',
      src: "unowned",
      total: report.unowned.total,
      byKind: report.unowned.byKind,
    });
  }
  const whole = blocks.reduce((s, b) => s + b.total.onDisk, 0);
  if (whole === 0) {
    return '<div class="treemap tm-empty" id="treemap"><p>Nothing on disk to show.</p></div>';
  }
  const rects = squarify(
    blocks.map((b) => b.total.onDisk),
    { x: 0, y: 0, w: TREEMAP_WIDTH, h: TREEMAP_HEIGHT },
  );
  const body = blocks.map((b, i) => blockHtml(b, rects[i] as Rect, report.total.onDisk || whole));
  return `<div class="treemap" id="treemap" data-whole="${whole}">${body.join("")}</div>`;
}
