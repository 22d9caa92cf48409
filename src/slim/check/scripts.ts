/**
 * The Python side of `check`, run by the environment's own interpreter with `-c`. Both stay
 * compatible with Python 3.6 and use the standard library only.
 */

/**
 * Makes a bare site-packages folder a site dir where the env would have it: after the
 * standard library and before the interpreter's own site-packages (as the env's user site
 * is), its .pth files processed and what they add (a code zip) right after it. With
 * SLIMENV_CHECK_ISOLATED (an isolated env's candidate; the interpreter started with -S) `site`
 * runs here with no prefixes, as in the env (launchers.ts ISOLATE_PTH): the base's
 * site-packages and its .pth files never load.
 */
const SITEDIR_PRELUDE = `
import os as _os, site as _site, sys as _sys
if _os.environ.get("SLIMENV_CHECK_ISOLATED") and _sys.flags.no_site:
    _site.PREFIXES[:] = []
    _site.main()
if _os.environ.get("SLIMENV_CHECK_SITEDIR"):
    _d = _os.environ["SLIMENV_CHECK_SITEDIR"]
    _before = list(_sys.path)
    _site.addsitedir(_d)
    _added = [p for p in _sys.path if p not in _before]
    _rest = [p for p in _sys.path if p in _before]
    _base = set(_site.getsitepackages()) if hasattr(_site, "getsitepackages") else set()
    _i = next((k for k, p in enumerate(_rest) if p in _base), len(_rest))
    _sys.path[:] = _rest[:_i] + _added + _rest[_i:]
`;

/**
 * Prints one JSON object: the interpreter's version, executable, extension suffixes, the
 * real paths of sys.path directories, and every `*.dist-info` in them with its RECORD paths
 * and top_level.txt names (null when the file is absent).
 */
export const DISCOVER_SCRIPT = `${SITEDIR_PRELUDE}
import sys, os, json, csv, importlib.machinery
def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None
res = {"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable,
       "extSuffixes": list(importlib.machinery.EXTENSION_SUFFIXES), "path": [], "dists": [],
       "stdlib": sorted(getattr(sys, "stdlib_module_names", sys.builtin_module_names))}
seen = set()
for entry in sys.path:
    if not entry:
        continue
    d = os.path.realpath(entry)
    if d in seen or not os.path.isdir(d):
        continue
    seen.add(d)
    res["path"].append(d)
    try:
        names = sorted(os.listdir(d))
    except OSError:
        continue
    for name in names:
        if not name.endswith(".dist-info"):
            continue
        info = os.path.join(d, name)
        meta = read(os.path.join(info, "METADATA")) or ""
        fields = {}
        for line in meta.splitlines():
            if not line.strip():
                break
            if ":" in line and not line[0].isspace():
                k, v = line.split(":", 1)
                fields.setdefault(k.strip().lower(), v.strip())
        record = read(os.path.join(info, "RECORD"))
        files = None
        if record is not None:
            files = [row[0] for row in csv.reader(record.splitlines()) if row]
        top = read(os.path.join(info, "top_level.txt"))
        res["dists"].append({
            "name": fields.get("name") or name[:-10].split("-")[0],
            "version": fields.get("version") or "",
            "distInfo": os.path.realpath(info), "location": d, "files": files,
            "topLevel": None if top is None else [t for t in top.split() if t]})
sys.stdout.write(json.dumps(res))
`;

/**
 * Reads a JSON list of module names on stdin and imports them in order. On fd 3 it writes a
 * JSON line `{"start": name}` before each import and `{"done": name, "ok": bool, "error"?}`
 * after it, then `{"end": true}`. What modules print goes to stderr. Every exception, SystemExit
 * and KeyboardInterrupt included, is a failure with the last line of its traceback. Ends with
 * os._exit so that threads or atexit hooks a module started cannot hang the batch.
 */
export const IMPORT_SCRIPT = String.raw`${SITEDIR_PRELUDE}
import sys, os, json, importlib, traceback
sys.dont_write_bytecode = True
out = os.fdopen(3, "w")
names = json.loads(sys.stdin.read())
os.dup2(2, 1)
try:
    import faulthandler
    faulthandler.enable()
except Exception:
    pass
def emit(obj):
    out.write(json.dumps(obj) + "\n")
    out.flush()
for name in names:
    emit({"start": name})
    try:
        importlib.import_module(name)
        emit({"done": name, "ok": True})
    except BaseException as e:
        try:
            lines = traceback.format_exception_only(type(e), e)
            last = lines[-1].strip() if lines else type(e).__name__
        except BaseException:
            last = type(e).__name__
        emit({"done": name, "ok": False, "error": last[:1000]})
emit({"end": True})
try:
    sys.stderr.flush()
except BaseException:
    pass
os._exit(0)
`;
