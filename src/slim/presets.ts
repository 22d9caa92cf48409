/**
 * Named slim presets, as data. `edge` picks the bytecode mode that is smallest for the
 * target's Python ("smallest": sourceless .pyc before 3.11, sources from 3.11 on, where a
 * .pyc is bigger than its .py — see docs/slim.md for the measurements); `max` adds a zip of
 * pure-Python packages and strips everything a loader does not need.
 */

import { DROP_GROUPS } from "./drop/rules.ts";
import type { SlimPolicy } from "./policy-types.ts";

export interface SlimPreset {
  name: string;
  description: string;
  policy: Omit<SlimPolicy, "preset" | "keep" | "dropGlobs" | "skip">;
}

export const SLIM_PRESETS: readonly SlimPreset[] = [
  {
    name: "none",
    description: "files exactly as the wheels have them",
    policy: { bytecode: "source", strip: "none", drop: [] },
  },
  {
    name: "edge",
    description:
      "strip debug info, drop tests, docs, examples, stubs, native sources, caches and build leftovers; the smallest bytecode mode for the target's Python",
    policy: { bytecode: "smallest", strip: "debug", drop: [...DROP_GROUPS] },
  },
  {
    name: "max",
    description:
      "edge, plus pure-Python packages that work from a zip in one compressed zip, and strip everything unneeded",
    policy: { bytecode: "zip", strip: "unneeded", drop: [...DROP_GROUPS] },
  },
];

export const PRESET_NAMES: readonly string[] = SLIM_PRESETS.map((p) => p.name);

export function findPreset(name: string): SlimPreset | undefined {
  return SLIM_PRESETS.find((p) => p.name === name);
}
