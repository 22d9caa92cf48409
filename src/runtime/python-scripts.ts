/**
 * The Python programs a runtime build runs: the compiler (in the target interpreter, one
 * process per build), the check (in the copy), and the source hook a pyc+zipped-source copy
 * ships as its sitecustomize. Kept compatible with Python 3.7+.
 */

/** Printed before the JSON result line of the compile and check scripts. */
export const SCRIPT_MARK = "@@SLIMENV-RUNTIME@@";

/**
 * Compile and zip. argv[1]: a JSON file {"jobs": [...], "zips": [...]}.
 *   job: {src, dfile, opt, out, pycache, zip?: [zipIndex, name], onFail?: {copy: path} | {zip: [i, name]}}
 *     pycache true: the .pyc goes to importlib.util.cache_from_source(out, optimization)
 *     pycache false: the .pyc goes to `out` itself (sourceless layout or a staging file for a zip)
 *   zip: {path, members: [[name, file]...]}; compiled files named by job.zip are added.
 * Bytecode is hash-based and unchecked (PEP 552) so the same input gives the same bytes.
 * Result: {"failed": [src...], "compiled": N}
 */
export const COMPILE_SCRIPT = String.raw`
import json, os, py_compile, shutil, sys, warnings, zipfile, importlib.util
warnings.simplefilter("ignore")
with open(sys.argv[1]) as f:
    spec = json.load(f)
mode = getattr(py_compile, "PycInvalidationMode", None)
extra = {} if mode is None else {"invalidation_mode": mode.UNCHECKED_HASH}

def cfile_of(job):
    if job["pycache"]:
        opt = job["opt"]
        return importlib.util.cache_from_source(job["out"], optimization="" if opt == 0 else opt)
    return job["out"]

def compile_one(job):
    warnings.simplefilter("ignore")
    try:
        py_compile.compile(job["src"], cfile=cfile_of(job), dfile=job["dfile"], doraise=True, optimize=job["opt"], **extra)
        return True
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError):
        return False

jobs = spec["jobs"]
workers = min(os.cpu_count() or 1, 8)
if len(jobs) > 100 and workers > 1 and sys.platform.startswith("linux"):
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        oks = pool.map(compile_one, jobs, chunksize=16)
else:
    oks = [compile_one(job) for job in jobs]
zips = [list(z["members"]) for z in spec["zips"]]
failed = []
for job, ok in zip(jobs, oks):
    if ok:
        if job.get("zip"):
            zips[job["zip"][0]].append([job["zip"][1], cfile_of(job)])
        continue
    failed.append(job["src"])
    fail = job.get("onFail") or {}
    if "copy" in fail:
        os.makedirs(os.path.dirname(fail["copy"]), exist_ok=True)
        shutil.copyfile(job["src"], fail["copy"])
    elif "zip" in fail:
        zips[fail["zip"][0]].append([fail["zip"][1], job["src"]])
for z, members in zip(spec["zips"], zips):
    os.makedirs(os.path.dirname(z["path"]), exist_ok=True)
    with zipfile.ZipFile(z["path"], "w", zipfile.ZIP_DEFLATED) as out:
        for name, file in sorted(members):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(file, "rb") as f:
                out.writestr(info, f.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
sys.stdout.write("${SCRIPT_MARK}" + json.dumps({"failed": failed, "compiled": sum(oks)}) + "\n")
`;

/**
 * Probe what imports: argv[1] = {"modules": [...], "dynload": [...], "source": bool}.
 * Result: prefix, executable, the libpython files mapped into the process, per-module
 * errors (null = imported), and with "source" the traceback / inspect checks.
 */
