/**
 * astral-sh/packse's resolver scenarios as hermetic test inputs. The data is a peer's test
 * suite that sits beside the clone (`../shared/packse`, see findPackseDir: scenarios/**.toml and expected.json,
 * see its README); it is read from there at test time, never copied into the repository.
 *
 * For each scenario this builds the package index packse's own builder would publish, with
 * slimenv's test wheel and sdist builders: every version of every package gets a
 * `py3-none-any` wheel and an sdist (hatchling's layout) unless the scenario says
 * `wheel = false` / `sdist = false`; `wheel_tags` replaces the universal wheel with one
 * wheel per tag (keeping it only when `py3-none-any` is listed); Requires-Python defaults to
 * packse's `>=3.8`; extras become `Provides-Extra` and `Requires-Dist: x ; extra == "e"`;
 * `yanked` marks every file of the version yanked ("Yanked for testing"). Like packse's
 * index, the pages carry no data-requires-python and offer no PEP 658 metadata files:
 * Requires-Python and dependencies come from the wheels' METADATA (read by HTTP range
 * requests) or, for sdist-only versions, the sdist's PKG-INFO (Metadata-Version 2.4, as
 * hatchling writes it, so it is static and readable without a build).
 * Package names are not prefixed with the scenario name (each scenario has its own index).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { parse as parseToml } from "smol-toml";
import type { IndexEntry, IndexProjects } from "./index-pages.ts";
import { type BuiltSdist, buildSdist, buildWheel, sha256Hex } from "./wheels.ts";

/** One version of a package as a scenario describes it. */
export interface PackseVersion {
  requires_python?: string;
  requires?: string[];
  extras?: Record<string, string[]>;
  sdist?: boolean;
  wheel?: boolean;
  yanked?: boolean;
  wheel_tags?: string[];
  description?: string;
}

/** A scenario file (packse's schema, the fields slimenv reads). */
export interface PackseScenario {
  name: string;
  description?: string;
  root: { requires?: string[]; requires_python?: string };
  packages?: Record<string, { versions: Record<string, PackseVersion> }>;
  expected: { satisfiable: boolean; packages?: Record<string, string>; explanation?: string };
  resolver_options?: {
    python?: string;
    prereleases?: boolean;
    no_build?: string[];
    no_binary?: string[];
    universal?: boolean;
    python_platform?: string;
    required_environments?: string[];
  };
  environment?: { python?: string; additional_python?: string[] };
}

/** A target of expected.json: the local CPython X, or a spec target. */
export type PackseTarget = { python: string } | { python_version: string; platform: string };

/** One expected outcome of expected.json, for one target. */
export interface PackseCase {
  id?: string;
  target: PackseTarget;
  satisfiable: boolean;
  packages: Record<string, string>;
  source: string;
}

interface ExpectedEntry {
  kind: "install" | "compile" | "lock";
  path: string;
  cases: PackseCase[];
  na?: string;
}

/** A scenario with one of its expected outcomes: what one test locks and checks. */
export interface PackseTest {
  /** `scenario-name` or `scenario-name (case id)` when the scenario has several targets. */
  title: string;
  kind: ExpectedEntry["kind"];
  scenario: PackseScenario;
  expected: PackseCase;
}

export interface PackseSuite {
  dir: string;
  tests: PackseTest[];
  /** Scenarios expected.json gives no outcome for, with its reason. */
  notApplicable: { name: string; reason: string }[];
}

/** The platform a `{ python: X }` target (the local interpreter) is taken to run on. */
export const LOCAL_PLATFORM = "manylinux_2_28_x86_64";

/**
 * The folders the packse data may be in, in order: `SLIMENV_PACKSE_DIR` when set; else
 * `../shared/packse` beside the repository, then beside the repository it was cloned from
 * when that is a local folder (`git clone . /tmp/x` checks a clone outside the workspace) or
 * beside the main checkout of a git worktree.
 */
export function packseCandidates(repoRoot: string, env = process.env): string[] {
  if (env.SLIMENV_PACKSE_DIR) return [env.SLIMENV_PACKSE_DIR];
  const beside = (root: string) => path.resolve(root, "..", "shared", "packse");
  const out = [beside(repoRoot)];
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", ["-C", repoRoot, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return "";
    }
  };
  const origin = git("config", "--get", "remote.origin.url").replace(/^file:\/\//, "");
  if (path.isAbsolute(origin)) out.push(beside(origin.replace(/\/\.git\/?$/, "")));
  const common = git("rev-parse", "--path-format=absolute", "--git-common-dir");
  if (path.isAbsolute(common)) out.push(beside(path.dirname(common)));
  return [...new Set(out)];
}

/** Where the packse data is (the first candidate that holds expected.json), or undefined. */
export function findPackseDir(repoRoot: string, env = process.env): string | undefined {
  return packseCandidates(repoRoot, env).find((dir) => {
    try {
      return statSync(path.join(dir, "expected.json")).isFile();
    } catch {
      return false;
    }
  });
}

/** The folders the data is looked for in (for the message when it is missing). */
export function packseDirFor(repoRoot: string, env = process.env): string {
  return packseCandidates(repoRoot, env).join(" or ");
}

function scenarioFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...scenarioFiles(full));
    else if (name.endsWith(".toml")) out.push(full);
  }
  return out;
}

