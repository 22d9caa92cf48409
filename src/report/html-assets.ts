/**
 * The inline stylesheet and script of the HTML size page. Nothing here loads anything: the
 * page uses the system's fonts and makes no requests.
 */
import type { SizeKind } from "./types.ts";
import { SIZE_KINDS } from "./types.ts";

/** One colour per kind, shared by the treemap, the legend and the tables' bars. */
export const KIND_COLORS: Record<SizeKind, string> = {
  source: "#4e79a7",
  bytecode: "#f28e2b",
  "bytecode-opt1": "#f5a95a",
  "bytecode-opt2": "#f8c48c",
  "native-code": "#59a14f",
  "native-debug": "#e15759",
  tests: "#b07aa1",
  docs: "#76b7b2",
  metadata: "#9c755f",
  data: "#edc948",
  other: "#bab0ac",
};

/** Kinds whose colour is light enough to want dark text on it. */
export const LIGHT_KINDS: ReadonlySet<SizeKind> = new Set<SizeKind>([
  "bytecode-opt1",
  "bytecode-opt2",
  "docs",
  "data",
  "other",
]);

/** What each kind holds, in a few words, for the legend and the kinds table. */
export const KIND_NOTES: Record<SizeKind, string> = {
  source: "Python source (.py)",
  bytecode: "compiled bytecode (.pyc)",
  "bytecode-opt1": "bytecode for -O (.opt-1.pyc)",
  "bytecode-opt2": "bytecode for -OO (.opt-2.pyc)",
  "native-code": "shared libraries and executables, without debug info",
  "native-debug": "debug info inside native files (ELF .debug_* sections)",
  tests: "test suites shipped with the package",
  docs: "documentation and examples",
  metadata: "dist-info / egg-info metadata",
  data: "package data files",
  other: "everything else",
};

const kindRules = SIZE_KINDS.map((k) => {
  const c = KIND_COLORS[k];
  // Hovering a legend entry fades every other kind in the treemap and the bars.
  const fade =
    `body:has(.legend li[data-kind="${k}"]:hover) .tm-kind:not([data-kind="${k}"]),` +
    `body:has(.legend li[data-kind="${k}"]:hover) .seg:not([data-kind="${k}"]){opacity:.18}`;
  return `.k-${k}{background:${c}}\n${fade}`;
}).join("\n");