export const CHECK_SCRIPT = String.raw`
import importlib, json, os, sys
spec = json.loads(sys.argv[1])
def attempt(name):
    try:
        importlib.import_module(name)
        return None
    except BaseException as e:
        return "%s: %s" % (type(e).__name__, e)
result = {
    "prefix": sys.prefix, "execPrefix": sys.exec_prefix, "basePrefix": sys.base_prefix,
    "executable": sys.executable, "path": sys.path, "libpython": [],
    "modules": {m: attempt(m) for m in spec["modules"]},
    "dynload": {m: attempt(m) for m in spec["dynload"]},
    "source": None,
}
try:
    with open("/proc/self/maps") as f:
        result["libpython"] = sorted({l.split(None, 5)[5].strip() for l in f if "libpython" in l and len(l.split(None, 5)) == 6})
except OSError:
    pass
if spec["source"]:
    import inspect, subprocess, traceback
    import json as j
    src = {"traceback": False, "uncaught": False, "getsource": False, "detail": ""}
    try:
        j.loads("{")
    except ValueError as e:
        frames = traceback.extract_tb(e.__traceback__)
        src["traceback"] = any(f.filename.replace(os.sep, "/").endswith("json/decoder.py") and (f.line or "").strip() for f in frames)
    try:
        src["getsource"] = "def dumps(" in inspect.getsource(j.dumps)
    except (OSError, TypeError) as e:
        src["detail"] += "inspect: %s; " % e
    run = subprocess.run([sys.executable, "-c", "import json; json.loads('{')"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    lines = run.stderr.splitlines()
    for i, line in enumerate(lines[:-1]):
        if 'json/decoder.py", line' in line.replace(os.sep, "/"):
            nxt = lines[i + 1]
            if nxt.strip() and not nxt.lstrip().startswith("File ") and not nxt.lstrip().startswith("json."):
                src["uncaught"] = True
    if not src["uncaught"]:
        src["detail"] += "uncaught traceback: " + " | ".join(lines[-6:])
    result["source"] = src
sys.stdout.write("${SCRIPT_MARK}" + json.dumps(result) + "\n")
`;

/** File name of the sources archive beside sitecustomize in a pyc+zipped-source copy. */
export const SOURCE_ARCHIVE = "stdlib-source.zip";

/**
 * sitecustomize for pyc+zipped-source: sourceless loaders of the stdlib get a get_source
 * that reads the archive (linecache, tracebacks, inspect, pdb use it); on 3.12 and older the
 * default excepthook (C code, which opens files by name only) is replaced by the traceback
 * module's; then any other sitecustomize later on sys.path (site-packages) still runs.
 */
export const SOURCE_HOOK = `"""slimenv runtime (pyc+zipped-source): the standard library ships as sourceless .pyc;
its sources are in ${SOURCE_ARCHIVE} beside this module. This lets tracebacks, linecache,
inspect and pdb read them from there, then runs any other sitecustomize on sys.path."""
import sys


def _install():
    import os
    from importlib.machinery import SourcelessFileLoader

    here = os.path.dirname(os.path.abspath(__file__))
    archive = os.path.join(here, "${SOURCE_ARCHIVE}")
    original = SourcelessFileLoader.get_source

    def get_source(self, fullname):
        path = self.get_filename(fullname)
        if path.startswith(here + os.sep) and path.endswith(".pyc"):
            import zipfile
            from importlib.util import decode_source

            name = path[len(here) + 1 : -1].replace(os.sep, "/")
            try:
                with zipfile.ZipFile(archive) as z:
                    return decode_source(z.read(name))
            except (OSError, KeyError, zipfile.BadZipFile):
                pass
        return original(self, fullname)

    SourcelessFileLoader.get_source = get_source
    if sys.version_info < (3, 13) and sys.excepthook is sys.__excepthook__:

        def excepthook(kind, value, tb):
            import traceback

            traceback.print_exception(kind, value, tb)

        sys.excepthook = excepthook
    return here


def _chain(here):
    import os
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec

    later, seen = [], False
    for entry in sys.path:
        if seen:
            later.append(entry)
        elif entry and os.path.abspath(entry) == here:
            seen = True
    spec = PathFinder.find_spec("sitecustomize", later) if later else None
    if spec is None or spec.loader is None:
        return
    module = module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_chain(_install())
`;
