/**
 * Fixtures for the build tests: sdists with an in-tree PEP 517 backend (a few lines of Python
 * writing a wheel with zipfile, behaviour chosen by a MODE file), a setuptools sdist with a
 * small C extension, the setuptools and wheel wheels CPython itself ships (fully hermetic),
 * and a tiny tar writer for hostile archives.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { readTarEntries, writeZip } from "../../src/archive/index.ts";
import { type BuiltSdist, buildSdist } from "../helpers/wheels.ts";

/** PKG-INFO Metadata-Version 2.2, nothing dynamic: the resolver needs no build (PEP 643). */
export function pkgInfo(
  name: string,
  version: string,
  requires: string[] = [],
  metadataVersion = "2.2",
): string {
  return [
    `Metadata-Version: ${metadataVersion}`,
    `Name: ${name}`,
    `Version: ${version}`,
    ...requires.map((r) => `Requires-Dist: ${r}`),
    "",
    "",
  ].join("\n");
}

const BACKEND = `
import base64, hashlib, json, os, time, zipfile

def _mode():
    return open("MODE").read().strip() if os.path.exists("MODE") else "ok"

def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def get_requires_for_build_wheel(config_settings=None):
    return []

def _requires():
    return open("REQUIRES").read().split() if os.path.exists("REQUIRES") else []

def _metadata(name, version):
    lines = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version]
    lines += ["Requires-Dist: " + r for r in _requires()]
    return ("\\n".join(lines) + "\\n").encode()

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    if _mode() == "fail":
        raise RuntimeError("metadata hook refused")
    with open("PREPARED", "w") as f:
        f.write("yes")
    name, version = open("NAME").read().split()
    dist = "%s-%s.dist-info" % (name.replace("-", "_"), version)
    os.makedirs(os.path.join(metadata_directory, dist))
    with open(os.path.join(metadata_directory, dist, "METADATA"), "wb") as f:
        f.write(_metadata(name, version))
    return dist

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    mode = _mode()
    print("demo backend: building in", os.getcwd(), "mode", mode)
    if mode == "fail":
        print("about to fail: a deliberate compiler error")
        raise RuntimeError("deliberate build failure")
    if mode == "sleep":
        time.sleep(120)
    name, version = open("NAME").read().split()
    mod = name.replace("-", "_")
    dist = "%s-%s.dist-info" % (mod, version)
    files = {
        mod + "/__init__.py": open(os.path.join(mod, "__init__.py"), "rb").read(),
        mod + "/_config.py": ("CONFIG = %r\\n" % (config_settings or {},)).encode(),
        dist + "/METADATA": _metadata(name, version),
        dist + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: demo-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    return _write_wheel(wheel_directory, mod, version, dist, files)

def _write_wheel(wheel_directory, mod, version, dist, files):
    record = "".join("%s,%s,%d\\n" % (p, _digest(d), len(d)) for p, d in files.items())
    record += dist + "/RECORD,,\\n"
    filename = "%s-%s-py3-none-any.whl" % (mod, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
        z.writestr(dist + "/RECORD", record)
    return filename

def _build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth line puts the source folder (the working directory) on sys.path.
    name, version = open("NAME").read().split()
    mod = name.replace("-", "_")
    dist = "%s-%s.dist-info" % (mod, version)
    files = {
        "_editable_" + mod + ".pth": (os.path.abspath(".") + "\\n").encode(),
        dist + "/METADATA": _metadata(name, version),
        dist + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: demo-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    return _write_wheel(wheel_directory, mod, version, dist, files)

if _mode() != "noeditable":
    build_editable = _build_editable
`;

/**
 * An sdist whose in-tree backend (backend-path) builds a pure wheel, and an editable one (PEP
 * 660); MODE: ok, fail, sleep, noeditable (no build_editable).
 */
export function backendSdist(
  name: string,
  version: string,
  mode = "ok",
  more: { metadataVersion?: string; requires?: string[] } = {},
): BuiltSdist {
  const mod = name.replace(/-/g, "_");
  return buildSdist({
    name,
    version,
    files: {
      "PKG-INFO": pkgInfo(name, version, [], more.metadataVersion),
      REQUIRES: `${(more.requires ?? []).join("\n")}\n`,
      "pyproject.toml": [
        "[build-system]",
        "requires = []",
        'build-backend = "demo_backend"',
        'backend-path = ["_backend"]',
        "",
      ].join("\n"),
      "_backend/demo_backend.py": BACKEND,
      MODE: `${mode}\n`,
      NAME: `${name} ${version}\n`,
      [`${mod}/__init__.py`]: `VALUE = "${name} ${version} built"\n`,
    },
  });
}

