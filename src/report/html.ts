/**
 * `slimenv size --html FILE`: one self-contained HTML page for a SizeReport — summary, a
 * treemap of distributions split by kind, a kind legend, and tables of distributions, kinds
 * and savings. Inline CSS and script only; a Content-Security-Policy forbids every request.
 *
 * Every figure shown carries its exact value (`data-bytes` or `data-count`) and where it comes
 * from in the report (`data-src`, a dotted path such as `distributions.0.total.onDisk`), and
 * the report itself is embedded as JSON in `<script type="application/json" id="size-report">`.
 */
import { createHash } from "node:crypto";
import { KIND_NOTES, PAGE_CSS, PAGE_SCRIPT } from "./html-assets.ts";
import { escapeHtml, formatBytes, formatCount, formatShare, jsonForScript } from "./html-format.ts";
import { treemapHtml, unownedLabel } from "./html-treemap.ts";
import type { SizeFigures, SizeKind, SizeReport } from "./types.ts";
import { SIZE_KINDS } from "./types.ts";

function attr(value: number | string): string {
  return escapeHtml(String(value));
}

function bytesCell(bytes: number, src: string, whole?: number): string {
  const t = `${formatCount(bytes)} bytes${whole === undefined ? "" : ` · ${formatShare(bytes, whole)}`}`;
  return (
    `<td class="num" data-bytes="${attr(bytes)}" data-src="${src}" title="${escapeHtml(t)}">` +
    `${formatBytes(bytes)}</td>`
  );
}

function countCell(count: number, src: string): string {
  return `<td class="num" data-count="${attr(count)}" data-src="${src}">${formatCount(count)}</td>`;
}

function shareCell(part: number, whole: number): string {
  return `<td class="num share">${formatShare(part, whole)}</td>`;
}

/** A bar split by kind; its width is `scale` (0..1) of the cell. */
function kindBar(byKind: Record<SizeKind, SizeFigures>, src: string, label: string, scale: number) {
  const segs = SIZE_KINDS.filter((k) => byKind[k].onDisk > 0).map((k) => {
    const f = byKind[k];
    const t = `${label} — ${k}\n${formatBytes(f.onDisk)} on disk (${formatCount(f.onDisk)} bytes)`;
    return (
      `<span class="seg k-${k}" data-kind="${k}" data-bytes="${attr(f.onDisk)}" ` +
      `data-src="${src}.byKind.${k}.onDisk" style="flex-grow:${attr(f.onDisk)}" ` +
      `title="${escapeHtml(t)}"></span>`
    );
  });
  const width = `${Number((Math.max(0, Math.min(1, scale)) * 100).toFixed(3))}%`;
  return `<td class="barcell"><div class="bar" style="width:${width}">${segs.join("")}</div></td>`;
}

function figuresCells(f: SizeFigures, src: string, whole: number): string {
  return (
    bytesCell(f.onDisk, `${src}.onDisk`, whole) +
    shareCell(f.onDisk, whole) +
    bytesCell(f.apparent, `${src}.apparent`) +
    countCell(f.files, `${src}.files`)
  );
}

const FIGURE_HEADS =
  '<th class="num" data-sort="num">On disk</th><th class="num" data-sort="num">Share</th>' +
  '<th class="num" data-sort="num">Apparent</th><th class="num" data-sort="num">Files</th>';

function distributionsTable(report: SizeReport): string {
  const whole = report.total.onDisk;
  const max = Math.max(1, ...report.distributions.map((d) => d.total.onDisk));
  const rows = report.distributions.map((d, i) => {
    const src = `distributions.${i}`;
    return (
      `<tr data-index="${i}"><td class="name">${escapeHtml(d.name)}</td>` +
      `<td class="ver">${escapeHtml(d.version)}</td>` +
      figuresCells(d.total, `${src}.total`, whole) +
      kindBar(d.byKind, src, `${d.name} ${d.version}`, d.total.onDisk / max) +
      "</tr>"
    );
  });
  if (rows.length === 0) {
    rows.push(
      '<tr><td class="none" colspan="7">No distributions (no dist-info RECORD found)</td></tr>',
    );
  }
  const u = report.unowned;
  const label = unownedLabel(report);
  const foot =
    `<tr class="unowned"><td colspan="2">${escapeHtml(label)}</td>${figuresCells(u.total, "unowned.total", whole)}` +
    `${kindBar(u.byKind, "unowned", label, u.total.onDisk / max)}</tr>` +
    `<tr class="total"><td colspan="2">Total</td>${figuresCells(report.total, "total", whole)}<td></td></tr>`;
  return (
    '<table id="distributions"><thead><tr><th data-sort="text">Distribution</th>' +
    `<th data-sort="text">Version</th>${FIGURE_HEADS}<th>By kind</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody><tfoot>${foot}</tfoot></table>`
  );
}

function kindsTable(report: SizeReport): string {
  const whole = report.total.onDisk;
  const rows = SIZE_KINDS.map((k) => {
    const f = report.byKind[k];
    return (
      `<tr data-kind="${k}"><td class="name kind"><span class="sw k-${k}"></span> ${k}</td>` +
      `${figuresCells(f, `byKind.${k}`, whole)}<td class="note">${escapeHtml(KIND_NOTES[k])}</td></tr>`
    );
  });
  return (
    '<table id="kinds"><thead><tr><th data-sort="text">Kind</th>' +
    `${FIGURE_HEADS}<th class="note">Holds</th></tr></thead><tbody>${rows.join("")}</tbody>` +
    `<tfoot><tr class="total"><td>Total</td>${figuresCells(report.total, "total", whole)}<td></td></tr></tfoot></table>`
  );
}

