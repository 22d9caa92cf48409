/**
 * The Python side of a probe: one run of the interpreter (`python -I -S -c PROBE_SCRIPT`)
 * that prints one JSON object describing it. It imports only the standard library (never
 * packaging: target interpreters do not have it) and runs on CPython 3.6–3.13 and PyPy 3.
 *
 * The raw facts are reported; decisions (tags, libc kind, ABI compatibility) are taken in
 * TypeScript so they can be tested without an interpreter. Bump PROBE_SCRIPT_VERSION when
 * the output changes: cached probes of older versions are then ignored.
 */

export const PROBE_SCRIPT_VERSION = 1;

export const PROBE_SCRIPT = String.raw`
import json, os, platform, sys, sysconfig

def cv(name):
    try:
        return sysconfig.get_config_var(name)
    except Exception:
        return None

def plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)

def full_version(info):
    text = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text

def glibc_version():
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
        if text:
            parts = text.split()
            if len(parts) == 2 and parts[0] == "glibc":
                return parts[1]
    except (AttributeError, OSError, ValueError):
        pass
    try:
        import ctypes
        lib = ctypes.CDLL(None)
        fn = lib.gnu_get_libc_version
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    fn.restype = ctypes.c_char_p
    got = fn()
    if got is None:
        return None
    if not isinstance(got, str):
        got = got.decode("ascii", "replace")
    return got

def elf_info(path):
    import struct
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return None
            cls, data = ident[4], ident[5]
            end = "<" if data == 1 else ">"
            if cls == 1:
                fmt, phfmt = end + "HHIIIIIHHHHHH", end + "IIIII"
            elif cls == 2:
                fmt, phfmt = end + "HHIQQQIHHHHHH", end + "IIQQQQ"
            else:
                return None
            head = struct.unpack(fmt, f.read(struct.calcsize(fmt)))
            machine, phoff, flags, phentsize, phnum = head[1], head[4], head[6], head[8], head[9]
            interp = None
            for i in range(phnum):
                f.seek(phoff + phentsize * i)
                ph = struct.unpack(phfmt, f.read(struct.calcsize(phfmt)))
                if ph[0] != 3:
                    continue
                offset, size = (ph[1], ph[4]) if cls == 1 else (ph[2], ph[5])
                f.seek(offset)
                interp = f.read(size).rstrip(b"\0").decode("ascii", "replace")
                break
            return {"elfClass": cls, "elfData": data, "machine": machine, "flags": flags,
                    "interpreter": interp}
    except (OSError, ValueError, struct.error):
        return None

def musl_loader_output(elf):
    if not elf or not elf["interpreter"] or "musl" not in elf["interpreter"]:
        return None
    import subprocess
    try:
        proc = subprocess.Popen([elf["interpreter"]], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        _out, err = proc.communicate()
    except OSError:
        return None
    return err.decode("utf-8", "replace")[:2000]

def mac_version():
    if sys.platform != "darwin":
        return None
    release, _info, machine = platform.mac_ver()
    if release.split(".")[:2] == ["10", "16"]:
        import subprocess
        try:
            env = dict(os.environ)
            env["SYSTEM_VERSION_COMPAT"] = "0"
            out = subprocess.check_output(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                env=env)
            release = out.decode("ascii", "replace").strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return {"release": release, "machine": machine}

def preferred(key, names):
    fn = getattr(sysconfig, "get_preferred_scheme", None)
    if fn is not None:
        try:
            return fn(key)
        except Exception:
            pass
    if key == "prefix":
        return "nt" if os.name == "nt" else "posix_prefix"
    if sys.platform == "darwin" and cv("PYTHONFRAMEWORK") and "osx_framework_user" in names:
        return "osx_framework_user"
    return "nt_user" if os.name == "nt" else "posix_user"

PLACEHOLDERS = {"base": "{base}", "platbase": "{platbase}", "installed_base": "{base}",
                "installed_platbase": "{platbase}", "userbase": "{userbase}"}

def scheme(name):
    result = {"name": name, "paths": None, "template": None, "error": None}
    try:
        result["paths"] = sysconfig.get_paths(name)
        result["template"] = sysconfig.get_paths(name, vars=PLACEHOLDERS)
    except Exception as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
    return result

def main():
    names = list(sysconfig.get_scheme_names())
    prefix_scheme = preferred("prefix", names)
    if "venv" in names:
        venv_scheme = "venv"
    else:
        venv_scheme = "nt" if os.name == "nt" else "posix_prefix"
    try:
        import importlib.machinery
        ext_suffixes = list(importlib.machinery.EXTENSION_SUFFIXES)
    except Exception:
        ext_suffixes = []
    try:
        import importlib.util
        magic = importlib.util.MAGIC_NUMBER.hex()
    except Exception:
        magic = None
    executable = sys.executable or ""
    real = os.path.realpath(executable) if executable else ""
    elf = elf_info(real) if real and sys.platform.startswith("linux") else None
    gil = getattr(sys, "_is_gil_enabled", None)
    impl = sys.implementation
    out = {
        "probeVersion": %PROBE_SCRIPT_VERSION%,
        "executable": executable,
        "realExecutable": real,
        "version": list(sys.version_info[:3]),
        "versionInfo": {"major": sys.version_info[0], "minor": sys.version_info[1],
                        "micro": sys.version_info[2], "releaselevel": sys.version_info[3],
                        "serial": sys.version_info[4]},
        "versionString": sys.version,
        "implementation": {"name": impl.name, "version": full_version(impl.version),
                           "cacheTag": impl.cache_tag},
        "abiflags": getattr(sys, "abiflags", ""),
        "maxsizeOver32Bits": sys.maxsize > 2 ** 32,
        "hasTotalRefcount": hasattr(sys, "gettotalrefcount"),
        "extensionSuffixes": ext_suffixes,
        "configVars": dict((k, plain(cv(k))) for k in (
            "SOABI", "EXT_SUFFIX", "Py_DEBUG", "WITH_PYMALLOC", "Py_GIL_DISABLED",
            "Py_ENABLE_SHARED", "py_version_nodot", "MULTIARCH", "LDVERSION", "LIBDIR",
            "PYTHONFRAMEWORK", "VERSION")),
        "gilEnabledAtRuntime": gil() if gil is not None else None,
        "sysconfigPlatform": sysconfig.get_platform(),
        "platformSystem": platform.system(),
        "machine": platform.machine(),
        "osName": os.name,
        "sysPlatform": sys.platform,
        "glibcVersion": glibc_version() if os.name == "posix" else None,
        "elf": elf,
        "muslLoaderOutput": musl_loader_output(elf),
        "mac": mac_version(),
        "prefix": sys.prefix,
        "basePrefix": getattr(sys, "base_prefix", sys.prefix),
        "execPrefix": sys.exec_prefix,
        "baseExecPrefix": getattr(sys, "base_exec_prefix", sys.exec_prefix),
        "platlibdir": getattr(sys, "platlibdir", "lib"),
        "stdlib": sysconfig.get_paths().get("stdlib"),
        "platstdlib": sysconfig.get_paths().get("platstdlib"),
        "sysPath": list(sys.path),
        "schemeNames": names,
        "schemes": {"prefix": scheme(prefix_scheme), "user": scheme(preferred("user", names)),
                    "venv": scheme(venv_scheme)},
        "markerEnvironment": {
            "implementation_name": impl.name,
            "implementation_version": full_version(impl.version),
            "os_name": os.name,
            "platform_machine": platform.machine(),
            "platform_release": platform.release(),
            "platform_system": platform.system(),
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform,
        },
        "magicNumber": magic,
        "cacheTag": impl.cache_tag,
    }
    sys.stdout.write("@@SLIMENV-PROBE@@" + json.dumps(out) + "\n")

main()
`.replace("%PROBE_SCRIPT_VERSION%", String(PROBE_SCRIPT_VERSION));