/** Reads every scenario and expected.json; throws when they do not match one to one. */
export function loadPackse(dir: string): PackseSuite {
  const expected = JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const scenariosDir = path.join(dir, "scenarios");
  const byName = new Map<string, PackseScenario>();
  for (const file of scenarioFiles(scenariosDir)) {
    const scenario = parseToml(readFileSync(file, "utf8")) as unknown as PackseScenario;
    byName.set(scenario.name, scenario);
  }
  const tests: PackseTest[] = [];
  const notApplicable: PackseSuite["notApplicable"] = [];
  for (const [name, value] of Object.entries(expected)) {
    if (name.startsWith("_")) continue;
    const entry = value as ExpectedEntry;
    const scenario = byName.get(name);
    if (scenario === undefined) throw new Error(`expected.json names ${name}, no scenario has it`);
    byName.delete(name);
    if (entry.cases.length === 0) {
      notApplicable.push({ name, reason: entry.na ?? "no expected outcome" });
      continue;
    }
    for (const c of entry.cases) {
      const title = entry.cases.length > 1 ? `${name} (${c.id ?? targetText(c.target)})` : name;
      tests.push({ title, kind: entry.kind, scenario, expected: c });
    }
  }
  if (byName.size > 0) {
    throw new Error(
      `scenarios without an entry in expected.json: ${[...byName.keys()].join(", ")}`,
    );
  }
  return { dir, tests, notApplicable };
}

export function targetText(target: PackseTarget): string {
  return "python" in target
    ? `python ${target.python}`
    : `${target.python_version} ${target.platform}`;
}

/** The target as slimenv's spec: `{ python: X }` is CPython X on LOCAL_PLATFORM. */
export function targetSpec(target: PackseTarget): { pythonVersion: string; platform: string } {
  return "python" in target
    ? { pythonVersion: target.python, platform: LOCAL_PLATFORM }
    : { pythonVersion: target.python_version, platform: target.platform };
}

/** What to lock for a scenario: uv's test harness passes the root's requirements as given. */
export interface PackseLockRequest {
  requirements: string[];
  /** The project's requires-python (lock scenarios, where the root is a pyproject). */
  requiresPython?: string;
  onlyBinary: string[];
  noBinary: string[];
  prerelease: "allow" | "if-necessary-or-explicit";
}

export function lockRequest(test: PackseTest): PackseLockRequest {
  const { scenario } = test;
  const options = scenario.resolver_options ?? {};
  const request: PackseLockRequest = {
    requirements: [...(scenario.root.requires ?? [])],
    onlyBinary: [...(options.no_build ?? [])],
    noBinary: [...(options.no_binary ?? [])],
    prerelease: options.prereleases === true ? "allow" : "if-necessary-or-explicit",
  };
  if (test.kind === "lock" && scenario.root.requires_python !== undefined) {
    request.requiresPython = scenario.root.requires_python;
  }
  return request;
}

/** hatchling's spelling of an extra's requirement: its marker joined with `extra == "e"`. */
function extraRequirement(requirement: string, extra: string): string {
  const semi = requirement.indexOf(";");
  if (semi < 0) return `${requirement} ; extra == "${extra}"`;
  const req = requirement.slice(0, semi).trim();
  const marker = requirement.slice(semi + 1).trim();
  return `${req} ; (${marker}) and extra == "${extra}"`;
}

/** An sdist whose PKG-INFO says Metadata-Version 2.4 (hatchling's; static, so readable). */
function hatchlingSdist(spec: Parameters<typeof buildSdist>[0]): BuiltSdist {
  const built = buildSdist(spec);
  const from = "Metadata-Version: 2.1";
  const to = "Metadata-Version: 2.4";
  const tar = Buffer.from(gunzipSync(built.bytes)).toString("latin1");
  const bytes = new Uint8Array(
    gzipSync(Buffer.from(tar.replace(from, to), "latin1"), { level: 9 }),
  );
  return { ...built, bytes, metadata: built.metadata.replace(from, to), sha256: sha256Hex(bytes) };
}

/** The index packse would publish for a scenario (see the file comment). */
export function packseProjects(scenario: PackseScenario): IndexProjects {
  const projects: Record<string, IndexEntry[]> = {};
  for (const [name, pkg] of Object.entries(scenario.packages ?? {})) {
    const entries: IndexEntry[] = [];
    for (const [version, meta] of Object.entries(pkg.versions ?? {})) {
      const extras = meta.extras ?? {};
      const spec = {
        name,
        version,
        requiresPython: meta.requires_python ?? ">=3.8",
        requiresDist: [
          ...(meta.requires ?? []),
          ...Object.entries(extras).flatMap(([extra, reqs]) =>
            reqs.map((r) => extraRequirement(r, extra)),
          ),
        ],
        extras: Object.keys(extras),
      };
      const more: Partial<IndexEntry> =
        meta.yanked === true ? { yanked: "Yanked for testing" } : {};
      const add = (file: { filename: string; bytes: Uint8Array; metadata: string }) =>
        entries.push({ file: { ...file }, serveMetadata: false, ...more });
      if (meta.wheel !== false) {
        const tags = meta.wheel_tags ?? [];
        for (const tag of tags.length === 0 ? ["py3-none-any"] : tags) {
          add(buildWheel({ ...spec, tags: tag }));
        }
      }
      if (meta.sdist !== false) add(hatchlingSdist(spec));
    }
    projects[name] = entries;
  }
  return projects;
}
