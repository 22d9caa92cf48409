/** What `install` and `sync` print of the changes they made. */
import type { EnvChanges } from "../env/changes.ts";
import type { EnvManifest } from "../env/types.ts";
import type { Output } from "./output.ts";

/** The JSON shape of an install or sync. */
export function changesJson(
  manifest: EnvManifest,
  changes: EnvChanges,
  rebuilt: boolean,
): Record<string, unknown> {
  return {
    layout: manifest.layout,
    generation: manifest.generation,
    linkMode: manifest.linkMode,
    effectiveLinkMode: manifest.effectiveLinkMode,
    rebuilt,
    packages: manifest.packages.map((p) => ({
      name: p.name,
      version: p.version,
      requested: p.requested,
    })),
    added: changes.added,
    removed: changes.removed,
    upgraded: changes.upgraded,
    downgraded: changes.downgraded,
    reinstalled: changes.reinstalled,
  };
}

/** `+ name version`, `- name version`, `~ name from -> to` lines. */
export function renderChanges(out: Output, changes: EnvChanges): void {
  for (const p of changes.added) out.summary(` + ${p.name} ${p.version}`);
  for (const p of changes.removed) out.summary(` - ${p.name} ${p.version}`);
  for (const p of changes.upgraded) out.summary(` ~ ${p.name} ${p.from} -> ${p.to}`);
  for (const p of changes.downgraded) out.summary(` ~ ${p.name} ${p.from} -> ${p.to} (downgrade)`);
  for (const p of changes.reinstalled) out.summary(` ~ ${p.name} ${p.version} (another wheel)`);
}
