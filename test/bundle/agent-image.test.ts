/**
 * Image bundles on a device (docs/fleet.md "Images"): as root with loop devices the agent
 * mounts the image read-only at the generation; otherwise (SLIMENV_AGENT_TEST_NO_MOUNT) it
 * unpacks it with unsquashfs and builds a plain generation; without the tool it refuses with
 * nothing changed; a tampered image is refused; a kill at any image step leaves old or new.
 * Every mount a test makes under its folder is undone in afterEach, whatever happened.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { writeTreeImage } from "../../src/bundle/image.ts";
import { imageSpec } from "../../src/bundle/image-options.ts";
import { formatPublicKey, generateSigningKey } from "../../src/bundle/keys.ts";
import { writeBundle } from "../../src/bundle/wire.ts";
import {
  all,
  describeWith,
  itWith,
  LOOP_MOUNT,
  MKFS_EROFS,
  MKSQUASHFS,
  pyenv,
} from "../helpers/prereq.ts";
import { tempDir } from "../helpers/tmp.ts";
import {
  type AppSpec,
  appEnv,
  binDir,
  checkCurrent,
  pythons,
  runAgent,
  snapshot,
} from "./agent-helpers.ts";

const key = generateSigningKey();
let dir = "";
let bin = "";
let pub = "";

/** Mount points at or under `top`, deepest first. */
function mountsUnder(top: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) =>
      (l.split(" ")[1] ?? "").replace(/\\(\d{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8))),
    )
    .filter((m) => m === top || m.startsWith(`${top}/`))
    .sort((a, b) => b.length - a.length);
}

function umountAll(top: string): void {
  for (const m of mountsUnder(top)) spawnSync("umount", ["-l", m]);
}

/** A signed image bundle of the app env `spec` (the image built by `slimenv image`'s code). */
async function imageBundle(
  spec: AppSpec,
  name: string,
  format: "squashfs" | "erofs" = "squashfs",
  imageOf: AppSpec = spec,
): Promise<string> {
  const { draft } = appEnv(spec);
  const other = appEnv(imageOf);
  const objects = other.objects;
  const src = path.join(dir, `${name}-tree`);
  const files = other.draft.files.map((f) => {
    const abs = path.join(src, f.path);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, objects.get(f.sha256) as Uint8Array);
    return { ...f, abs };
  });
  const file = path.join(dir, `${name}.${format}`);
  await writeTreeImage(
    { files, symlinks: other.draft.symlinks },
    file,
    imageSpec({ format, compression: format === "squashfs" ? "gzip" : "lz4" }),
    1765000000,
    { tmpDir: dir },
  );
  const image = { format, data: new Uint8Array(readFileSync(file)) };
  const out = path.join(dir, `${name}.bundle`);
  writeFileSync(out, writeBundle({ manifest: draft, objects: new Map(), image }, key).bytes);
  return out;
}

function agent(root: string, args: string[], env?: Record<string, string>) {
  return runAgent(["--root", root, "--key", pub, ...args], {
    pathDir: bin,
    ...(env === undefined ? {} : { env }),
  });
}

const v1: AppSpec = { sequence: 100, symlinks: [{ path: "lib64", target: "lib" }] };
const v2: AppSpec = { sequence: 200, files: { "lib/myapp/two.py": "X = 2\n" } };
const v3: AppSpec = { sequence: 300, files: { "lib/myapp/three.py": "X = 3\n" } };
const bundles: Record<string, string> = {};

const NEEDS = all("squashfs and erofs images", MKSQUASHFS, MKFS_EROFS, pyenv("3.11"));
const OLDEST_NEWEST = pyenv("3.8", "3.13");