function savingsTable(report: SizeReport): string {
  const whole = report.total.onDisk;
  const max = Math.max(1, ...report.savings.map((s) => s.bytes));
  const order = report.savings.map((s, i) => ({ s, i })).sort((a, b) => b.s.bytes - a.s.bytes);
  const rows = order.map(({ s, i }) => {
    const width = `${Number(((Math.max(0, s.bytes) / max) * 100).toFixed(3))}%`;
    return (
      `<tr data-index="${i}"><td class="mono">${escapeHtml(s.policy)}</td>` +
      `<td class="desc">${escapeHtml(s.description)}</td>` +
      bytesCell(s.bytes, `savings.${i}.bytes`, whole) +
      shareCell(s.bytes, whole) +
      `<td class="barcell"><div class="bar plain" style="width:${width}"><span class="seg" style="flex-grow:1"></span></div></td></tr>`
    );
  });
  if (rows.length === 0)
    rows.push('<tr><td class="none" colspan="5">No savings estimated</td></tr>');
  return (
    '<table id="savings"><thead><tr><th data-sort="text">Policy</th><th>What it does</th>' +
    '<th class="num" data-sort="num">Would save</th><th class="num" data-sort="num">Of total</th>' +
    `<th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

function card(label: string, value: string, detail: string, attrs = ""): string {
  return (
    `<div class="card"><div class="label">${label}</div>` +
    `<div class="value"${attrs}>${value}</div><div class="detail">${detail}</div></div>`
  );
}

function summary(report: SizeReport): string {
  const t = report.total;
  const best = report.savings.reduce<SizeReport["savings"][number] | undefined>(
    (a, s) => (a === undefined || s.bytes > a.bytes ? s : a),
    undefined,
  );
  const n = report.distributions.length;
  return (
    '<div class="cards">' +
    card(
      "On disk",
      formatBytes(t.onDisk),
      `${formatCount(t.onDisk)} bytes`,
      ` id="total-ondisk" data-bytes="${attr(t.onDisk)}" data-src="total.onDisk"`,
    ) +
    card(
      "Apparent size",
      formatBytes(t.apparent),
      `${formatCount(t.apparent)} bytes`,
      ` id="total-apparent" data-bytes="${attr(t.apparent)}" data-src="total.apparent"`,
    ) +
    card(
      "Files",
      formatCount(t.files),
      "hard-linked files counted once",
      ` id="total-files" data-count="${attr(t.files)}" data-src="total.files"`,
    ) +
    card(
      "Distributions",
      formatCount(n),
      `${formatBytes(report.unowned.total.onDisk)} in no RECORD`,
    ) +
    (best === undefined
      ? ""
      : card(
          "Largest saving",
          formatBytes(best.bytes),
          `${escapeHtml(best.policy)} · ${formatShare(best.bytes, t.onDisk)} of total`,
        )) +
    "</div>"
  );
}

function legend(report: SizeReport): string {
  const items = SIZE_KINDS.filter((k) => report.byKind[k].onDisk > 0).map(
    (k) =>
      `<li data-kind="${k}" title="${escapeHtml(KIND_NOTES[k])}"><span class="sw k-${k}"></span>${k} ` +
      `<span class="n">${formatBytes(report.byKind[k].onDisk)}</span></li>`,
  );
  return `<ul class="legend" id="legend">${items.join("")}</ul>`;
}

/** The complete HTML page for `report` (a UTF-8 string, deterministic for a given report). */
export function renderSizeHtml(report: SizeReport): string {
  const scriptHash = createHash("sha256").update(PAGE_SCRIPT, "utf8").digest("base64");
  const csp =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; " +
    `script-src 'sha256-${scriptHash}'; base-uri 'none'; form-action 'none'`;
  const meta = [
    `layout: ${escapeHtml(report.layout)}`,
    ...(report.python === undefined ? [] : [`Python ${escapeHtml(report.python)}`]),
    `${formatCount(report.distributions.length)} distributions`,
    `${formatCount(report.total.files)} files`,
  ].join(" · ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="slimenv size">
<link rel="icon" href="data:,">
<title>Size of ${escapeHtml(report.path)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
<h1>Size of <span class="path">${escapeHtml(report.path)}</span></h1>
<p class="meta">${meta}</p>
${summary(report)}
<h2>Where the bytes go</h2>
${legend(report)}
${treemapHtml(report)}
<h2>Distributions</h2>
<div class="scroll">${distributionsTable(report)}</div>
<h2>By kind</h2>
<div class="scroll">${kindsTable(report)}</div>
<h2>Possible savings</h2>
<div class="scroll">${savingsTable(report)}</div>
<footer>Made by slimenv size. On disk = allocated blocks (st_blocks × 512), apparent = file
lengths; a file with several hard links is counted once. Savings are estimates of on-disk bytes
and overlap (dropping bytecode and keeping only bytecode both count the same .pyc files).
</footer>
</main>
<div id="tip" hidden></div>
<script type="application/json" id="size-report">${jsonForScript(report)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
