/**
 * The HTML size page in a real headless Chromium (Debian's `chromium` package, driven by
 * playwright-core): it renders without errors or requests, its treemap areas follow the bytes,
 * every figure equals the report's, and names are text, never markup.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderSizeHtml } from "../../src/report/html.ts";
import { formatBytes } from "../../src/report/html-format.ts";
import type { SizeFigures, SizeKind, SizeReport } from "../../src/report/types.ts";
import { SIZE_KINDS, zeroByKind, zeroFigures } from "../../src/report/types.ts";
import { Rng } from "../helpers/random.ts";

// Browser globals used inside page.evaluate callbacks (they run in Chromium; the project's
// `lib` has no DOM types, so these module-scoped declarations describe just what is used).
interface DomElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; height: number };
  closest(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  classList: { contains(name: string): boolean };
  clientWidth: number;
  clientHeight: number;
}
declare const document: {
  images: ArrayLike<unknown>;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  getElementById(id: string): DomElement | null;
};
declare const window: { __pwned?: number };
interface Bitmap {
  width: number;
  height: number;
}
declare function createImageBitmap(blob: Blob): Promise<Bitmap>;
declare class OffscreenCanvas {
  constructor(width: number, height: number);
  getContext(kind: "2d"): {
    drawImage(image: Bitmap, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const XSS_NAME = `<img src=x onerror="window.__pwned=1">`;
const SCRIPT_NAME = "</script><!--<script>window.__pwned=2</script>-->";
const QUOTE_NAME = `a&b "double" 'single' &amp;`;

function add(into: SizeFigures, f: SizeFigures): void {
  into.apparent += f.apparent;
  into.onDisk += f.onDisk;
  into.files += f.files;
}

/** A report with `count` distributions (every kind present somewhere), sums consistent. */
function fixture(seed: number, count: number): SizeReport {
  const rng = new Rng(seed);
  const names = [XSS_NAME, SCRIPT_NAME, QUOTE_NAME];
  const distributions: SizeReport["distributions"] = [];
  for (let i = 0; i < count; i++) {
    const byKind = zeroByKind();
    const total = zeroFigures();
    const magnitude = 4096 * 2 ** rng.int(12);
    SIZE_KINDS.forEach((k, j) => {
      // The first distributions hold every kind; the rest a random subset.
      if (i >= 2 && !rng.chance(0.45) && j !== i % SIZE_KINDS.length) return;
      const files = 1 + rng.int(300);
      const onDisk = 4096 * (1 + Math.floor((rng.next() * magnitude) / 4096));
      const apparent = Math.max(0, onDisk - rng.int(4096));
      byKind[k] = { apparent, onDisk, files };
      add(total, byKind[k]);
    });
    distributions.push({
      name: names[i] ?? `dist-${String.fromCharCode(97 + (i % 26))}${i}`,
      version: i === 0 ? "1.0<b>x</b>" : `${1 + rng.int(9)}.${rng.int(30)}.${rng.int(10)}`,
      total,
      byKind,
    });
  }
  distributions.sort((a, b) => b.total.onDisk - a.total.onDisk || a.name.localeCompare(b.name));
  const unowned = { total: zeroFigures(), byKind: zeroByKind() };
  for (const k of ["other", "source", "bytecode"] as const) {
    unowned.byKind[k] = {
      apparent: 1000 + rng.int(9000),
      onDisk: 4096 * (1 + rng.int(20)),
      files: 1 + rng.int(5),
    };
    add(unowned.total, unowned.byKind[k]);
  }
  const byKind = zeroByKind();
  const total = zeroFigures();
  for (const d of [...distributions, unowned]) {
    for (const k of SIZE_KINDS) add(byKind[k], d.byKind[k]);
    add(total, d.total);
  }
  return {
    version: 1,
    path: "/tmp/<i>env</i> & co",
    layout: "venv",
    python: "3.11.9",
    total,
    byKind,
    distributions,
    unowned,
    savings: [
      {
        policy: "strip-debug",
        description: "strip <debug> info",
        bytes: byKind["native-debug"].onDisk,
      },
      {
        policy: "drop-tests",
        description: "<script>window.__pwned=3</script>",
        bytes: byKind.tests.onDisk,
      },
      { policy: "drop-docs", description: "remove docs", bytes: byKind.docs.onDisk },
      { policy: "nothing", description: "saves nothing", bytes: 0 },
    ],
  };
}

/** The number at a dotted path ("distributions.0.byKind.source.onDisk") of the report. */
function at(report: SizeReport, path: string): number {
  let v: unknown = report;
  for (const part of path.split(".")) v = (v as Record<string, unknown>)[part];
  if (typeof v !== "number") throw new Error(`no number at ${path}`);
  return v;
}