describeWith(NEEDS)("agent: image bundles", () => {
  beforeAll(async () => {
    dir = tempDir("agent-image");
    bin = binDir(dir);
    pub = path.join(dir, "fleet.pub");
    writeFileSync(pub, formatPublicKey(key.publicKey));
    for (const [n, s] of Object.entries({ v1, v2, v3 })) bundles[n] = await imageBundle(s, n);
    bundles.e1 = await imageBundle(v1, "e1", "erofs");
  });
  afterEach(() => umountAll(dir));
  afterAll(() => umountAll(dir));

  const gen = (root: string, seq: number) => path.join(root, "apps/myapp/gens", String(seq));

  itWith(LOOP_MOUNT)(
    "as root: mounted read-only; status, verify, mount, rollback, gc",
    async () => {
      const root = path.join(dir, "dev-mount");
      const a = await agent(root, ["--json", "apply", bundles.v1 as string]);
      expect(a.status, a.stderr).toBe(0);
      expect(JSON.parse(a.stdout).image).toEqual({ mounted: true, why: "" });
      expect(mountsUnder(gen(root, 100))).toEqual([gen(root, 100)]);
      expect(checkCurrent(root, "myapp")).toBe(100);
      // read-only: nothing can be written into the generation, even by root
      expect(() => writeFileSync(path.join(gen(root, 100), "x"), "x")).toThrow(/EROFS/);
      // the app imports with CPython 3.11 from the mount (the health check did too)
      const py = spawnSync(
        path.join(root, "apps/myapp/current/bin/python"),
        ["-c", "import myapp; print(myapp.VERSION)"],
        {
          encoding: "utf8",
          env: { PATH: `${bin}:/usr/bin:/bin` },
        },
      );
      expect(py.stdout.trim(), py.stderr).toBe("1.100");
      expect(existsSync(path.join(root, "objects"))).toBe(false);
      const images = () => readdirSync(path.join(root, "images")).sort();
      expect(images()).toHaveLength(1);

      const b = await agent(root, ["apply", bundles.v2 as string]);
      expect(b.status, b.stderr).toBe(0);
      const st = JSON.parse((await agent(root, ["--json", "status"])).stdout).apps.myapp;
      expect(st.current).toBe(200);
      expect(st.generations.map((g: { mounted: boolean }) => g.mounted)).toEqual([true, true]);
      expect(st.generations.every((g: { image: string }) => /^[0-9a-f]{64}$/.test(g.image))).toBe(
        true,
      );
      let v = await agent(root, ["--json", "verify"]);
      expect(JSON.parse(v.stdout).problems).toEqual([]);

      // a reboot loses the mounts: verify says so, `mount` restores them (twice: idempotent)
      umountAll(root);
      v = await agent(root, ["--json", "status"]);
      expect(
        JSON.parse(v.stdout).apps.myapp.generations.map((g: { mounted: boolean }) => g.mounted),
      ).toEqual([false, false]);
      const m = await agent(root, ["--json", "mount"]);
      expect(m.status, m.stderr).toBe(0);
      expect(JSON.parse(m.stdout).mounted.sort()).toEqual(["myapp/100", "myapp/200"]);
      const m2 = await agent(root, ["--json", "mount"]);
      expect(JSON.parse(m2.stdout).mounted).toEqual([]);
      expect(mountsUnder(root).sort()).toEqual([gen(root, 100), gen(root, 200)]);

      const r = await agent(root, ["rollback", "myapp"]);
      expect(r.status, r.stderr).toBe(0);
      expect(checkCurrent(root, "myapp")).toBe(100);
      // v3 drops generation 200 (keep 2): unmounted, removed, its image collected
      const c = await agent(root, ["apply", bundles.v3 as string]);
      expect(c.status, c.stderr).toBe(0);
      expect(mountsUnder(root).sort()).toEqual([gen(root, 100), gen(root, 300)]);
      expect(existsSync(gen(root, 200))).toBe(false);
      expect(images()).toHaveLength(2);
      v = await agent(root, ["--json", "verify"]);
      expect(JSON.parse(v.stdout).problems).toEqual([]);
    },
  );

  itWith(LOOP_MOUNT, OLDEST_NEWEST)(
    "erofs, mounted and unpacked, by the agent under CPython 3.8 and 3.13",
    async () => {
      for (const minor of ["3.8", "3.13"]) {
        const python = pythons().get(minor) as string;
        const root = path.join(dir, `dev-erofs-${minor}`);
        const a = await runAgent(
          ["--root", root, "--key", pub, "--json", "apply", bundles.e1 as string],
          {
            pathDir: bin,
            python,
          },
        );
        expect(a.status, a.stderr).toBe(0);
        expect(mountsUnder(root)).toEqual([gen(root, 100)]);
        expect(checkCurrent(root, "myapp")).toBe(100);
        const v = await runAgent(["--root", root, "--key", pub, "--json", "verify"], {
          pathDir: bin,
          python,
        });
        expect(JSON.parse(v.stdout).problems).toEqual([]);
        umountAll(root);
        const root2 = path.join(dir, `dev-erofs-x-${minor}`);
        const b = await runAgent(
          ["--root", root2, "--key", pub, "--json", "apply", bundles.e1 as string],
          {
            pathDir: bin,
            python,
            env: { SLIMENV_AGENT_TEST_NO_MOUNT: "1" },
          },
        );
        expect(b.status, b.stderr).toBe(0);
        expect(JSON.parse(b.stdout).image.mounted).toBe(false);
        expect(mountsUnder(root2)).toEqual([]);
        expect(checkCurrent(root2, "myapp")).toBe(100);
      }
    },
  );

  itWith(LOOP_MOUNT)(
    "a kill at any step of an image apply leaves old or new; the next run cleans up",
    async () => {
      const base = path.join(dir, "dev-kill-base");
      expect((await agent(base, ["apply", bundles.v1 as string])).status).toBe(0);
      umountAll(base);
      const trace = path.join(dir, "trace.txt");
      const probe = path.join(dir, "dev-trace");
      spawnSync("cp", ["-a", base, probe]);
      const t = await agent(probe, ["apply", bundles.v2 as string], {
        SLIMENV_AGENT_TEST_TRACE: trace,
      });
      expect(t.status, t.stderr).toBe(0);
      const steps = readFileSync(trace, "utf8").trim().split("\n");
      const names = steps.map((l) => l.split(" ")[1]);
      expect(names).toEqual(
        expect.arrayContaining(["image:check", "image:store", "image:mount", "gen:done"]),
      );
      umountAll(dir);
      // the steps of the image path, and the switch and state writes after them
      const at = names.flatMap((name, i) =>
        /^(image|gen|switch|state|umount|mount|health|apply:image)/.test(name ?? "") ? [i + 1] : [],
      );
      expect(at.length).toBeGreaterThan(8);
      console.log(`image apply: killed at ${at.map((n) => names[n - 1]).join(" ")}`);
      for (const n of at) {
        const root = path.join(dir, `dev-kill-${n}`);
        spawnSync("cp", ["-a", base, root]);
        const k = await agent(root, ["apply", bundles.v2 as string], {
          SLIMENV_AGENT_TEST_CRASH_AT: String(n),
        });
        expect(k.signal, `step ${n} ${names[n - 1]}`).toBe("SIGKILL");
        // the next run that takes the lock recovers: old or new, mounted, nothing half-done
        const g = await agent(root, ["--json", "verify"]);
        expect(JSON.parse(g.stdout).problems, `after a kill at ${names[n - 1]}`).toEqual([]);
        const seq = checkCurrent(root, "myapp");
        expect([100, 200]).toContain(seq);
        expect(readdirSync(path.join(root, "tmp")).filter((x) => x !== "downloads")).toEqual([]);
        expect(
          readdirSync(path.join(root, "apps/myapp/gens")).filter((x) => !/^\d+$/.test(x)),
        ).toEqual([]);
        const kept = readdirSync(path.join(root, "apps/myapp/gens")).map((x) =>
          gen(root, Number(x)),
        );
        expect(mountsUnder(root).sort()).toEqual(kept.sort());
        const again = await agent(root, ["apply", bundles.v2 as string]);
        if (again.status !== 0) expect(again.stderr).toMatch(/replay: myapp sequence 200/);
        expect(checkCurrent(root, "myapp")).toBe(200);
        umountAll(root);
      }
    },
    120_000,
  );

  itWith(LOOP_MOUNT)("a tampered image member is refused before anything is written", async () => {
    const root = path.join(dir, "dev-tamper");
    expect((await agent(root, ["apply", bundles.v1 as string])).status).toBe(0);
    const bytes = new Uint8Array(readFileSync(bundles.v2 as string));
    const at = Buffer.from(bytes).indexOf("image.squashfs") + "image.squashfs".length + 2000;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    const bad = path.join(dir, "tampered.bundle");
    writeFileSync(bad, bytes);
    const before = snapshot(root);
    const r = await agent(root, ["apply", bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/image\.squashfs|CRC|corrupt/i);
    expect(snapshot(root)).toEqual(before);
    expect(mountsUnder(root)).toEqual([gen(root, 100)]);
  });

  itWith(LOOP_MOUNT)(
    "a failed health check unmounts and removes the new image generation",
    async () => {
      const root = path.join(dir, "dev-health");
      expect((await agent(root, ["apply", bundles.v1 as string])).status).toBe(0);
      const sick = await imageBundle(
        { sequence: 400, health: { command: ["bin/python", "-c", "import nothere"], timeout: 30 } },
        "sick",
      );
      const r = await agent(root, ["apply", sick]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/health check of myapp 400 failed .*switched back to 100/);
      expect(checkCurrent(root, "myapp")).toBe(100);
      expect(mountsUnder(root)).toEqual([gen(root, 100)]);
      expect(existsSync(gen(root, 400))).toBe(false);
      expect(readdirSync(path.join(root, "images"))).toHaveLength(1);
      expect(readdirSync(path.join(root, "apps/myapp/manifests")).sort()).toEqual([
        "100.image",
        "100.json",
        "100.tree.json",
      ]);
    },
  );

  itWith(LOOP_MOUNT)(
    "an image that does not hold the signed tree is refused, mounted or unpacked",
    async () => {
      // signed, hashes right, but the image holds v2's files under v1's tree
      const liar = await imageBundle({ ...v1, sequence: 260 }, "liar", "squashfs", v2);
      const root = path.join(dir, "dev-liar");
      expect((await agent(root, ["apply", bundles.v1 as string])).status).toBe(0);
      const before = snapshot(root);
      const r = await agent(root, ["apply", liar]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/the image does not hold the tree bundle\.json names/);
      expect(snapshot(root)).toEqual(before);
      expect(mountsUnder(root)).toEqual([gen(root, 100)]);
      const x = await agent(root, ["apply", liar], { SLIMENV_AGENT_TEST_NO_MOUNT: "1" });
      expect(x.status).toBe(1);
      expect(x.stderr).toMatch(
        /the image's lib\/myapp\/__init__\.py does not match the tree|the image lacks/,
      );
      expect(snapshot(root)).toEqual(before);
    },
  );

  itWith(NEEDS)("cannot mount: unpacked with unsquashfs into a plain generation", async () => {
    const root = path.join(dir, "dev-nomount");
    const noMount = { SLIMENV_AGENT_TEST_NO_MOUNT: "1" };
    const a = await agent(root, ["--json", "apply", bundles.v1 as string], noMount);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).image.mounted).toBe(false);
    expect(mountsUnder(root)).toEqual([]);
    expect(checkCurrent(root, "myapp")).toBe(100);
    expect(
      existsSync(path.join(root, "images")) ? readdirSync(path.join(root, "images")) : [],
    ).toEqual([]);
    expect(readdirSync(path.join(root, "objects")).length).toBeGreaterThan(0);
    const st = JSON.parse((await agent(root, ["--json", "status"], noMount)).stdout).apps.myapp;
    expect(st.generations[0]).toMatchObject({ image: null, mounted: false });
    const v = await agent(root, ["--json", "verify"], noMount);
    expect(JSON.parse(v.stdout).problems).toEqual([]);
  });

  itWith(NEEDS)("cannot mount and no unsquashfs: refused, nothing changed", async () => {
    const root = path.join(dir, "dev-notool");
    const ok = await agent(root, ["apply", bundles.v1 as string], {
      SLIMENV_AGENT_TEST_NO_MOUNT: "1",
    });
    expect(ok.status, ok.stderr).toBe(0);
    const before = snapshot(root);
    // PATH: the interpreters only (no unsquashfs)
    const r = await agent(root, ["apply", bundles.v2 as string], {
      SLIMENV_AGENT_TEST_NO_MOUNT: "1",
      PATH: bin,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /no unsquashfs to unpack it: run the agent as root .*squashfs-tools.*plain bundle/,
    );
    expect(snapshot(root)).toEqual(before);
  });
});
