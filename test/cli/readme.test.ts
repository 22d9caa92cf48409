/**
 * The README documents every command and every option: each command the program has owns a
 * `### \`slimenv …\`` section (a subcommand may share its parent's), and each of its options
 * is named there by its long or short flag. The output options every command takes
 * (--json, --quiet, --verbose) are documented once, in the global table.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.ts";

const README = readFileSync(path.resolve(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** `### \`slimenv NAME\`` sections by NAME ("store", "python list"). */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/^### /m).slice(1)) {
    const m = /^`slimenv ([a-z][a-z -]*)`/.exec(part);
    if (m?.[1] !== undefined) out.set(m[1].trim(), part);
  }
  return out;
}

/** The global table: the part of "## Commands" before its first command section. */
function globalTable(text: string): string {
  const start = text.indexOf("## Commands");
  return text.slice(start, text.indexOf("### ", start));
}

interface Leaf {
  name: string;
  command: Command;
}

function commands(): Leaf[] {
  const out: Leaf[] = [];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      if (sub.name() === "help") continue;
      const here = [...prefix, sub.name()];
      out.push({ name: here.join(" "), command: sub });
      walk(sub, here);
    }
  };
  walk(buildProgram(), []);
  return out;
}

/** The section of a command, or of its nearest parent that has one. */
function sectionOf(all: Map<string, string>, name: string): string | undefined {
  for (let n = name; ; n = n.slice(0, n.lastIndexOf(" "))) {
    const found = all.get(n);
    if (found !== undefined) return found;
    // A group command (`python`, `store`) is documented by its subcommands' sections.
    const child = [...all.keys()].find((k) => k.startsWith(`${n} `));
    if (child !== undefined && n === name) return all.get(child);
    if (!n.includes(" ")) return undefined;
  }
}

/** Whether `flag` appears in `text` as a whole flag (not as the prefix of a longer one). */
function names(text: string, flag: string): boolean {
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w-])${escaped}(?![\\w-])`, "m").test(text);
}

/**
 * The lines of a section's code blocks that show `slimenv NAME …`, with their indented
 * continuation lines (a usage that wraps), up to the next line that is not one.
 */
function usageLines(section: string, name: string): string[] {
  const out: string[] = [];
  for (const block of section.match(/```[\s\S]*?```/g) ?? []) {
    let inside = false;
    for (const line of block.split("\n").slice(1, -1)) {
      if (/^\S/.test(line))
        inside = line.startsWith(`slimenv ${name} `) || line === `slimenv ${name}`;
      if (inside) out.push(line);
    }
  }
  return out;
}

describe("README", () => {
  const all = sections(README);
  const global = globalTable(README);
  const leaves = commands();

  it("finds the commands and their sections", () => {
    expect(leaves.length).toBeGreaterThan(15);
    expect(all.size).toBeGreaterThan(15);
    expect(global).toContain("--json");
  });

  it("documents the global output options once", () => {
    for (const flag of ["--json", "--quiet", "--verbose", "--version", "--help"]) {
      expect(names(global, flag), flag).toBe(true);
    }
  });

  it.each(leaves.map((l) => [l.name, l]))("documents `slimenv %s` and its options", (_, leaf) => {
    const { name, command } = leaf as Leaf;
    const section = sectionOf(all, name);
    expect(section, `no README section for slimenv ${name}`).toBeDefined();
    const missing = command.options
      .filter((o) => !names(global, o.long ?? o.short ?? ""))
      .filter((o) => ![o.long, o.short].some((f) => f !== undefined && names(section ?? "", f)))
      .map((o) => o.flags);
    expect(missing, `slimenv ${name}: options the README does not name`).toEqual([]);
  });

  it("names no option a command lacks, in a command's own usage block", () => {
    // Every `--flag` in a section's code blocks is an option of that command (or global).
    const wrong: string[] = [];
    for (const leaf of leaves) {
      const section = all.get(leaf.name);
      if (section === undefined) continue;
      const flags = new Set(
        leaf.command.options.flatMap((o) => [o.long, o.short]).filter((f) => f !== undefined),
      );
      for (const line of usageLines(section, leaf.name)) {
        for (const m of line.replace(/#.*$/, "").matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)) {
          const flag = m[1] as string;
          if (!flags.has(flag) && !names(global, flag)) wrong.push(`${leaf.name}: ${flag}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
