/**
 * Putting store objects into an environment: clone (reflink), hardlink, copy or symlink.
 * `auto` decides once per environment by trying clone, then hardlink, then copy. A mode the
 * filesystem cannot do (across filesystems, no reflink support) falls back to copying with
 * ONE warning through the reporter.
 */
import { constants, linkSync, symlinkSync } from "node:fs";
import { chmod, copyFile, link, symlink } from "node:fs/promises";
import { type Reporter, SlimenvError } from "../base/index.ts";
import type { EffectiveLinkMode, LinkMode } from "./types.ts";

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Errors that mean "this filesystem (pair) cannot do that", not "something is wrong". */
const UNSUPPORTED = new Set([
  "EXDEV",
  "ENOTSUP",
  "EOPNOTSUPP",
  "EINVAL",
  "ENOSYS",
  "EPERM",
  "EMLINK",
]);

export class Linker {
  readonly requested: LinkMode;
  private mode: EffectiveLinkMode | undefined;
  private warned = false;
  private readonly reporter: Reporter;

  constructor(requested: LinkMode, reporter: Reporter) {
    this.requested = requested;
    this.reporter = reporter;
    if (requested === "copy" || requested === "symlink" || requested === "hardlink") {
      this.mode = requested;
    } else if (requested === "clone") {
      this.mode = "clone";
    }
    // auto and pth decide on the first file.
  }

  /** The mode files were linked with so far (what auto resolved to). */
  get effective(): EffectiveLinkMode {
    return this.mode ?? "copy";
  }

  private fallBack(to: EffectiveLinkMode, why: string): void {
    if (!this.warned) {
      this.warned = true;
      this.reporter.log("warn", why);
    }
    this.mode = to;
  }

  /** Put the object at `source` at `dest` (which must not exist). */
  async place(source: string, dest: string): Promise<void> {
    if (this.mode === undefined) {
      await this.decide(source, dest);
      return;
    }
    switch (this.mode) {
      case "symlink":
        await symlink(source, dest);
        return;
      case "copy":
        await copyFile(source, dest);
        return;
      case "clone":
        try {
          await copyFile(source, dest, constants.COPYFILE_FICLONE_FORCE);
        } catch (err) {
          if (!UNSUPPORTED.has(errno(err) ?? "")) throw linkError("clone", source, dest, err);
          this.fallBack(
            "copy",
            `link mode clone: the filesystem cannot clone ${source} into the environment (${errno(err)}); copying files instead`,
          );
          await copyFile(source, dest);
        }
        return;
      case "hardlink":
        try {
          await link(source, dest);
        } catch (err) {
          if (!UNSUPPORTED.has(errno(err) ?? "")) throw linkError("hardlink", source, dest, err);
          this.fallBack(
            "copy",
            errno(err) === "EXDEV"
              ? "link mode hardlink: the store and the environment are on different filesystems; copying files instead"
              : `link mode hardlink: cannot hardlink into the environment (${errno(err)}); copying files instead`,
          );
          await copyFile(source, dest);
        }
        return;
    }
  }

  /**
   * Put the object at `source` at `dest` with one synchronous system call, when the mode is
   * settled as hardlink or symlink (thousands of links cost less without a round trip
   * through the thread pool each). False when this cannot be done here: call `place`, which
   * decides, copies, or falls back (and warns) as usual.
   */
  placeNow(source: string, dest: string): boolean {
    try {
      if (this.mode === "hardlink") linkSync(source, dest);
      else if (this.mode === "symlink") symlinkSync(source, dest);
      else return false;
      return true;
    } catch (err) {
      if (UNSUPPORTED.has(errno(err) ?? "")) return false;
      throw linkError(this.mode ?? "link", source, dest, err);
    }
  }

  /** auto (and pth's non-tree files): clone, else hardlink, else copy — decided once. */
  private async decide(source: string, dest: string): Promise<void> {
    try {
      await copyFile(source, dest, constants.COPYFILE_FICLONE_FORCE);
      this.mode = "clone";
      return;
    } catch (err) {
      if (!UNSUPPORTED.has(errno(err) ?? "")) throw linkError("clone", source, dest, err);
    }
    try {
      await link(source, dest);
      this.mode = "hardlink";
      return;
    } catch (err) {
      if (!UNSUPPORTED.has(errno(err) ?? "")) throw linkError("hardlink", source, dest, err);
      this.fallBack(
        "copy",
        errno(err) === "EXDEV"
          ? "the store and the environment are on different filesystems: files are copied, not linked (put the store on the same filesystem to share them)"
          : `cannot hardlink into the environment (${errno(err)}): files are copied`,
      );
    }
    await copyFile(source, dest);
  }

  /**
   * Put a copy of `source` at `dest` with the executable bit set (a script whose object is
   * not executable): always a copy, so the store object keeps its mode.
   */
  async placeExecutableCopy(source: string, dest: string): Promise<void> {
    await copyFile(source, dest);
    await chmod(dest, 0o755);
  }

  /**
   * Put a writable copy of `source` at `dest` (0644, 0755 when `exec`): a file of a package
   * the user asked to be able to edit in place (`--copy-package`), in any link mode.
   */
  async placeWritableCopy(source: string, dest: string, exec: boolean): Promise<void> {
    await copyFile(source, dest);
    await chmod(dest, exec ? 0o755 : 0o644);
  }
}

function linkError(mode: string, source: string, dest: string, cause: unknown): SlimenvError {
  return new SlimenvError(
    "IO_ERROR",
    `cannot ${mode} ${source} to ${dest}: ${(cause as Error).message}`,
    { cause, hint: "try another --link-mode (copy always works)" },
  );
}