interface Loaded {
  page: Page;
  errors: string[];
  requests: string[];
  url: string;
}

let started: BrowserContext | Error | undefined;
let work = "";

/** The browser context; when Chromium is missing or does not start, every test fails saying so. */
function browser(): BrowserContext {
  if (started instanceof Error) throw started;
  if (started === undefined) throw new Error("Chromium was not started");
  return started;
}

async function load(report: SizeReport, name: string): Promise<Loaded> {
  const context = browser();
  const file = join(work, `${name}.html`);
  writeFileSync(file, renderSizeHtml(report));
  const url = pathToFileURL(file).href;
  const page = await context.newPage();
  await page.setViewportSize({ width: 1200, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: "load" });
  return { page, errors, requests, url };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "slimenv-html-"));
  if (!existsSync(CHROMIUM)) {
    started = new Error(
      `Chromium is not installed at ${CHROMIUM}; the HTML size page is tested in a real browser. ` +
        "Install Debian's package: apt-get update && apt-get install -y chromium (.ci/run does this)",
    );
    return;
  }
  try {
    started = await chromium.launchPersistentContext(join(work, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (e) {
    started = new Error(`Chromium at ${CHROMIUM} failed to start: ${(e as Error).message}`);
  }
});

afterAll(async () => {
  if (started !== undefined && !(started instanceof Error)) await started.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("renderSizeHtml in Chromium", () => {
  const report = fixture(7, 14);
  let loading: Promise<Loaded> | undefined;
  /** The page, loaded once for this group (a failure to start Chromium fails each test). */
  const page0 = () => {
    loading ??= load(report, "report");
    return loading;
  };

  it("renders with no console errors, no page errors and no requests", async () => {
    const { page, errors, requests, url } = await page0();
    await page.mouse.move(300, 600);
    await page.mouse.move(600, 700);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    // The page script ran under the CSP: tooltips took over the title attributes.
    expect(await page.locator("[title]").count()).toBe(0);
    expect(await page.locator("#treemap [data-tip]").count()).toBeGreaterThan(
      report.distributions.length,
    );
  });

  it("embeds the report as JSON that parses back to the same object", async () => {
    const json = await (await page0()).page.locator("#size-report").textContent();
    expect(JSON.parse(json ?? "")).toEqual(report);
  });

  it("renders names as text, never as markup", async () => {
    const { page } = await page0();
    expect(await page.evaluate(() => document.images.length)).toBe(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator("script").count()).toBe(2);
    const names = await page.locator("#distributions tbody td.name").allTextContents();
    expect(names).toEqual(expect.arrayContaining([XSS_NAME, SCRIPT_NAME, QUOTE_NAME]));
    const labels = await page.locator("#treemap .tm-name").allTextContents();
    expect(labels).toEqual(expect.arrayContaining([XSS_NAME, SCRIPT_NAME, QUOTE_NAME]));
    expect(await page.locator("h1 .path").textContent()).toBe(report.path);
    expect(await page.title()).toBe(`Size of ${report.path}`);
    const versions = await page.locator("#distributions tbody td.ver").allTextContents();
    expect(versions).toContain("1.0<b>x</b>");
    expect(await page.locator("#savings tbody").textContent()).toContain(
      "<script>window.__pwned=3</script>",
    );
  });

  it("shows the report's total", async () => {
    const { page } = await page0();
    const total = page.locator("#total-ondisk");
    expect(Number(await total.getAttribute("data-bytes"))).toBe(report.total.onDisk);
    expect(await total.textContent()).toBe(formatBytes(report.total.onDisk));
    expect(Number(await page.locator("#total-apparent").getAttribute("data-bytes"))).toBe(
      report.total.apparent,
    );
    expect(Number(await page.locator("#total-files").getAttribute("data-count"))).toBe(
      report.total.files,
    );
    const foot = page.locator("#distributions tfoot tr.total td[data-src='total.onDisk']");
    expect(Number(await foot.getAttribute("data-bytes"))).toBe(report.total.onDisk);
  });

  it("shows in every table exactly the report's figures", async () => {
    const { page } = await page0();
    for (const [i, d] of report.distributions.entries()) {
      const row = page.locator(`#distributions tbody tr[data-index="${i}"]`);
      expect(await row.locator("td.name").textContent()).toBe(d.name);
      expect(await row.locator("td.ver").textContent()).toBe(d.version);
      const cell = (field: string) =>
        row.locator(`td[data-src="distributions.${i}.total.${field}"]`);
      expect(Number(await cell("onDisk").getAttribute("data-bytes"))).toBe(d.total.onDisk);
      expect(await cell("onDisk").textContent()).toBe(formatBytes(d.total.onDisk));
      expect(Number(await cell("apparent").getAttribute("data-bytes"))).toBe(d.total.apparent);
      expect(Number(await cell("files").getAttribute("data-count"))).toBe(d.total.files);
      const segs = await row.locator(".seg").count();
      expect(segs).toBe(SIZE_KINDS.filter((k) => d.byKind[k].onDisk > 0).length);
    }
    for (const k of SIZE_KINDS) {
      const row = page.locator(`#kinds tbody tr[data-kind="${k}"]`);
      for (const field of ["onDisk", "apparent"] as const) {
        const td = row.locator(`td[data-src="byKind.${k}.${field}"]`);
        expect(Number(await td.getAttribute("data-bytes"))).toBe(report.byKind[k][field]);
      }
      const files = row.locator(`td[data-src="byKind.${k}.files"]`);
      expect(Number(await files.getAttribute("data-count"))).toBe(report.byKind[k].files);
    }
    for (const [i, s] of report.savings.entries()) {
      const row = page.locator(`#savings tbody tr[data-index="${i}"]`);
      expect(await row.locator("td.mono").textContent()).toBe(s.policy);
      expect(Number(await row.locator("td[data-bytes]").getAttribute("data-bytes"))).toBe(s.bytes);
    }
    // Every figure anywhere on the page names its source in the report and equals it.
    const figures = await page.evaluate(() =>
      Array.from(document.querySelectorAll("[data-bytes], [data-count]")).map((el) => ({
        src: el.getAttribute("data-src"),
        value: el.getAttribute("data-bytes") ?? el.getAttribute("data-count"),
        table: el.closest("table") !== null,
      })),
    );
    expect(figures.filter((f) => f.table).length).toBeGreaterThan(report.distributions.length * 4);
    for (const f of figures) {
      expect(f.src, `figure ${f.value} without data-src`).not.toBeNull();
      expect(Number(f.value), f.src ?? "").toBe(at(report, f.src ?? ""));
    }
  });

  it("draws one treemap block per distribution, its area proportional to its bytes", async () => {
    const { page } = await page0();
    const boxes = await page.evaluate(() => {
      const area = (el: DomElement) => {
        const r = el.getBoundingClientRect();
        return { w: r.width, h: r.height };
      };
      const map = document.getElementById("treemap") as DomElement;
      return {
        map: { w: map.clientWidth, h: map.clientHeight },
        blocks: Array.from(map.querySelectorAll(".tm-dist, .tm-unowned")).map((el) => ({
          index: el.getAttribute("data-index"),
          unowned: el.classList.contains("tm-unowned"),
          box: area(el),
          kinds: Array.from(el.querySelectorAll(".tm-kind")).map((k) => ({
            kind: k.getAttribute("data-kind") as SizeKind,
            box: area(k),
          })),
        })),
      };
    });
    const dists = boxes.blocks.filter((b) => !b.unowned);
    expect(dists.map((b) => Number(b.index))).toEqual(report.distributions.map((_, i) => i));
    expect(boxes.blocks.filter((b) => b.unowned)).toHaveLength(1);
    const whole = report.total.onDisk;
    const mapArea = boxes.map.w * boxes.map.h;
    expect(mapArea).toBeGreaterThan(1000 * 400);
    // Layout rounds each edge to a fraction of a pixel: allow half a pixel along the perimeter.
    const close = (got: { w: number; h: number }, expected: number) =>
      Math.abs(got.w * got.h - expected) <= (got.w + got.h) * 0.5 + 1;
    for (const b of boxes.blocks) {
      const src = b.unowned ? report.unowned : report.distributions[Number(b.index)];
      if (src === undefined) throw new Error(`no distribution ${b.index}`);
      const expected = (src.total.onDisk / whole) * mapArea;
      expect(close(b.box, expected), `${b.index}: ${b.box.w * b.box.h} vs ${expected}`).toBe(true);
      const inner = b.box.w * b.box.h;
      expect(b.kinds.map((k) => k.kind)).toEqual(
        SIZE_KINDS.filter((k) => src.byKind[k].onDisk > 0),
      );
      for (const k of b.kinds) {
        const want = (src.byKind[k.kind].onDisk / src.total.onDisk) * inner;
        expect(close(k.box, want), `${b.index}/${k.kind}: ${k.box.w * k.box.h} vs ${want}`).toBe(
          true,
        );
      }
    }
  });

  it("lists every kind present in the legend", async () => {
    const kinds = await (await page0()).page
      .locator("#legend li")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    expect(kinds).toEqual(SIZE_KINDS.filter((k) => report.byKind[k].onDisk > 0));
    expect(kinds).toHaveLength(SIZE_KINDS.length);
  });

  it("shows a tooltip with the exact bytes and sorts a table by a header", async () => {
    const { page, errors } = await page0();
    const first = report.distributions[0];
    if (first === undefined) throw new Error("empty fixture");
    await page.locator('#treemap .tm-dist[data-index="0"] .tm-kind').first().hover();
    const tip = page.locator("#tip");
    await expect.poll(() => tip.isVisible()).toBe(true);
    expect(await tip.textContent()).toContain(first.name);
    expect(await tip.textContent()).toMatch(/\d{1,3}(,\d{3})* bytes/);
    const head = page.locator("#distributions thead th", { hasText: "On disk" });
    await head.click();
    const onDisk = () =>
      page
        .locator("#distributions tbody tr")
        .evaluateAll((rows) =>
          rows.map((r) => Number(r.querySelector("[data-bytes]")?.getAttribute("data-bytes"))),
        );
    const desc = [...report.distributions.map((d) => d.total.onDisk)].sort((a, b) => b - a);
    expect(await onDisk()).toEqual(desc);
    await head.click();
    expect(await onDisk()).toEqual([...desc].reverse());
    expect(errors).toEqual([]);
  });

  it("takes a screenshot that is not blank", async () => {
    const png = join(work, "shot.png");
    await (await page0()).page.screenshot({ path: png, fullPage: true });
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    // Decode the PNG with the browser's own decoder and count the pixels.
    const decoder = await browser().newPage();
    const stats = await decoder.evaluate(async (b64: string) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([raw], { type: "image/png" }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext("2d");
      if (ctx === null) throw new Error("no 2d canvas");
      ctx.drawImage(bitmap, 0, 0);
      const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      let nonWhite = 0;
      const colors = new Set<string>();
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
        if (r < 245 || g < 245 || b < 245) nonWhite++;
        colors.add(`${r},${g},${b}`);
      }
      return {
        width: bitmap.width,
        height: bitmap.height,
        nonWhite,
        colors: colors.has("89,161,79"),
      };
    }, bytes.toString("base64"));
    await decoder.close();
    expect(stats.width).toBe(1200);
    expect(stats.height).toBeGreaterThan(900);
    // The treemap alone covers a good part of the page; native-code green is one of its colours.
    expect(stats.nonWhite / (stats.width * stats.height)).toBeGreaterThan(0.1);
    expect(stats.colors).toBe(true);
  });
});

describe("renderSizeHtml edge cases in Chromium", () => {
  it("renders an empty report", async () => {
    const empty: SizeReport = {
      version: 1,
      path: "/empty",
      layout: "dir",
      total: zeroFigures(),
      byKind: zeroByKind(),
      distributions: [],
      unowned: { total: zeroFigures(), byKind: zeroByKind() },
      savings: [],
    };
    const { page, errors, requests, url } = await load(empty, "empty");
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.locator("#treemap").textContent()).toContain("Nothing on disk");
    expect(await page.locator("#distributions tbody").textContent()).toContain("No distributions");
    expect(await page.locator("#savings tbody").textContent()).toContain("No savings");
    expect(await page.locator("#total-ondisk").textContent()).toBe("0 B");
    await page.close();
  });

  it("renders a stdlib-like report (no distributions) as one block split by kind", async () => {
    const full = fixture(11, 3);
    const stdlib: SizeReport = {
      ...full,
      layout: "stdlib",
      distributions: [],
      unowned: { total: full.total, byKind: full.byKind },
    };
    const { page, errors } = await load(stdlib, "stdlib");
    expect(errors).toEqual([]);
    expect(await page.locator("#treemap .tm-dist").count()).toBe(0);
    expect(await page.locator("#treemap .tm-unowned").count()).toBe(1);
    expect(await page.locator("#treemap .tm-unowned .tm-kind").count()).toBe(SIZE_KINDS.length);
    const box = await page.locator("#treemap .tm-unowned").boundingBox();
    const map = await page
      .locator("#treemap")
      .evaluate((m) => ({ w: m.clientWidth, h: m.clientHeight }));
    expect(Math.abs((box?.width ?? 0) * (box?.height ?? 0) - map.w * map.h)).toBeLessThan(
      map.w + map.h,
    );
    await page.close();
  });

  it("keeps a zero-byte distribution in the treemap with no area", async () => {
    const r = fixture(5, 4);
    r.distributions.push({
      name: "empty-dist",
      version: "0",
      total: zeroFigures(),
      byKind: zeroByKind(),
    });
    const { page, errors } = await load(r, "zero");
    expect(errors).toEqual([]);
    expect(await page.locator("#treemap .tm-dist").count()).toBe(5);
    const box = await page.locator('#treemap .tm-dist[data-index="4"]').boundingBox();
    expect((box?.width ?? 0) * (box?.height ?? 0)).toBe(0);
    await page.close();
  });
});