export const PAGE_CSS = `
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#e3e7ee;--bg:#ffffff;--panel:#f6f8fb;--accent:#2f6fde}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 28px 40px}
@media (max-width:700px){main{padding:16px 12px 28px}td.note,th.note{display:none}}
h1{font-size:22px;margin:0 0 4px;font-weight:650;overflow-wrap:anywhere}
h1 .path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
h2{font-size:16px;margin:34px 0 10px;font-weight:650}
.meta{color:var(--muted);margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .detail{color:var(--muted);font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;list-style:none;padding:0;margin:0 0 10px}
.legend li{display:flex;align-items:center;gap:6px;cursor:default;font-size:13px}
.legend .n{color:var(--muted);font-variant-numeric:tabular-nums}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}
.treemap{position:relative;width:100%;aspect-ratio:2/1;background:var(--panel);border-radius:6px;overflow:hidden;border:1px solid var(--line)}
.tm-empty{display:flex;align-items:center;justify-content:center;color:var(--muted)}
.tm-dist,.tm-unowned{position:absolute;outline:2px solid #fff;outline-offset:-1px;overflow:hidden;container-type:size}
.tm-unowned{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.25) 0 6px,transparent 6px 12px)}
.tm-kind{position:absolute;box-shadow:inset 0 0 0 .5px rgba(255,255,255,.55);transition:opacity .12s;container-type:size;overflow:hidden}
.tm-kl{position:absolute;left:5px;bottom:3px;font-size:11px;line-height:1.2;white-space:nowrap;color:#fff;text-shadow:0 0 2px rgba(0,0,0,.35);pointer-events:none}
.tm-kind.light .tm-kl{color:rgba(0,0,0,.62);text-shadow:none}
@container (max-width:84px) or (max-height:40px){.tm-kl{display:none}}
.tm-dist:hover .tm-kind,.tm-unowned:hover .tm-kind{filter:brightness(1.07)}
.tm-label{position:absolute;left:0;top:0;max-width:100%;padding:1px 6px 2px;background:rgba(255,255,255,.9);border-radius:0 0 5px 0;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;pointer-events:none}
.tm-name{font-weight:600}
.tm-size{color:var(--muted);font-variant-numeric:tabular-nums}
.tm-unowned .tm-name{font-style:italic}
@container (max-width:46px) or (max-height:19px){.tm-label{display:none}}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em;white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}
th[data-sort]:hover{color:var(--fg)}
th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
td.num,th.num{text-align:right;white-space:nowrap}
td.name{font-weight:600;overflow-wrap:anywhere}
td.kind{white-space:nowrap}
.scroll{overflow-x:auto}
td.ver,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
td.mono{white-space:nowrap}
td.note,td.desc{color:var(--muted)}
td.desc{min-width:200px}
tbody tr:hover{background:var(--panel)}
tfoot td{font-weight:650;border-bottom:none;border-top:2px solid var(--line)}
tfoot tr.unowned td{font-weight:400;font-style:italic;border-top:none}
td.barcell{width:30%;min-width:140px}
.bar{display:flex;height:12px;border-radius:3px;overflow:hidden;background:var(--line)}
.bar .seg{height:100%;min-width:0;transition:opacity .12s}
.bar.plain{background:transparent}
.bar.plain .seg{background:var(--accent)}
.none{color:var(--muted);font-style:italic}
footer{margin-top:36px;color:var(--muted);font-size:12px}
#tip{position:fixed;left:0;top:0;z-index:10;max-width:420px;padding:6px 9px;border-radius:6px;background:rgba(24,29,38,.94);color:#fff;font-size:12px;white-space:pre-line;pointer-events:none}
#tip[hidden]{display:none}
${kindRules}
`;

/**
 * The page's script: title tooltips become one styled tooltip, and table headers sort their
 * table (numbers by their exact data-bytes / data-count, text by its content).
 */
export const PAGE_SCRIPT = `
(() => {
  "use strict";
  const tip = document.getElementById("tip");
  for (const el of document.querySelectorAll("[title]")) {
    el.setAttribute("data-tip", el.getAttribute("title"));
    el.removeAttribute("title");
  }
  let current = null;
  const hide = () => { tip.hidden = true; current = null; };
  document.addEventListener("mousemove", (e) => {
    const el = e.target instanceof Element ? e.target.closest("[data-tip]") : null;
    if (!el) { hide(); return; }
    if (el !== current) { tip.textContent = el.getAttribute("data-tip"); current = el; }
    tip.hidden = false;
    const r = tip.getBoundingClientRect();
    let x = e.clientX + 14;
    let y = e.clientY + 16;
    if (x + r.width > window.innerWidth - 6) x = Math.max(6, e.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 6) y = Math.max(6, e.clientY - r.height - 16);
    tip.style.transform = "translate(" + x + "px," + y + "px)";
  });
  document.addEventListener("mouseleave", hide);
  window.addEventListener("scroll", hide, { passive: true });

  const key = (row, index, kind) => {
    const cell = row.cells[index];
    if (!cell) return "";
    if (kind === "num") return Number(cell.getAttribute("data-bytes") ?? cell.getAttribute("data-count") ?? 0);
    return (cell.textContent || "").trim().toLowerCase();
  };
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.addEventListener("click", () => {
      const table = th.closest("table");
      const body = table && table.tBodies[0];
      if (!body) return;
      const kind = th.getAttribute("data-sort");
      const index = th.cellIndex;
      const desc = th.getAttribute("aria-sort") !== "descending";
      for (const other of table.querySelectorAll("th[aria-sort]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const ka = key(a, index, kind);
        const kb = key(b, index, kind);
        const c = ka < kb ? -1 : ka > kb ? 1 : 0;
        return desc ? -c : c;
      });
      for (const row of rows) body.appendChild(row);
    });
  }
})();
`;