const C_SOURCE = `
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static double table[4096];

static PyObject *fast_sum(PyObject *self, PyObject *args) {
    long n;
    if (!PyArg_ParseTuple(args, "l", &n)) return NULL;
    double s = 0;
    for (long i = 0; i < n; i++) { table[i % 4096] += (double)i; s += table[i % 4096] * 0.5; }
    return PyFloat_FromDouble(s);
}

static PyObject *greet(PyObject *self, PyObject *args) {
    const char *who;
    if (!PyArg_ParseTuple(args, "s", &who)) return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "hello %s from C (%zu)", who, strlen(who));
    return PyUnicode_FromString(buf);
}

static PyMethodDef methods[] = {
    {"fast_sum", fast_sum, METH_VARARGS, "sum"},
    {"greet", greet, METH_VARARGS, "greet"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
`;

/** A setuptools sdist (legacy: setup.py, no [build-system]) with a C extension. */
export function cextSdist(version = "1.0"): BuiltSdist {
  return buildSdist({
    name: "cext",
    version,
    files: {
      "PKG-INFO": pkgInfo("cext", version),
      "pyproject.toml": "# no [build-system] table: setuptools' legacy backend, as pip does\n",
      "setup.py": [
        "from setuptools import setup, Extension",
        `setup(name="cext", version="${version}", packages=["cext"],`,
        '      ext_modules=[Extension("cext._speed", ["src/speed.c"])])',
        "",
      ].join("\n"),
      "src/speed.c": C_SOURCE,
      "cext/__init__.py": "from ._speed import fast_sum, greet\n",
    },
  });
}

/**
 * The setuptools and wheel wheels CPython ships (ensurepip/_bundled, test/, test/wheeldata),
 * for the interpreter `python` (…/bin/python3.X): fully hermetic build requirements.
 */
export function bundledBuildWheels(python: string): { setuptools?: string; wheel?: string } {
  const prefix = path.dirname(path.dirname(python));
  const minor = /python(3\.\d+)$/.exec(python)?.[1];
  const versionsDir = path.dirname(prefix);
  const dirs: string[] = [];
  for (const v of existsSync(versionsDir) ? readdirSync(versionsDir).sort() : []) {
    for (const sub of ["ensurepip/_bundled", "test", "test/wheeldata"]) {
      dirs.push(
        path.join(versionsDir, v, "lib", `python${v.split(".").slice(0, 2).join(".")}`, sub),
      );
    }
  }
  // The interpreter's own copies first.
  if (minor !== undefined) {
    for (const sub of ["test/wheeldata", "test", "ensurepip/_bundled"]) {
      dirs.unshift(path.join(prefix, "lib", `python${minor}`, sub));
    }
  }
  const found: { setuptools?: string; wheel?: string } = {};
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const m = /^(setuptools|wheel)-(\d+)\.[\d.]+-py3-none-any\.whl$/.exec(f);
      if (m === null) continue;
      const kind = m[1] as "setuptools" | "wheel";
      // setuptools ≥ 61 knows Python 3.12's missing distutils; older ones do not.
      if (kind === "setuptools" && Number(m[2]) < 65) continue;
      found[kind] ??= path.join(dir, f);
    }
  }
  return found;
}

interface RawTarEntry {
  path: string;
  type: "0" | "2" | "1" | "5" | "3";
  data?: string;
  link?: string;
}

/** A gzipped ustar archive of exactly these entries (for hostile sdists). */
export function rawTarGz(entries: readonly RawTarEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  const octal = (v: number, w: number) => `${v.toString(8).padStart(w - 1, "0")}\0`;
  for (const e of entries) {
    const data = enc.encode(e.data ?? "");
    const h = new Uint8Array(512);
    const put = (o: number, t: string) => h.set(enc.encode(t), o);
    put(0, e.path);
    put(100, octal(e.type === "5" ? 0o755 : 0o644, 8));
    put(108, octal(0, 8));
    put(116, octal(0, 8));
    put(124, octal(e.type === "0" ? data.length : 0, 12));
    put(136, octal(0, 12));
    put(148, "        ");
    put(156, e.type);
    put(157, e.link ?? "");
    put(257, "ustar\x0000");
    const sum = h.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h);
    if (e.type === "0" && data.length > 0) {
      const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
      padded.set(data);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return new Uint8Array(gzipSync(out));
}

/** The same sdist as a legacy `.zip` (files and folders of its tar, modes kept). */
export function asZipSdist(sdist: BuiltSdist): BuiltSdist {
  const entries = readTarEntries(new Uint8Array(gunzipSync(sdist.bytes)), sdist.filename);
  const bytes = writeZip(
    entries
      .filter((e) => e.type === "file")
      .map((e) => ({ name: e.path, data: e.data, mode: e.mode })),
  );
  return {
    ...sdist,
    filename: sdist.filename.replace(/\.tar\.gz$/, ".zip"),
    bytes,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** A zip of exactly these entries (for hostile sdists); `mode` may carry a file type. */
export function rawZip(entries: readonly { name: string; data?: string; mode?: number }[]) {
  return writeZip(
    entries.map((e) => ({
      name: e.name,
      data: new TextEncoder().encode(e.data ?? ""),
      ...(e.mode === undefined ? {} : { mode: e.mode }),
    })),
  );
}
