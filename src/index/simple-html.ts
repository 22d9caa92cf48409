/**
 * PEP 503 HTML project pages (and flat find-links pages, which are the same anchors without
 * the project-page rules): every `<a href>` is a file, with PEP 503 `#hash=` fragments,
 * `data-requires-python` (HTML-escaped), PEP 592 `data-yanked`, PEP 658/714
 * `data-core-metadata` / `data-dist-info-metadata`, and the PEP 629
 * `<meta name="pypi:repository-version">`.
 */
import { Parser } from "htmlparser2";
import type { Reporter } from "../base/index.ts";
import { parseHashPair } from "./hashes.ts";
import { filenameFromUrl, type RawLink } from "./project.ts";
import { stripCredentials, stripFragment } from "./source-url.ts";

export interface HtmlLinks {
  links: RawLink[];
  /** PEP 629 `pypi:repository-version`, when the page declares one. */
  repositoryVersion?: string;
}

function coreMetadataAttr(
  value: string | undefined,
  filename: string,
  reporter: Reporter,
): false | true | Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.toLowerCase() === "true") return true;
  if (v.toLowerCase() === "false" || v === "") return false;
  const pair = parseHashPair(v);
  if (pair === undefined) {
    reporter.log("debug", `${filename}: ignoring unreadable data-core-metadata value ${v}`);
    return false;
  }
  return pair;
}

/**
 * Collect the links of an HTML page. Relative hrefs resolve against `<base href>` when the page
 * has one, else against `pageUrl` (the final URL after redirects). Links that are not URLs are
 * skipped (debug log).
 */
export function parseHtmlLinks(html: string, pageUrl: string, reporter: Reporter): HtmlLinks {
  const anchors: Record<string, string>[] = [];
  let base: string | undefined;
  let repositoryVersion: string | undefined;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === "a") anchors.push(attribs);
        else if (name === "base" && base === undefined && attribs.href !== undefined) {
          base = attribs.href;
        } else if (
          name === "meta" &&
          attribs.name?.toLowerCase() === "pypi:repository-version" &&
          attribs.content !== undefined
        ) {
          repositoryVersion = attribs.content.trim();
        }
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();

  let baseUrl = pageUrl;
  if (base !== undefined) {
    try {
      baseUrl = new URL(base, pageUrl).href;
    } catch {
      reporter.log("debug", `${stripCredentials(pageUrl)}: ignoring unreadable <base href>`);
    }
  }

  const links: RawLink[] = [];
  for (const a of anchors) {
    const href = a.href?.trim();
    if (href === undefined || href === "") continue;
    let url: URL;
    try {
      url = new URL(href, baseUrl);
    } catch {
      reporter.log("debug", `${stripCredentials(pageUrl)}: skipping unreadable link ${href}`);
      continue;
    }
    const fragment = url.hash.replace(/^#/, "");
    const bare = stripFragment(url);
    const filename = filenameFromUrl(bare);
    if (filename === "") continue;
    const link: RawLink = {
      filename,
      url: stripCredentials(bare.href),
      hashes: (fragment === "" ? undefined : parseHashPair(fragment)) ?? {},
    };
    const requiresPython = a["data-requires-python"]?.trim();
    if (requiresPython !== undefined && requiresPython !== "") {
      link.requiresPython = requiresPython;
    }
    const yanked = a["data-yanked"];
    if (yanked !== undefined) link.yanked = yanked.trim() === "" ? true : yanked.trim();
    // PEP 714: data-core-metadata wins over the older data-dist-info-metadata.
    const core =
      coreMetadataAttr(a["data-core-metadata"], filename, reporter) ??
      coreMetadataAttr(a["data-dist-info-metadata"], filename, reporter);
    if (core !== undefined) link.coreMetadata = core;
    links.push(link);
  }
  return repositoryVersion === undefined ? { links } : { links, repositoryVersion };
}
