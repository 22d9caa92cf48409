#!/usr/bin/env python3
# slimenv-agent: applies signed slimenv bundles on a device (docs/fleet.md).
#
# One file, Python standard library only, CPython >= 3.8; runs under `python3 -I`.
#
#   slimenv-agent.py [--root DIR] [--key FILE] [--json] apply BUNDLE
#   slimenv-agent.py ... update --repo URL --app APP --channel CH
#   slimenv-agent.py ... status | rollback APP | gc | verify | mount
#
# Exit status: 0 ok, 1 refused or failed (one line on stderr says why), 2 usage.
#
# Sections: 1 errors and test hooks · 2 ed25519 · 3 keys and signatures · 4 SLDIFF01 patches ·
# 5 target probe · 6 header and tree checks · 7 device store · 8 reading a bundle (zip) ·
# 8b images (mount, check, unpack) · 9 apply ·
# 10 update (HTTP) · 11 status, rollback, gc, verify · 12 command line.
import sys

if sys.version_info < (3, 8):
    sys.stderr.write(
        "slimenv-agent: needs CPython 3.8 or newer (this is %d.%d)\n" % sys.version_info[:2]
    )
    sys.exit(1)

import base64
import errno
import fcntl
import hashlib
import json
import operator
import os
import re
import signal
import stat
import struct
import threading
import time
import unicodedata
import zlib

# subprocess (probe, health) and urllib/http.client (update) are imported where they are used:
# start-up is part of every apply's time on a small device.

try:  # some small builds of CPython lack _lzma: they can still apply gzip bundles
    import lzma

    LZMAError = lzma.LZMAError
except ImportError:
    lzma = None

    class LZMAError(Exception):
        pass


AGENT_VERSION = "2"
BUNDLE_FORMAT = "slimenv-bundle/2"
CHANNEL_FORMAT = "slimenv-channel/2"
STATE_FORMAT = "slimenv-device-state/1"
MAX_HEADER = 64 * 1024 * 1024
MAX_TREE = 64 * 1024 * 1024
MAX_SIG = 4096
TREE_MEMBERS = {"xz": "tree.json.xz", "gzip": "tree.json.gz", "sldiff": "tree.sldiff"}
IMAGE_MEMBERS = {"squashfs": "image.squashfs", "erofs": "image.erofs"}
MAX_INDEX = 4 * 1024 * 1024
CHUNK = 1024 * 1024
PAYLOAD_CHUNK = 16 * 1024 * 1024
APP_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
SEQ_DIR_RE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
IMAGE_NAME_RE = re.compile(r"^[0-9a-f]{64}\.(squashfs|erofs)$")


# ---------------------------------------------------------------- 1 errors and test hooks


class Refused(Exception):
    """A refusal or failure: exit status 1 with this one-line reason."""


class Unavailable(Refused):
    """A blob the repository does not serve (HTTP 404/410): update falls back to the full bundle."""


def refuse(why):
    raise Refused(why)


# Test hooks: SLIMENV_AGENT_TEST_CRASH_AT=N kills the agent (SIGKILL) at its Nth step,
# SLIMENV_AGENT_TEST_PAUSE=N:SECONDS sleeps there, SLIMENV_AGENT_TEST_TRACE=FILE logs the steps,
# SLIMENV_AGENT_TEST_NO_MOUNT=1 makes an image bundle take the no-mount path (unpack the image).
_CRASH_AT = int(os.environ.get("SLIMENV_AGENT_TEST_CRASH_AT", "0") or "0")
_PAUSE = (os.environ.get("SLIMENV_AGENT_TEST_PAUSE", "") + ":").split(":")[:2]
_TRACE = os.environ.get("SLIMENV_AGENT_TEST_TRACE")
_steps = [0]
_step_lock = threading.Lock()


def step(name):
    """A point where tests may kill or pause the agent, or trace its steps (from any thread)."""
    with _step_lock:
        _steps[0] += 1
        n = _steps[0]
        if _TRACE:
            with open(_TRACE, "a") as f:
                f.write("%d %s\n" % (n, name))
    if n == _CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    if _PAUSE[0] and n == int(_PAUSE[0]):
        time.sleep(float(_PAUSE[1] or "1"))


# ---------------------------------------------------------------- 2 ed25519 (RFC 8032)

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_IDENTITY = (0, 1, 1, 0)


def _pt_add(P, Q):
    # extended coordinates (X, Y, Z, T), RFC 8032 5.1.4
    x1, y1, z1, t1 = P
    x2, y2, z2, t2 = Q
    p = _P
    a = (y1 - x1) * (y2 - x2) % p
    b = (y1 + x1) * (y2 + x2) % p
    c = t1 * _D2 % p * t2 % p
    d = 2 * z1 * z2 % p
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _pt_double(P):
    x1, y1, z1, _ = P
    p = _P
    a = x1 * x1 % p
    b = y1 * y1 % p
    c = 2 * z1 * z1 % p
    h = a + b
    s = x1 + y1
    e = h - s * s % p
    g = a - b
    f = c + g
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _decode_point(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        if sign:
            return None
        x = 0
    else:
        x = pow(x2, (_P + 3) // 8, _P)
        if (x * x - x2) % _P:
            x = x * _SQRT_M1 % _P
        if (x * x - x2) % _P:
            return None
        if (x & 1) != sign:
            x = _P - x
    return (x, y, 1, x * y % _P)


def _encode_point(P):
    x, y, z, _ = P
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


_BASE_POWERS = []


def _base_powers():
    # 2^i * B for i in 0..252, computed once per process
    if not _BASE_POWERS:
        by = 4 * pow(5, _P - 2, _P) % _P
        B = _decode_point(by.to_bytes(32, "little"))
        for _ in range(253):
            _BASE_POWERS.append(B)
            B = _pt_double(B)
    return _BASE_POWERS


def ed25519_verify(public, message, signature):
    """True when `signature` (64 bytes) is a valid RFC 8032 Ed25519 signature of `message`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    A = _decode_point(public)
    if A is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    # [h](-A) with a 4-bit window
    neg = (_P - A[0], A[1], A[2], _P - A[3])
    table = [_IDENTITY, neg]
    for _ in range(14):
        table.append(_pt_add(table[-1], neg))
    Q = _IDENTITY
    for i in range(63, -1, -1):
        Q = _pt_double(_pt_double(_pt_double(_pt_double(Q))))
        n = (h >> (4 * i)) & 15
        if n:
            Q = _pt_add(Q, table[n])
    # + [s]B from the table of powers of two
    powers = _base_powers()
    i = 0
    while s:
        if s & 1:
            Q = _pt_add(Q, powers[i])
        s >>= 1
        i += 1
    return _encode_point(Q) == signature[:32]


# ---------------------------------------------------------------- 3 keys and signatures


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def key_id(raw):
    return hashlib.sha256(raw).hexdigest()[:16]


def parse_public_key(text, what):
    m = re.match(r"^ed25519:([A-Za-z0-9+/]{43}=)\s*$", text.strip())
    if not m:
        refuse('%s is not "ed25519:<base64 of 32 bytes>"' % what)
    return base64.b64decode(m.group(1), validate=True)


def load_trusted_keys(root, key_files):
    keys = {}
    kdir = os.path.join(root, "keys")
    try:
        names = sorted(n for n in os.listdir(kdir) if n.endswith(".pub") and not n.startswith("."))
    except OSError:
        names = []
    files = list(key_files or []) + [os.path.join(kdir, n) for n in names]
    for path in files:
        try:
            with open(path, "r", encoding="utf-8") as f:
                raw = parse_public_key(f.read(4096), path)
        except OSError as e:
            refuse("cannot read key %s: %s" % (path, e.strerror))
        keys[key_id(raw)] = raw
    if not keys:
        refuse("no trusted key: pass --key FILE or put one in %s/keys/*.pub" % root)
    return keys


def verify_signature(data, sig_bytes, keys, what):
    """Check a signature document over `data`; returns the key id. Refuses otherwise."""
    try:
        doc = json.loads(sig_bytes.decode("utf-8"))
        alg, kid, sig64 = doc["alg"], doc["keyid"], doc["sig"]
        sig = base64.b64decode(sig64, validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        refuse("%s: unreadable signature" % what)
    if alg != "ed25519":
        refuse("%s: signature algorithm %r" % (what, alg))
    raw = keys.get(kid)
    if raw is None:
        refuse("%s: signed by key %s, which is not trusted (wrong key)" % (what, kid))
    if not ed25519_verify(raw, data, sig):
        refuse("%s: bad signature (tampered, or not signed by key %s)" % (what, kid))
    return kid


# ---------------------------------------------------------------- 4 SLDIFF01 patches


def _decompress_bounded(data, codec, limit, what):
    if codec == 0:  # raw: stored as is (the payload's xz compressed it)
        if len(data) > limit:
            refuse("patch %s: a stream is larger than it can be" % what)
        return data
    try:
        if codec == 1:
            if lzma is None:
                refuse("patch %s: xz streams need the lzma module, which this python3 lacks" % what)
            d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        elif codec == 2:
            d = zlib.decompressobj()
        else:
            refuse("patch %s: unknown codec %d" % (what, codec))
        out = d.decompress(data, limit + 1)
        if len(out) > limit:
            refuse("patch %s: a stream is larger than it can be" % what)
        if not d.eof or d.unused_data:
            refuse("patch %s: a stream is truncated or has trailing bytes" % what)
        return out
    except (LZMAError, zlib.error, EOFError) as e:
        refuse("patch %s: corrupt stream (%s)" % (what, e))


_ADD_BLOCK = 64 * 1024
_ADD_M7 = int.from_bytes(b"\x7f" * _ADD_BLOCK, "little")
_ADD_M80 = int.from_bytes(b"\x80" * _ADD_BLOCK, "little")
_ADD_ZERO = bytes(_ADD_BLOCK)
_ADD_GROUP = 1 << 20


def _add_into(out, at, over):
    """out[at:at+len(over)] += over, byte-wise mod 256, with big-int SWAR: the low 7 bits of each
    byte are added with the carry out of bit 7 masked away, bit 7 is the xor of both and of that
    carry. 64 KiB blocks (ints that stay in the CPU cache: about 4x faster than one int of
    several MiB); an all-zero block of `over` is skipped."""
    n = len(over)
    fb = int.from_bytes
    ov = memoryview(over)
    size, m7, m80, zero = _ADD_BLOCK, _ADD_M7, _ADD_M80, _ADD_ZERO
    for i in range(0, n, size):
        j = i + size
        if j > n:
            j = n
            size = j - i
            m7, m80, zero = fb(b"\x7f" * size, "little"), fb(b"\x80" * size, "little"), bytes(size)
        y = ov[i:j]
        if y == zero:
            continue
        x = fb(out[at + i : at + j], "little")
        y = fb(y, "little")
        out[at + i : at + j] = (((x & m7) + (y & m7)) ^ ((x ^ y) & m80)).to_bytes(size, "little")


def apply_patch(old, patch, new_size_expected, what="?"):
    """The bytes (a bytearray) patch `patch` makes from `old` (docs/fleet.md SLDIFF01); refuses
    bad patches. The control triples copy old and extra bytes into place; the diff bytes (with
    zeros where extra bytes went) are gathered for about 1 MiB of output at a time and added
    there in one pass (a bsdiff patch has tens of thousands of short add runs: one big-int sum
    each would cost more than the bytes). Memory: old + patch + new, plus ~3 MiB."""
    if len(patch) < 41 or patch[:8] != b"SLDIFF01":
        refuse("patch %s: no SLDIFF01 header" % what)
    new_size, codec, lc, ld, le = struct.unpack_from("<QBQQQ", patch, 8)
    if new_size != new_size_expected:
        refuse("patch %s: makes %d bytes, the manifest says %d" % (what, new_size, new_size_expected))
    if 41 + lc + ld + le != len(patch):
        refuse("patch %s: stream lengths do not add up to the patch size" % what)
    # views, not copies: a raw (codec 0) stream is used in place
    mv = memoryview(patch)
    p = 41
    ctrl = _decompress_bounded(mv[p : p + lc], codec, 24 * (new_size + 2), what)
    diff = memoryview(_decompress_bounded(mv[p + lc : p + lc + ld], codec, new_size, what))
    extra = memoryview(_decompress_bounded(mv[p + lc + ld :], codec, new_size, what))
    if len(ctrl) % 24:
        refuse("patch %s: control stream is not whole triples" % what)
    out = bytearray(new_size)
    oldv = memoryview(old)
    zeros = memoryview(bytes(min(new_size, _ADD_GROUP)))
    nz = len(zeros)
    over = []  # the diff bytes of the output since `group`, zeros where extra bytes went
    put = over.append
    n_old, n_diff, n_extra = len(old), len(diff), len(extra)
    old_pos = new_pos = diff_pos = extra_pos = group = 0
    for add, copy, seek in struct.iter_unpack("<qqq", ctrl):
        if add < 0 or copy < 0:
            refuse("patch %s: negative length" % what)
        if add:
            if old_pos < 0 or old_pos + add > n_old:
                refuse("patch %s: reads outside the old file" % what)
            if diff_pos + add > n_diff or new_pos + add > new_size:
                refuse("patch %s: runs past the diff stream or the new size" % what)
            out[new_pos : new_pos + add] = oldv[old_pos : old_pos + add]
            put(diff[diff_pos : diff_pos + add])
            new_pos += add
            diff_pos += add
            old_pos += add
        if copy:
            if extra_pos + copy > n_extra or new_pos + copy > new_size:
                refuse("patch %s: runs past the extra stream or the new size" % what)
            out[new_pos : new_pos + copy] = extra[extra_pos : extra_pos + copy]
            put(zeros[:copy] if copy <= nz else bytes(copy))
            new_pos += copy
            extra_pos += copy
        old_pos += seek
        if new_pos - group >= _ADD_GROUP:
            _add_into(out, group, over[0] if len(over) == 1 else b"".join(over))
            del over[:]
            group = new_pos
    if over:
        _add_into(out, group, over[0] if len(over) == 1 else b"".join(over))
    if new_pos != new_size or diff_pos != n_diff or extra_pos != n_extra:
        refuse("patch %s: output size differs from the header, or streams left over" % what)
    return out


# ---------------------------------------------------------------- 5 target probe

# The probe runs in the interpreter a bundle names: in a child process (`-I -c`), or in the
# agent's own process when that command is the very interpreter running the agent.
PROBE_FN = r"""
def probe():
    import os, struct, sys, sysconfig
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    abi = "cp%d%d" % sys.version_info[:2]
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        abi += "t"
    if hasattr(sys, "gettotalrefcount"):
        abi += "d"
    machine = os.uname().machine
    if struct.calcsize("P") == 4:
        machine = {"x86_64": "i686", "aarch64": "armv7l", "armv8l": "armv7l"}.get(machine, machine)
    libc = ver = None
    try:
        s = os.confstr("CS_GNU_LIBC_VERSION") or ""
        if s.startswith("glibc "):
            libc, ver = "glibc", s.split()[1]
    except (ValueError, OSError, AttributeError):
        pass
    if libc is None:
        import glob, re, subprocess
        for f in sorted(glob.glob("/lib/ld-musl-*.so.1")):
            try:
                err = subprocess.run([f], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stderr
                m = re.search(r"Version (\d+(?:\.\d+)*)", err.decode("utf-8", "replace"))
                if m:
                    libc, ver = "musl", m.group(1)
                    break
            except OSError:
                pass
    return {"implementation": impl, "python": "%d.%d" % sys.version_info[:2], "abi": abi,
            "machine": machine, "libc": libc, "libcVersion": ver, "executable": sys.executable}
"""
PROBE = "import json\n" + PROBE_FN + "print(json.dumps(probe()))\n"

_probes = {}


def _same_file(a, b):
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def start_probe(command):
    """Begin probing the interpreter `command` (on PATH, or a path): a finished result when it is
    the interpreter running the agent (probed in-process) or probed before, else a child process
    working while the caller goes on. finish_probe() gives the result."""
    if command in _probes:
        return (command, _probes[command])
    exe = command if command.startswith("/") else which(command)
    if not exe:
        refuse("interpreter %s is not on this device's PATH" % command)
    if sys.executable and _same_file(exe, sys.executable):
        ns = {}
        exec(PROBE_FN, ns)
        _probes[command] = ns["probe"]()
        return (command, _probes[command])
    import subprocess

    try:
        p = subprocess.Popen([exe, "-I", "-c", PROBE], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        refuse("cannot probe interpreter %s: %s" % (command, e))
    return (command, p)


def finish_probe(started):
    """What start_probe's interpreter is: implementation, version, abi, machine, libc…"""
    command, p = started
    if isinstance(p, dict):
        return p
    import subprocess

    try:
        out = p.communicate(timeout=60)[0]
        info = json.loads(out.decode("utf-8"))
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        p.kill()
        p.communicate()
        refuse("cannot probe interpreter %s: %s" % (command, e))
    if not isinstance(info, dict):
        refuse("cannot probe interpreter %s: %r" % (command, info))
    _probes[command] = info
    return info


def _version_tuple(v):
    return tuple(int(x) for x in str(v).split("."))


def start_check_target(manifest):
    """Start checking the bundle's target against this device (see finish_check_target)."""
    return (manifest, start_probe(manifest["interpreter"]))


def finish_check_target(started):
    """Refuse a bundle whose target the device's interpreter does not satisfy."""
    manifest, probing = started
    t = manifest["target"]
    interp = manifest["interpreter"]
    dev = finish_probe(probing)
    why = []
    for k in ("implementation", "python", "abi", "machine"):
        if t[k] != dev[k]:
            why.append("%s %s, device has %s" % (k, t[k], dev[k]))
    if t.get("libc"):
        if dev["libc"] != t["libc"]:
            why.append("libc %s, device has %s" % (t["libc"], dev["libc"] or "unknown"))
        elif _version_tuple(dev["libcVersion"]) < _version_tuple(t["libcVersion"]):
            why.append("%s %s or newer, device has %s" % (t["libc"], t["libcVersion"], dev["libcVersion"]))
    if why:
        refuse("bundle target does not fit this device's %s: %s" % (interp, "; ".join(why)))


# ---------------------------------------------------------------- 6 manifest checks


def bad_tree_path(path):
    if not isinstance(path, str) or path == "":
        return "empty path"
    if "\0" in path:
        return "NUL in path"
    if "\\" in path:
        return "backslash in path"
    if path.startswith("/"):
        return "absolute path"
    if unicodedata.normalize("NFC", path) != path:
        return "path not NFC"
    for seg in path.split("/"):
        if seg in ("", ".", ".."):
            return "'%s' segment in path" % seg
    return None


def resolve_inside(links, parts, target):
    """Resolve a symlink target from directory `parts` through the tree's links; None if it escapes."""
    if target.startswith("/") or "\\" in target or "\0" in target:
        return None
    parts = list(parts)
    todo = list(reversed(target.split("/")))
    hops = 0
    while todo:
        c = todo.pop()
        if c in ("", "."):
            continue
        if c == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(c)
        link = links.get("/".join(parts))
        if link is not None:
            hops += 1
            if hops > 40 or link.startswith("/"):
                return None
            parts.pop()
            todo.extend(reversed(link.split("/")))
    return parts


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _sorted_unique(values, what):
    for a, b in zip(values, values[1:]):
        if not a < b:
            refuse("manifest %s not sorted or not unique at %r" % (what, b))


def check_manifest(m):
    """Refuse a header + tree that is not a well-formed slimenv-bundle/2 bundle."""
    check_header(m)
    check_tree(m)


def check_header(m):
    """Refuse a bundle.json that is not a well-formed slimenv-bundle/2 header."""
    try:
        if m.get("format") != BUNDLE_FORMAT:
            refuse("manifest format %r is not %s" % (m.get("format"), BUNDLE_FORMAT))
        if not isinstance(m["app"], str) or not APP_RE.match(m["app"]):
            refuse("manifest app name %r" % (m["app"],))
        if not _is_int(m["sequence"]) or not isinstance(m["version"], str):
            refuse("manifest sequence or version")
        t = m["target"]
        for k in ("implementation", "python", "abi", "machine"):
            if not isinstance(t[k], str) or not t[k]:
                refuse("manifest target.%s" % k)
        if t.get("libc") not in (None, "glibc", "musl"):
            refuse("manifest target.libc %r" % (t.get("libc"),))
        if t.get("libc") and not re.match(r"^\d+(\.\d+)*$", str(t.get("libcVersion"))):
            refuse("manifest target.libcVersion")
        if not isinstance(m["interpreter"], str) or not re.match(r"^[A-Za-z0-9._+/-]+$", m["interpreter"]):
            refuse("manifest interpreter %r" % (m["interpreter"],))
        h = m["health"]
        if h is not None:
            cmd = h["command"]
            if not isinstance(cmd, list) or not cmd or not all(isinstance(c, str) for c in cmd):
                refuse("manifest health command")
            if not _is_int(h["timeout"]):
                refuse("manifest health timeout")
        for o in m["objects"]:
            if not SHA_RE.match(str(o["sha256"])) or not _is_int(o["size"]):
                refuse("manifest object entry")
        _sorted_unique([o["sha256"] for o in m["objects"]], "objects")
        for p in m["patches"]:
            if not all(SHA_RE.match(str(p[k])) for k in ("sha256", "source", "target")):
                refuse("manifest patch entry")
            if not _is_int(p["size"]):
                refuse("manifest patch size")
        _sorted_unique([p["target"] for p in m["patches"]], "patches")
        pl = m["payload"]
        names = {"xz": "payload.tar.xz", "gzip": "payload.tar.gz"}
        if names.get(pl["compression"]) != pl["name"]:
            refuse("manifest payload entry")
        if not SHA_RE.match(str(pl["sha256"])) or not _is_int(pl["size"]):
            refuse("manifest payload hash")
        a = m["agent"]
        if a is not None and (not SHA_RE.match(str(a["sha256"])) or not _is_int(a["size"])):
            refuse("manifest agent entry")
        t = m["tree"]
        if (t["encoding"] not in TREE_MEMBERS or not SHA_RE.match(str(t["sha256"]))
                or not _is_int(t["size"]) or not SHA_RE.match(str(t["stored"]["sha256"]))
                or not _is_int(t["stored"]["size"])):
            refuse("manifest tree entry")
        if (t["base"] is not None) != (t["encoding"] == "sldiff") or (
                t["base"] is not None and not SHA_RE.match(str(t["base"]))):
            refuse("manifest tree base")
        if "image" in m:
            i = m["image"]
            if (not isinstance(i, dict) or i.get("format") not in IMAGE_MEMBERS
                    or not SHA_RE.match(str(i.get("sha256"))) or not _is_int(i.get("size"))):
                refuse("manifest image entry")
            if m["objects"] or m["patches"] or m["base"] is not None:
                refuse("manifest: an image bundle carries no objects or patches and is no delta")
    except (KeyError, TypeError, AttributeError) as e:
        refuse("manifest is malformed (%s: %s)" % (type(e).__name__, e))


def check_tree(m):
    """Refuse a tree whose paths, modes or symlinks are not as docs/fleet.md says. Returns the
    set of the tree's directories (every proper prefix of a path), which the build makes.

    A fast check runs over the whole lists at once (C-level joins, one regex, set operations);
    whatever it cannot prove valid is checked entry by entry (_check_tree_slow), which refuses
    with the precise reason."""
    try:
        dirs = _check_tree_fast(m["files"], m["symlinks"])
    except (KeyError, TypeError, AttributeError, ValueError):
        dirs = None
    if dirs is None:
        _check_tree_slow(m)
        dirs = _tree_dirs([f["path"] for f in m["files"]] + [s["path"] for s in m["symlinks"]])
    return dirs




def _tree_dirs(paths):
    """Every proper prefix directory of `paths` (relative, "/"-separated)."""
    dirs = set()
    add = dirs.add
    for p in paths:
        cut = p.rfind("/")
        while cut > 0:
            p = p[:cut]
            if p in dirs:
                break
            add(p)
            cut = p.rfind("/")
    return dirs


def _check_tree_fast(files, symlinks):
    """The tree's directories when every check passes at once, else None (check slowly)."""
    if type(files) is not list or type(symlinks) is not list:
        return None
    paths = [f["path"] for f in files]
    lpaths = [s["path"] for s in symlinks]
    joined = "\x00".join(paths + lpaths)  # TypeError (a non-string) -> the slow check
    n = len(paths) + len(lpaths)
    if (n and joined.count("\x00") != n - 1) or "\\" in joined:
        return None
    # every segment of every path between "/": an empty, "." or ".." one is a refusal (a
    # leading or trailing "/" or an empty path makes an empty one)
    segs = "/" + joined.replace("\x00", "/") + "/" if n else ""
    if "//" in segs or "/./" in segs or "/../" in segs:
        return None
    if not joined.isascii() and not unicodedata.is_normalized("NFC", joined):
        return None
    shas = [f["sha256"] for f in files]
    if shas and (set(map(len, shas)) != {64}
                 or "".join(shas).encode("ascii").translate(None, b"0123456789abcdef")):
        return None
    sizes = [f["size"] for f in files]
    modes = [f["mode"] for f in files]
    if not set(map(type, sizes)) <= {int} or (sizes and min(sizes) < 0):
        return None
    if not set(map(type, modes)) <= {int} or not set(modes) <= {420, 493}:
        return None
    if not all(map(operator.lt, paths, paths[1:])) or not all(map(operator.lt, lpaths, lpaths[1:])):
        return None
    owners = set(paths)
    owners.update(lpaths)
    if len(owners) != n:
        return None  # a path that is a file and a symlink
    dirs = _tree_dirs(owners)
    if not owners.isdisjoint(dirs):
        return None  # a path under a file or symlink
    if symlinks:
        links = {}
        for s in symlinks:
            if type(s["target"]) is not str or not s["target"]:
                return None
            links[s["path"]] = s["target"]
        for s in symlinks:
            if resolve_inside(links, s["path"].split("/")[:-1], s["target"]) is None:
                return None
    return dirs


def _check_tree_slow(m):
    """check_tree, entry by entry: refuses with the first problem found."""
    try:
        owners = set()
        for f in m["files"]:
            why = bad_tree_path(f["path"])
            if why:
                refuse("%s: %r" % (why, f["path"]))
            if not SHA_RE.match(str(f["sha256"])) or not _is_int(f["size"]):
                refuse("manifest entry %s" % f["path"])
            if f["mode"] not in (420, 493) or isinstance(f["mode"], bool):
                refuse("mode %r of %s" % (f["mode"], f["path"]))
            owners.add(f["path"])
        _sorted_unique([f["path"] for f in m["files"]], "files")
        links = {}
        for s in m["symlinks"]:
            why = bad_tree_path(s["path"])
            if why:
                refuse("%s: %r" % (why, s["path"]))
            if s["path"] in owners:
                refuse("%s is a file and a symlink" % s["path"])
            if not isinstance(s["target"], str) or not s["target"]:
                refuse("symlink %s has no target" % s["path"])
            owners.add(s["path"])
            links[s["path"]] = s["target"]
        _sorted_unique([s["path"] for s in m["symlinks"]], "symlinks")
        for p in owners:
            segs = p.split("/")
            for i in range(1, len(segs)):
                if "/".join(segs[:i]) in owners:
                    refuse("%s lies under a file or symlink" % p)
        for s in m["symlinks"]:
            if resolve_inside(links, s["path"].split("/")[:-1], s["target"]) is None:
                refuse("symlink %s -> %s escapes the tree" % (s["path"], s["target"]))
    except (KeyError, TypeError, AttributeError) as e:
        refuse("tree is malformed (%s: %s)" % (type(e).__name__, e))


# ---------------------------------------------------------------- 7 device store


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def which(command):
    """The executable `command` names: a path when it has a "/", else the first on PATH (its
    empty entries skipped: never the current folder), else None."""
    if "/" in command:
        dirs = [""]
    else:
        dirs = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if d]
    for d in dirs:
        p = os.path.join(d, command)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def rmtree(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        import shutil  # here: 2 ms of every start-up otherwise

        shutil.rmtree(path)


def write_atomic(path, data, sync=True):
    """Write `data` to a temp file renamed over `path`. Without `sync` (no fsync of the file or
    its directory) the caller makes it durable with a later sync(2)."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if sync:
        fsync_dir(os.path.dirname(path))


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """ROOT: objects/, objects-x/, apps/APP/{gens,manifests,current,state.json}, keys/, tmp/, lock.
    manifests/SEQ.json is a generation's bundle.json, manifests/SEQ.tree.json its tree's bytes."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.tmp = os.path.join(self.root, "tmp")
        self.downloads = os.path.join(self.tmp, "downloads")
        self._lock_fd = None
        self._objects = None  # (sha, executable) on disk, listed once under the lock, kept current
        self._known = set()  # (sha, executable) known to be stored, without listing objects/
        self.full_gc = False  # recovery found an interrupted apply: gc looks at every object
        self._manifests = {}  # (app, seq) -> manifest this run wrote
        self._trees = {}  # (app, seq) -> a kept generation's tree, parsed (a delta's base)
        self._tree_bytes = {}  # (app, seq) -> (bytes, parsed) or None, see kept_tree


    # -- paths
    def object_path(self, sha, executable):
        return os.path.join(self.root, "objects-x" if executable else "objects", sha[:2], sha[2:])

    def app_dir(self, app):
        return os.path.join(self.root, "apps", app)

    def gen_dir(self, app, seq):
        return os.path.join(self.app_dir(app), "gens", str(seq))

    def manifest_path(self, app, seq):
        return os.path.join(self.app_dir(app), "manifests", "%d.json" % seq)

    def tree_path(self, app, seq):
        return os.path.join(self.app_dir(app), "manifests", "%d.tree.json" % seq)

    def image_marker(self, app, seq):
        """manifests/SEQ.image: the image file (`<sha>.<format>` in images/) an image generation
        mounts; absent for a plain generation."""
        return os.path.join(self.app_dir(app), "manifests", "%d.image" % seq)

    def image_of(self, app, seq):
        """The images/ file name generation SEQ mounts, or None (a plain generation)."""
        try:
            with open(self.image_marker(app, seq), "rb") as f:
                name = f.read(200).decode("ascii", "replace").strip()
        except OSError:
            return None
        return name if IMAGE_NAME_RE.match(name) else None

    def image_path(self, name):
        return os.path.join(self.root, "images", name)

    def write_manifests(self, app, seq, docs, sync=True):
        """Write a generation's (header bytes, tree bytes) verbatim, each atomically (and
        durably unless `sync` is False: the caller syncs before anything depends on them)."""
        write_atomic(self.manifest_path(app, seq), docs[0], sync=sync)
        write_atomic(self.tree_path(app, seq), docs[1], sync=sync)

    def kept_tree(self, app, seq):
        """A kept plain generation's stored tree: (bytes, parsed), read once per run; its files
        are noted as stored (see note_stored). None when unreadable or an image generation."""
        key = (app, seq)
        if key not in self._tree_bytes:
            got = None
            if not self.image_of(app, seq):
                try:
                    with open(self.tree_path(app, seq), "rb") as f:
                        data = f.read(MAX_TREE + 1)
                    tree = json.loads(data.decode("utf-8"))
                    self.note_stored((f["sha256"], f["mode"] == 493) for f in tree["files"])
                    self._trees[key] = tree
                    got = (data, tree)
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    got = None
            self._tree_bytes[key] = got
        return self._tree_bytes[key]

    def current_files(self, app):
        """The files of `app`'s current generation (a plain one), else None."""
        st = self.load_state(app) if app and os.path.isdir(self.app_dir(app)) else None
        got = self.kept_tree(app, st["current"]) if st and st["current"] in st["generations"] else None
        return got[1]["files"] if got else None

    def find_tree(self, app, sha):
        """The bytes of a kept generation's stored tree that hash to `sha`, else None. The files
        of that generation are noted as stored (see note_stored): a delta's unchanged files need
        no look into objects/."""
        st = self.load_state(app)
        for seq in st["generations"] if st else []:
            got = self.kept_tree(app, seq)
            if got is not None and hashlib.sha256(got[0]).hexdigest() == sha:
                return got[0]
            if got is None:  # an image generation's tree can be a base too
                try:
                    with open(self.tree_path(app, seq), "rb") as f:
                        data = f.read(MAX_TREE + 1)
                except OSError:
                    continue
                if hashlib.sha256(data).hexdigest() == sha:
                    return data
        return None

    def apps(self):
        d = os.path.join(self.root, "apps")
        return sorted(a for a in os.listdir(d) if APP_RE.match(a)) if os.path.isdir(d) else []

    def objects(self):
        """The set of (sha, executable) stored: one listing of objects/ per run (the lock is held),
        then kept current by add_object/remove_object instead of a stat per file."""
        if self._objects is None:
            self._objects = self.stored_objects()
            self._known |= self._objects
        return self._objects

    def note_stored(self, pairs):
        """(sha, executable) pairs known to be stored without a look: the files of a kept
        generation (its objects were stored and synced before it got its name, and gc never
        removes an object a kept generation uses)."""
        self._known.update(pairs)

    def stored(self, sha, executable):
        """Whether object (sha, executable) is stored: known, listed, or one stat."""
        if (sha, executable) in self._known:
            return True
        if self._objects is not None:
            return False
        try:
            os.stat(self.object_path(sha, executable))
        except OSError:
            return False
        self._known.add((sha, executable))
        return True

    def missing(self, pairs):
        """The (sha, executable) of `pairs` not stored. Many unknown ones: one listing of
        objects/ instead of a stat each."""
        unknown = [k for k in pairs if k not in self._known]
        if len(unknown) > 512:
            self.objects()
        return set(k for k in unknown if not self.stored(k[0], k[1]))

    def has_object(self, sha):
        return self.any_object(sha) is not None

    def any_object(self, sha):
        """The path of object `sha` in either mode, or None."""
        for x in sorted((False, True), key=lambda x: (sha, x) not in self._known):
            if self.stored(sha, x):
                return self.object_path(sha, x)
        return None

    def add_object(self, sha, executable):
        self._known.add((sha, executable))
        if self._objects is not None:
            self._objects.add((sha, executable))

    def remove_object(self, sha, executable):
        try:
            os.unlink(self.object_path(sha, executable))
        except FileNotFoundError:
            pass
        self._known.discard((sha, executable))
        if self._objects is not None:
            self._objects.discard((sha, executable))

    # -- lock and recovery
    def lock(self, shared=False):
        """Exclusive: wait for the other agent. Shared (status): never wait; False when busy."""
        os.makedirs(self.root, exist_ok=True)
        fd = os.open(os.path.join(self.root, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        self._lock_fd = fd
        if not shared:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def unlock(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def recover(self):
        """Remove what a killed run left, and put every app's `current` back where state.json says."""
        left = []
        if os.path.isdir(self.tmp):
            unmount_under(self.tmp)
            left = [n for n in os.listdir(self.tmp) if n != "downloads"]
        os.makedirs(self.downloads, exist_ok=True)
        adir = os.path.join(self.root, "agent")
        for name in os.listdir(adir) if os.path.isdir(adir) else []:
            if ".tmp." in name and not name.startswith("."):
                rmtree(os.path.join(adir, name))
        for app in self.apps():
            self.recover_app(app)
        if any(n.startswith("apply-") for n in left):
            # an apply was interrupted: objects it stored may be used by no generation. The
            # apply's folder goes only after this gc, so a kill here leaves it for the next run
            self.full_gc = True
            gc_objects(self)
        for name in left:
            rmtree(os.path.join(self.tmp, name))

    def recover_app(self, app):
        adir = self.app_dir(app)
        st = self.load_state(app)
        for name in os.listdir(adir):
            if name == "current.new" or name.startswith("state.json.tmp"):
                rmtree(os.path.join(adir, name))
        want = st["current"] if st else None
        have = self.current_seq(app)
        if have != want:
            if want is not None and os.path.isdir(self.gen_dir(app, want)):
                self.switch(app, want)
            else:
                rmtree(os.path.join(adir, "current"))
                fsync_dir(adir)
            step("recover:switched")
        keep = set(st["generations"]) if st else set()
        gens = os.path.join(adir, "gens")
        if os.path.isdir(gens):
            for name in os.listdir(gens):
                if not (SEQ_DIR_RE.match(name) and int(name) in keep):
                    step("recover:gen")
                    unmount_under(os.path.join(gens, name))
                    rmtree(os.path.join(gens, name))
        mans = os.path.join(adir, "manifests")
        if os.path.isdir(mans):
            for name in os.listdir(mans):
                m = re.match(r"^(\d+)(\.tree\.json|\.json|\.image)$", name)
                if not (m and int(m.group(1)) in keep):
                    rmtree(os.path.join(mans, name))
        if st:
            alive = [g for g in st["generations"] if os.path.isdir(self.gen_dir(app, g))]
            if alive != st["generations"]:
                st["generations"] = alive
                if st["current"] not in alive:
                    st["current"] = alive[0] if alive else None
                    if st["current"] is not None:
                        self.switch(app, st["current"])
                self.save_state(app, st)
        elif not os.path.exists(os.path.join(adir, "current")):
            rmtree(adir)

    # -- state
    def load_state(self, app):
        path = os.path.join(self.app_dir(app), "state.json")
        try:
            with open(path, "rb") as f:
                st = json.loads(f.read().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            refuse("unreadable %s: %s" % (path, e))
        if st.get("format") != STATE_FORMAT:
            refuse("%s has an unknown format" % path)
        return st

    def save_state(self, app, st):
        step("state:write")
        write_atomic(os.path.join(self.app_dir(app), "state.json"), canonical_json(st))
        step("state:written")

    def current_seq(self, app):
        try:
            target = os.readlink(os.path.join(self.app_dir(app), "current"))
        except OSError:
            return None
        m = re.match(r"^gens/(\d+)$", target)
        return int(m.group(1)) if m else None

    def switch(self, app, seq):
        """Point apps/APP/current at gens/SEQ with one atomic rename."""
        adir = self.app_dir(app)
        tmp = os.path.join(adir, "current.new")
        rmtree(tmp)
        os.symlink("gens/%d" % seq, tmp)
        step("switch:rename")
        os.replace(tmp, os.path.join(adir, "current"))
        fsync_dir(adir)
        step("switch:done")

    def load_manifest(self, app, seq):
        """A kept generation's header and tree, as one dict (files, symlinks from the tree)."""
        m = self._manifests.get((app, seq))
        if m is not None:
            return m
        with open(self.manifest_path(app, seq), "rb") as f:
            m = json.loads(f.read().decode("utf-8"))
        tree = self._trees.get((app, seq))
        if tree is None:
            with open(self.tree_path(app, seq), "rb") as f:
                tree = json.loads(f.read().decode("utf-8"))
        m["files"], m["symlinks"] = tree["files"], tree["symlinks"]
        return m

    def remember_manifest(self, app, seq, manifest):
        """The manifest of a generation this run built: gc need not read it back."""
        self._manifests[(app, seq)] = manifest

    def used_objects(self):
        """(sha, executable) of every file of every kept generation of every app."""
        used = set()
        for app in self.apps():
            st = self.load_state(app)
            for seq in st["generations"] if st else []:
                if self.image_of(app, seq):
                    continue  # its files are in its image, not in objects/
                try:
                    m = self.load_manifest(app, seq)
                except (OSError, ValueError):
                    continue
                for f in m["files"]:
                    used.add((f["sha256"], f["mode"] == 493))
        return used

    def stored_objects(self):
        """(sha, executable) of every object on disk."""
        found = set()
        for x, top in ((False, "objects"), (True, "objects-x")):
            base = os.path.join(self.root, top)
            if not os.path.isdir(base):
                continue
            for d in os.listdir(base):
                sub = os.path.join(base, d)
                if len(d) == 2 and os.path.isdir(sub):
                    for name in os.listdir(sub):
                        if SHA_RE.match(d + name):
                            found.add((d + name, x))
        return found

    def drop_generation(self, app, seq):
        gens = os.path.join(self.app_dir(app), "gens")
        dead = os.path.join(gens, ".del-%d" % seq)
        unmount_under(os.path.join(gens, str(seq)))
        if os.path.isdir(os.path.join(gens, str(seq))):
            os.replace(os.path.join(gens, str(seq)), dead)
        rmtree(dead)
        rmtree(self.manifest_path(app, seq))
        self._manifests.pop((app, seq), None)
        rmtree(self.tree_path(app, seq))
        rmtree(self.image_marker(app, seq))

    def kept_images(self):
        """(app, seq, image name) of every kept image generation of every app."""
        out = []
        for app in self.apps():
            st = self.load_state(app)
            for seq in st["generations"] if st else []:
                name = self.image_of(app, seq)
                if name:
                    out.append((app, seq, name))
        return out

    def mount_images(self):
        """Mount every kept image generation that is not mounted (mounts do not survive a
        reboot). Returns (mounted, problems)."""
        mounted, problems = [], []
        for app, seq, name in self.kept_images():
            gen = self.gen_dir(app, seq)
            if os.path.ismount(gen):
                continue
            try:
                os.makedirs(gen, exist_ok=True)
                step("mount:gen")
                mount_image(self.image_path(name), name.rsplit(".", 1)[1], gen)
                mounted.append("%s/%d" % (app, seq))
            except (Refused, OSError) as e:
                problems.append("%s %d: %s" % (app, seq, e))
        return mounted, problems

    def gc_images(self):
        """Remove images/ files no kept generation mounts; returns how many."""
        d = os.path.join(self.root, "images")
        if not os.path.isdir(d):
            return 0
        used = set(name for _a, _s, name in self.kept_images())
        removed = 0
        for name in os.listdir(d):
            if name not in used:
                step("gc:image")
                os.unlink(os.path.join(d, name))
                removed += 1
        return removed


# ---------------------------------------------------------------- 8 reading a bundle


class HashingReader:
    """A file wrapper that hashes and counts what is read, refusing past `limit` bytes."""

    def __init__(self, f, limit, what, stopped=None):
        self.f, self.limit, self.what, self.stopped = f, limit, what, stopped
        self.h = hashlib.sha256()
        self.n = 0

    def read(self, size=-1):
        if self.stopped and self.stopped():
            refuse("%s: stopped" % self.what)
        data = self.f.read(size) if size is not None and size >= 0 else self.f.read()
        self.n += len(data)
        if self.n > self.limit:
            refuse("%s is larger than its manifest says" % self.what)
        self.h.update(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


class DecodedReader:
    """The xz- or gzip-decoded bytes of a file object, decoded STEP bytes at a time: few, long
    decoder calls, each of which releases the GIL (tarfile's own "r|xz" decodes 10 KiB of input
    per call, and a thread waiting for the GIL after each call is slowed down a lot)."""

    STEP = 4 * 1024 * 1024

    def __init__(self, raw, compression):
        self.raw = raw
        self.xz = compression == "xz"
        self.d = (lzma.LZMADecompressor(format=lzma.FORMAT_XZ) if self.xz
                  else zlib.decompressobj(16 + zlib.MAX_WBITS))
        self.buf, self.pos = b"", 0

    def _more(self):
        d = self.d
        if d.eof:
            return b""
        if self.xz:
            data = self.raw.read(CHUNK) if d.needs_input else b""
        else:
            data = d.unconsumed_tail or self.raw.read(CHUNK)
        if not data and (not self.xz or d.needs_input):
            raise EOFError("truncated %s stream" % ("xz" if self.xz else "gzip"))
        return d.decompress(data, self.STEP)

    def read(self, size=-1):
        """Up to `size` bytes (b"" only at the end), from the chunk decoded last: a short read
        rather than a copy (a whole chunk is returned as it is; callers loop)."""
        if size is None or size < 0:
            size = 1 << 62
        while self.pos == len(self.buf):
            more = self._more()
            if not more:
                if self.d.eof:
                    return b""
                continue
            self.buf, self.pos = more, 0
        if self.pos == 0 and size >= len(self.buf):
            out = self.buf
        else:
            out = self.buf[self.pos : self.pos + size]
        self.pos += len(out)
        return out


class HeldBytes:
    """A patch held in memory: the chunks written to it, joined only when there are several
    (a patch read in one chunk is never copied)."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(data)

    def value(self):
        if len(self.chunks) != 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0]


class HeldPatches(dict):
    """Patches kept in memory while a bundle is applied: patch hash -> HeldBytes, up to `limit`
    bytes in all (declared sizes); the rest go to work/p/ files."""

    def __init__(self, limit=64 * 1024 * 1024):
        dict.__init__(self)
        self.limit, self.total = limit, 0


def _patch_dest(work, patch, held):
    """Where the payload's copy of a patch goes: memory (`held`) while it has room, else
    work/p/<sha>. A patch held in memory is never a file: no create, write-back or unlink
    (an unlink of a file already written back costs milliseconds on a busy ext4)."""
    sha = patch["sha256"]
    if held is None:
        return os.path.join(work, "p", sha)
    if sha not in held:
        if held.total + patch["size"] > held.limit:
            return os.path.join(work, "p", sha)
        held.total += patch["size"]
        held[sha] = HeldBytes()
    return held[sha]


def _copy_hashed(src, dest_path, size, what, sync=True, chunk=CHUNK, hashed=True):
    """Copy exactly `size` bytes from `src` into a new file (or into `dest_path` itself when it
    is a writable file object, e.g. HeldBytes); returns their sha256 (None when not `hashed`).
    With `sync` the file is fsynced; staging skips that and syncs once before objects are
    renamed in."""
    if not isinstance(dest_path, str):
        return _copy_hashed_to(src, dest_path, size, what, chunk, hashed)
    with open(dest_path, "wb") as out:
        got = _copy_hashed_to(src, out, size, what, chunk, hashed)
        out.flush()
        if sync:
            os.fsync(out.fileno())
    return got


def _copy_hashed_to(src, out, size, what, chunk=CHUNK, hashed=True):
    h = hashlib.sha256() if hashed else None
    left = size
    while left:
        data = src.read(min(chunk, left))
        if not data:
            refuse("%s is truncated" % what)
        if h:
            h.update(data)
        out.write(data)
        left -= len(data)
    if src.read(1):
        refuse("%s is larger than its manifest says" % what)
    return h.hexdigest() if h else None


class BadZip(ValueError):
    """A bundle's zip structure is not as docs/fleet.md "Bundle file" says."""


ZIP_ERRORS = (BadZip, OSError, EOFError, ValueError)


class ZipMember:
    """One member of a bundle: its name, where its bytes start, its size and CRC-32."""

    __slots__ = ("filename", "header_offset", "offset", "file_size", "crc")

    def __init__(self, filename, header_offset, file_size, crc):
        self.filename, self.header_offset = filename, header_offset
        self.file_size, self.crc = file_size, crc
        self.offset = None  # known once the local header is read


class BundleZip:
    """A bundle's zip, read with struct and pread (no shared file position: a helper thread
    streams one member while the main thread reads another)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def pread(self, n, at):
        """Exactly n bytes at offset `at` (os.pread may return fewer: loop)."""
        parts = []
        while n > 0:
            data = os.pread(self.fd, min(n, 1 << 30), at)
            if not data:
                raise BadZip("truncated at offset %d" % at)
            parts.append(data)
            n -= len(data)
            at += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, info):
        data = self.pread(info.file_size, info.offset)
        if zlib.crc32(data) != info.crc:
            raise BadZip("bad CRC-32 for %s" % info.filename)
        return data

    def open(self, info):
        return ZipReader(self, info)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ZipReader:
    """A member's bytes as a file (read(n) up to its end); its CRC-32 is checked when the last
    byte has been read."""

    def __init__(self, zf, info):
        self.zf, self.info = zf, info
        self.pos, self.crc = 0, 0

    def read(self, n=-1):
        left = self.info.file_size - self.pos
        if n is None or n < 0 or n > left:
            n = left
        if n == 0:
            return b""
        data = self.zf.pread(n, self.info.offset + self.pos)
        self.pos += n
        self.crc = zlib.crc32(data, self.crc)
        if self.pos == self.info.file_size and self.crc != self.info.crc:
            raise BadZip("bad CRC-32 for %s" % self.info.filename)
        return data

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def open_bundle(path, what):
    """The bundle's zip and its members, each checked (docs/fleet.md "Bundle file"): the end of
    central directory record in the last 22 bytes (no archive comment, no zip64), 4 to 6
    members, each stored, not encrypted, no data descriptor, ASCII name, its local header equal
    to its central directory entry, back to back from offset 0 to the central directory."""
    try:
        zf = BundleZip(path)
    except OSError as e:
        refuse("cannot read bundle %s: %s" % (what, e.strerror or e))
    try:
        if zf.size < 22:
            refuse("%s: unreadable zip (%d bytes: truncated, or not a zip)" % (what, zf.size))
        sig, disk, cd_disk, n_here, n, cd_size, cd_at, clen = struct.unpack(
            "<IHHHHIIH", zf.pread(22, zf.size - 22))
        if sig != 0x06054B50 or clen != 0:
            refuse("%s: unreadable zip (no end of central directory record in its last 22 bytes: "
                   "truncated, not a zip, or an archive comment)" % what)
        if disk or cd_disk or n_here != n or cd_at + cd_size != zf.size - 22:
            refuse("%s: not a bundle (a multi-disk or zip64 archive, or bytes after the central "
                   "directory)" % what)
        if not 4 <= n <= 6:
            refuse("%s: not a bundle (%d members)" % (what, n))
        if cd_size > n * (46 + 3 * 0xFFFF):
            refuse("%s: the central directory is larger than %d entries can be" % (what, n))
        cd = zf.pread(cd_size, cd_at)
        infos, flags, pos = [], [], 0
        for _ in range(n):
            if pos + 46 > len(cd):
                refuse("%s: the central directory is truncated" % what)
            (sig, _made, _need, flag, method, _t, _d, crc, csize, usize, nlen, elen, klen,
             _disk, _ia, _ea, at) = struct.unpack("<IHHHHHHIIIHHHHHII", cd[pos:pos + 46])
            raw = cd[pos + 46:pos + 46 + nlen]
            pos += 46 + nlen + elen + klen
            if sig != 0x02014B50 or pos > len(cd):
                refuse("%s: the central directory is corrupt" % what)
            try:
                name = raw.decode("ascii")
            except UnicodeDecodeError:
                refuse("%s: a member name is not ASCII" % what)
            if method != 0:
                refuse("%s: member %s is compressed (method %d); bundle members are stored"
                       % (what, name, method))
            if flag & 0x9 or csize != usize or usize == 0xFFFFFFFF:
                refuse("%s: member %s is encrypted, has a data descriptor, two sizes or a zip64 "
                       "size" % (what, name))
            infos.append(ZipMember(name, at, usize, crc))
            flags.append(flag)
        if pos != len(cd):
            refuse("%s: bytes lie inside the central directory after its entries" % what)
        at = 0
        for i, flag in zip(infos, flags):
            if i.header_offset != at:
                refuse("%s: member %s is not where the one before it ends" % (what, i.filename))
            head = zf.pread(30, at)
            sig, _v, lflag, method, _t, _d, crc, csize, usize, nlen, elen = struct.unpack(
                "<IHHHHHIIIHH", head)
            if (sig != 0x04034B50 or lflag != flag or method != 0 or crc != i.crc
                    or csize != i.file_size or usize != i.file_size
                    or zf.pread(nlen, at + 30) != i.filename.encode("ascii")):
                refuse("%s: the local header of %s differs from the central directory" % (what, i.filename))
            i.offset = at + 30 + nlen + elen
            at = i.offset + i.file_size
        if at != cd_at:
            refuse("%s: bytes lie between the last member and the central directory" % what)
    except Refused:
        zf.close()
        raise
    except ZIP_ERRORS as e:
        zf.close()
        refuse("%s: unreadable zip (%s)" % (what, e))
    return zf, infos


def _read_zip_member(zf, info, limit, what):
    """All of a (small) member's bytes, refusing one larger than `limit`."""
    if info.file_size > limit:
        refuse("%s: %s is larger than %d bytes" % (what, info.filename, limit))
    try:
        return zf.read(info)
    except ZIP_ERRORS as e:
        refuse("%s: unreadable %s (%s)" % (what, info.filename, e))


def member_names(header):
    """The names a bundle with this header has, in order."""
    names = ["bundle.json", "bundle.sig", TREE_MEMBERS[header["tree"]["encoding"]],
             header["payload"]["name"]]
    if header.get("image") is not None:
        names.append(IMAGE_MEMBERS[header["image"]["format"]])
    return names + (["agent.py"] if header["agent"] is not None else [])


def _peek_app(zf, infos):
    """The app bundle.json names, unverified (None if unreadable): only to pick which kept tree
    the helper process copies into tmp/ while the signature is checked."""
    try:
        if infos and infos[0].filename == "bundle.json" and infos[0].file_size <= MAX_HEADER:
            app = json.loads(zf.read(infos[0]).decode("utf-8")).get("app")
            return app if isinstance(app, str) and APP_RE.match(app) else None
    except Exception:
        pass
    return None


def read_head(zf, infos, keys, what):
    """The verified bundle.json (dict) and its bytes; the members must be the ones it names."""
    if [i.filename for i in infos[:2]] != ["bundle.json", "bundle.sig"]:
        refuse("%s: bundle.json and bundle.sig must come first" % what)
    hbytes = _read_zip_member(zf, infos[0], MAX_HEADER, what)
    sig = _read_zip_member(zf, infos[1], MAX_SIG, what)
    kid = verify_signature(hbytes, sig, keys, what + " bundle.json")
    try:
        header = json.loads(hbytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        refuse("%s: bundle.json is not JSON" % what)
    if not isinstance(header, dict) or "files" in header or "symlinks" in header:
        refuse("%s: bundle.json is not a bundle header" % what)
    check_header(header)
    names = [i.filename for i in infos]
    if names != member_names(header):
        refuse("%s: members %s, bundle.json says %s" % (what, ",".join(names), ",".join(member_names(header))))
    if lzma is None and "xz" in (header["payload"]["compression"], header["tree"]["encoding"]):
        refuse("%s: an xz payload or tree needs the lzma module, which this python3 lacks (use gzip)" % what)
    return header, hbytes, kid


def _decode_bounded(data, codec, limit, what):
    """xz or gzip bytes decoded to at most `limit` bytes; one whole stream, nothing after it."""
    try:
        if codec == "xz":
            if lzma is None:
                refuse("%s: xz needs the lzma module, which this python3 lacks (use gzip)" % what)
            d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        else:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, limit + 1)
        if len(out) > limit:
            refuse("%s: decodes to more than the %d bytes bundle.json says" % (what, limit))
        if not d.eof or d.unused_data:
            refuse("%s: truncated, or bytes after the stream" % what)
        return out
    except (LZMAError, zlib.error, EOFError) as e:
        refuse("%s: corrupt (%s)" % (what, e))


def read_tree(zf, info, header, store, what):
    """The tree (dict) and its exact bytes: the member's hash is checked before it is decoded,
    the decoded bytes are bounded by tree.size and must hash to tree.sha256."""
    t = header["tree"]
    if t["size"] > MAX_TREE:
        refuse("%s: the tree is %d bytes, over the %d this agent accepts" % (what, t["size"], MAX_TREE))
    if info.file_size != t["stored"]["size"]:
        refuse("%s: %s is %d bytes, bundle.json says %d" % (what, info.filename, info.file_size, t["stored"]["size"]))
    stored = _read_zip_member(zf, info, t["stored"]["size"], what)
    if hashlib.sha256(stored).hexdigest() != t["stored"]["sha256"]:
        refuse("%s: %s does not match bundle.json (corrupt)" % (what, info.filename))
    name = "%s tree" % what
    if t["encoding"] == "sldiff":
        base = store.find_tree(header["app"], t["base"])
        if base is None:
            refuse("this device lacks base tree %s of this delta (a delta from another base)" % t["base"][:12])
        data = apply_patch(base, stored, t["size"], "tree")
    else:
        data = _decode_bounded(stored, t["encoding"], t["size"], name)
    if len(data) != t["size"] or hashlib.sha256(data).hexdigest() != t["sha256"]:
        refuse("%s: the decoded tree does not match bundle.json (corrupt)" % what)
    try:
        tree = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        refuse("%s: the tree is not JSON" % what)
    if not isinstance(tree, dict) or sorted(tree) != ["files", "symlinks"]:
        refuse("%s: the tree is not {files, symlinks}" % what)
    if not isinstance(tree["files"], list) or not isinstance(tree["symlinks"], list):
        refuse("%s: the tree's files or symlinks are not lists" % what)
    return tree, data


class BadTar(ValueError):
    """A payload's tar is not as docs/fleet.md "Bundle file" says."""


_ZERO_BLOCK = bytes(512)


def _read_exact(src, n):
    """n bytes of `src`, fewer only at its end."""
    parts, left = [], n
    while left > 0:
        b = src.read(left)
        if not b:
            break
        parts.append(b)
        left -= len(b)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _octal(field, what):
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits or digits.strip(b"01234567"):
        raise BadTar("%s is not an octal number" % what)
    return int(digits, 8)


class _TarData:
    """A member's data, then b""."""

    def __init__(self, src, size):
        self.src, self.left = src, size

    def read(self, n=-1):
        """Up to n bytes of the member (short reads: callers loop), b"" at its end."""
        if n is None or n < 0 or n > self.left:
            n = self.left
        if n == 0:
            return b""
        b = self.src.read(n)
        if not b:
            raise BadTar("truncated member")
        self.left -= len(b)
        return b


def iter_ustar(src):
    """(name, size, data) of each member of an uncompressed POSIX ustar stream, up to its first
    all-zero block: regular files only, headers checked (magic, version, checksum, octal
    fields); anything else (a pax or GNU header, a link, a folder) refuses. `data` must be read
    before the next member is asked for; what is left of it is skipped."""
    while True:
        h = _read_exact(src, 512)
        if len(h) != 512:
            raise BadTar("truncated tar header")
        if h == _ZERO_BLOCK:
            return
        if h[257:265] != b"ustar\x0000":
            raise BadTar("not a POSIX ustar header")
        if _octal(h[148:156], "header checksum") != sum(h[:148]) + 256 + sum(h[156:]):
            raise BadTar("tar header checksum differs")
        name = h[:100].split(b"\0", 1)[0]
        prefix = h[345:500].split(b"\0", 1)[0]
        name = (prefix + b"/" + name if prefix else name).decode("ascii", "replace")
        if h[156:157] not in (b"0", b"\0"):
            raise BadTar("member %r is not a regular file" % name)
        size = _octal(h[124:136], "member size")
        data = _TarData(src, size)
        yield name, size, data
        while data.read(1 << 20):
            pass
        pad = -size % 512
        if pad and len(_read_exact(src, pad)) != pad:
            raise BadTar("truncated member")


def read_payload(zf, info, manifest, work, what, held=None, announce=None, stopped=None):
    """Stream the payload into work/o/<sha> and work/p/<sha>, every hash and size checked;
    `announce(name)` after each member is staged and checked. `stopped()` true: give up."""
    pl = manifest["payload"]
    if info.file_size != pl["size"]:
        refuse("%s: payload size %d, bundle.json says %d" % (what, info.file_size, pl["size"]))
    want = {}
    for o in manifest["objects"]:
        want["objects/" + o["sha256"]] = (o["size"], os.path.join(work, "o", o["sha256"]))
    for p in manifest["patches"]:
        want["patches/" + p["sha256"]] = (p["size"], _patch_dest(work, p, held))
    if pl["compression"] == "xz" and lzma is None:
        refuse("%s: an xz payload needs the lzma module, which this python3 lacks (use gzip)" % what)
    seen = set()
    try:
        with zf.open(info) as member:
            outer = HashingReader(member, pl["size"], what + " payload", stopped)
            decoded = DecodedReader(outer, pl["compression"])
            for name, size, data in iter_ustar(decoded):
                if name not in want or name in seen:
                    refuse("%s: payload member %r is not named by bundle.json" % (what, name))
                wsize, dest = want[name]
                if size != wsize:
                    refuse("%s: payload member %s has the wrong size" % (what, name))
                step("payload:member")
                # big steps: each hash and write lets the other thread take the GIL, and
                # getting it back can take a switch interval. A patch is not hashed: only
                # its result is used, and hashed (the payload's hash covers its bytes)
                obj = name.startswith("objects/")
                got = _copy_hashed(data, dest, size, name, sync=False,
                                   chunk=PAYLOAD_CHUNK, hashed=obj)
                if obj and got != name.split("/")[1]:
                    refuse("%s: %s does not match its hash (corrupt)" % (what, name))
                seen.add(name)
                if announce:
                    announce(name)
            outer.drain()
    except (EOFError, LZMAError, zlib.error) + ZIP_ERRORS as e:
        refuse("%s: corrupt payload (%s)" % (what, e))
    if outer.n != pl["size"] or outer.h.hexdigest() != pl["sha256"]:
        refuse("%s: payload hash differs from bundle.json (corrupt)" % what)
    if len(seen) != len(want):
        refuse("%s: payload lacks %d member(s) bundle.json names" % (what, len(want) - len(seen)))


def read_agent(zf, infos, manifest, work, what):
    if manifest["agent"] is None:
        return None
    a = manifest["agent"]
    info = infos[0]
    if info.file_size != a["size"]:
        refuse("%s: agent.py size differs from bundle.json" % what)
    dest = os.path.join(work, "agent.py")
    try:
        with zf.open(info) as member:
            got = _copy_hashed(member, dest, a["size"], "agent.py")
    except ZIP_ERRORS as e:
        refuse("%s: unreadable agent.py (%s)" % (what, e))
    if got != a["sha256"]:
        refuse("%s: agent.py hash differs from bundle.json" % what)
    return dest


# ---------------------------------------------------------------- 8b images (squashfs, erofs)


def _run(argv):
    """(exit status, output) of a command; 127 when it cannot be started."""
    import subprocess

    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    except OSError as e:
        return 127, str(e.strerror or e)
    return p.returncode, p.stdout.decode("utf-8", "replace").strip()


def mounts_under(path):
    """Mount points at or under `path` (from /proc/self/mounts), deepest first."""
    top = os.path.realpath(path)
    found = []
    try:
        with open("/proc/self/mounts", "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split(" ")
        if len(parts) < 2:
            continue
        where = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[1])
        if where == top or where.startswith(top + "/"):
            found.append(where)
    return sorted(set(found), key=len, reverse=True)


def unmount_under(path):
    """Unmount everything mounted at or under `path` (lazily when busy), before it is removed."""
    for where in mounts_under(path):
        step("umount")
        rc, out = _run(["umount", where])
        if rc != 0:
            rc, out = _run(["umount", "-l", where])
        if rc != 0:
            refuse("cannot unmount %s: %s" % (where, out))


def mount_image(image, fmt, where):
    """Loop-mount `image` read-only at `where`."""
    rc, out = _run(["mount", "-t", fmt, "-o", "loop,ro,nodev,nosuid", image, where])
    if rc != 0:
        refuse("mount of %s at %s failed: %s" % (os.path.basename(image), where, out or "exit status %d" % rc))


def why_no_mount(fmt):
    """None when this agent may loop-mount a `fmt` image, else why not."""
    if os.environ.get("SLIMENV_AGENT_TEST_NO_MOUNT"):
        return "mounting is turned off (SLIMENV_AGENT_TEST_NO_MOUNT)"
    if os.geteuid() != 0:
        return "not running as root"
    try:
        with open("/proc/filesystems", "rb") as f:
            kernel = f.read().decode("ascii", "replace").split()
    except OSError:
        kernel = []
    if fmt not in kernel:
        return "the kernel lists no %s in /proc/filesystems (modprobe %s)" % (fmt, fmt)
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices (/dev/loop-control)"
    if which("mount") is None or which("umount") is None:
        return "no mount/umount command"
    return None


def read_image(zf, info, manifest, work, what):
    """Stream the image member into work/image, its size bounded and its sha256 checked."""
    im = manifest["image"]
    if info.file_size != im["size"]:
        refuse("%s: %s is %d bytes, bundle.json says %d" % (what, info.filename, info.file_size, im["size"]))
    dest = os.path.join(work, "image")
    try:
        with zf.open(info) as member:
            step("image:read")
            got = _copy_hashed(member, dest, im["size"], info.filename, sync=False)
    except ZIP_ERRORS as e:
        refuse("%s: unreadable %s (%s)" % (what, info.filename, e))
    if got != im["sha256"]:
        refuse("%s: %s does not match bundle.json (corrupt)" % (what, info.filename))
    return dest


def check_tree_at(top, m, label):
    """What differs between the folder `top` and the tree of `m` (every file hashed)."""
    out = []
    want = {}
    for f in m["files"]:
        want[f["path"]] = f
    links = dict((s["path"], s["target"]) for s in m["symlinks"])
    seen = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top)
            seen.add(rel)
            if rel in links:
                if not os.path.islink(full) or os.readlink(full) != links[rel]:
                    out.append("%s: symlink %s changed" % (label, rel))
            elif rel not in want:
                out.append("%s: extra file %s" % (label, rel))
            elif os.path.islink(full) or _hash_file(full) != want[rel]["sha256"]:
                out.append("%s: %s does not match the manifest" % (label, rel))
            elif bool(os.stat(full).st_mode & 0o100) != (want[rel]["mode"] == 493):
                out.append("%s: %s has the wrong mode" % (label, rel))
    for rel in sorted(set(want) | set(links)):
        if rel not in seen:
            out.append("%s: %s is missing" % (label, rel))
    return out


def try_mount_check(manifest, image, work):
    """Mount the staged image in work/mnt, check it holds exactly the tree, unmount. None when it
    does; a string (why) when it cannot be mounted; a refusal when it holds something else."""
    fmt = manifest["image"]["format"]
    why = why_no_mount(fmt)
    if why:
        return why
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    try:
        mount_image(image, fmt, mnt)
    except Refused as e:
        return str(e)
    try:
        step("image:check")
        problems = check_tree_at(mnt, manifest, "image")
    finally:
        unmount_under(mnt)
    if problems:
        refuse("the image does not hold the tree bundle.json names (%s%s)" % (
            problems[0], " and %d more" % (len(problems) - 1) if len(problems) > 1 else ""))
    return None


def extract_image(store, manifest, image, work, why):
    """The no-mount path: unpack the image into work/x with unsquashfs / fsck.erofs, check every
    file of the tree against its hash, and stage the objects the store lacks in work/o."""
    fmt = manifest["image"]["format"]
    dest = os.path.join(work, "x")
    tool = "unsquashfs" if fmt == "squashfs" else "fsck.erofs"
    if which(tool) is None:
        refuse("cannot mount this %s image (%s) and no %s to unpack it: run the agent as root "
               "with loop devices, install %s, or ship a plain bundle (no --image)"
               % (fmt, why, tool, "squashfs-tools" if fmt == "squashfs" else "erofs-utils"))
    argv = ([tool, "-no-xattrs", "-q", "-d", dest, image] if fmt == "squashfs"
            else [tool, "--extract=" + dest, "--no-preserve", image])
    step("image:extract")
    rc, out = _run(argv)
    if rc != 0:
        refuse("%s could not unpack the image: %s" % (tool, out[-300:] or "exit status %d" % rc))
    staged = os.path.join(work, "o")
    for f in manifest["files"]:
        full = os.path.join(dest, f["path"])
        sha = f["sha256"]
        try:
            st = os.lstat(full)
        except OSError:
            refuse("the image lacks %s" % f["path"])
        if not stat.S_ISREG(st.st_mode) or st.st_size != f["size"] or _hash_file(full) != sha:
            refuse("the image's %s does not match the tree (corrupt image)" % f["path"])
        if not store.has_object(sha) and not os.path.exists(os.path.join(staged, sha)):
            os.rename(full, os.path.join(staged, sha))
    rmtree(dest)


def install_image(store, image, manifest):
    """images/<sha>.<format> := the staged image (read-only; temp + fsync + rename)."""
    im = manifest["image"]
    name = "%s.%s" % (im["sha256"], im["format"])
    dest = store.image_path(name)
    if os.path.exists(dest):
        return name
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(image, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(image, 0o444)
    step("image:store")
    os.rename(image, dest)
    fsync_dir(os.path.dirname(dest))
    return name


def build_image_generation(store, app, manifest, mbytes, name):
    """gens/SEQ as a read-only mount of images/NAME: manifests and the marker first (durable),
    then an empty folder renamed to its name, then the mount. A run killed in between leaves a
    generation state.json does not list: the next run unmounts and removes it."""
    seq = manifest["sequence"]
    adir = store.app_dir(app)
    gens = os.path.join(adir, "gens")
    os.makedirs(gens, exist_ok=True)
    os.makedirs(os.path.join(adir, "manifests"), exist_ok=True)
    final = os.path.join(gens, str(seq))
    if os.path.exists(final):
        store.drop_generation(app, seq)
    store.write_manifests(app, seq, mbytes)
    write_atomic(store.image_marker(app, seq), name.encode("ascii") + b"\n")
    new = os.path.join(gens, ".new-%d" % seq)
    unmount_under(new)
    rmtree(new)
    os.mkdir(new)
    step("gen:rename")
    os.rename(new, final)
    fsync_dir(gens)
    step("image:mount")
    try:
        mount_image(store.image_path(name), manifest["image"]["format"], final)
    except Refused:
        store.drop_generation(app, seq)
        raise
    store.remember_manifest(app, seq, manifest)
    step("gen:done")


# ---------------------------------------------------------------- 9 apply


def _file_modes(manifest):
    need = set()
    for f in manifest["files"]:
        need.add((f["sha256"], f["mode"] == 493))
    return need


def check_available(store, manifest):
    """Refuse unless every file's object is stored, carried or made by a patch (before any write).
    Returns (sizes: object hash -> size, missing: the (sha, executable) pairs objects/ lacks)."""
    files = manifest["files"]
    sizes = dict((f["sha256"], f["size"]) for f in files)
    if manifest.get("image") is not None:
        return sizes, None  # every file comes from the image
    carried = set(o["sha256"] for o in manifest["objects"])
    produced = set(p["target"] for p in manifest["patches"])
    for p in manifest["patches"]:
        if p["target"] not in sizes:
            refuse("patch %s makes an object no file uses" % p["sha256"])
        if not (p["source"] in carried or store.has_object(p["source"])):
            refuse("this device lacks object %s, the source of a patch (delta from another base)" % p["source"])
    missing = store.missing(set((f["sha256"], f["mode"] == 493) for f in files))
    lacking = set(sha for sha, _x in missing if not (
        sha in carried or sha in produced or store.has_object(sha)))
    if lacking:
        first = [f["path"] for f in files if f["sha256"] in lacking]
        refuse("this device lacks the object of %s (and %d more): a delta from another base" % (first[0], len(first) - 1))
    return sizes, missing


def free_space(path):
    test_free = os.environ.get("SLIMENV_AGENT_TEST_FREE")
    st = os.statvfs(path)
    return int(test_free) if test_free else st.f_bavail * st.f_frsize


def check_space(store, manifest, sizes):
    """Refuse, before staging, a bundle whose new objects do not fit on the device's disk."""
    need = sum(o["size"] for o in manifest["objects"])
    need += sum(p["size"] + sizes[p["target"]] for p in manifest["patches"])
    if manifest.get("image") is not None:
        # the image, and (unpacked when it cannot be mounted) the objects the store lacks
        need += manifest["image"]["size"] + sum(s for h, s in sizes.items() if not store.has_object(h))
    need += 16 * 1024 * 1024  # manifests, directories, state
    free = free_space(store.root)
    if free < need:
        refuse("not enough disk space in %s: the bundle needs %d MiB, %d MiB are free"
               % (store.root, need >> 20, free >> 20))


def _check_patch(patch, sha):
    if hashlib.sha256(patch).hexdigest() != sha:
        refuse("payload member patches/%s does not match its hash (corrupt)" % sha)


def _check_source(old, sha):
    if hashlib.sha256(old).hexdigest() != sha:
        refuse("stored object %s is corrupt (run verify)" % sha)


def stage_patches(store, manifest, work, sizes, held=None, members=None):
    """Make each patch's target in work/o/ from its source (stored, or staged), hashes checked.
    `members`: the payload members ("objects/SHA", "patches/SHA") in the order they were staged
    and checked (a PayloadThread's, while it reads on), else all of them. A patch is applied as
    soon as its bytes and its source are there. Patches come from memory (`held`) or work/p/;
    each is dropped after its last use (a file unlinked before any sync(2) may never reach the
    disk)."""
    patches = manifest["patches"]
    carried = set(o["sha256"] for o in manifest["objects"])
    produced = set(p["target"] for p in patches)
    if members is None:
        members = ["objects/" + o["sha256"] for o in manifest["objects"]]
        members += sorted(set("patches/" + p["sha256"] for p in patches))
    uses = {}  # the same patch bytes may make several targets (from different sources)
    waiting = {}  # what a patch waits for ("patches/SHA", "objects/SHA") -> patch indexes
    needs = []
    for i, p in enumerate(patches):
        uses[p["sha256"]] = uses.get(p["sha256"], 0) + 1
        waiting.setdefault("patches/" + p["sha256"], []).append(i)
        n = 1
        if (p["source"] in carried or p["source"] in produced) and not store.has_object(p["source"]):
            waiting.setdefault("objects/" + p["source"], []).append(i)
            n += 1
        needs.append(n)
    staged = set()
    ready = []

    def arrived(name):
        for i in waiting.pop(name, ()):
            needs[i] -= 1
            if not needs[i]:
                ready.append(i)

    for name in members:
        if name.startswith("objects/"):
            staged.add(name[8:])
        arrived(name)
        while ready:
            p = patches[ready.pop()]
            _stage_patch(store, p, work, sizes, held, uses, p["source"] in staged)
            staged.add(p["target"])
            arrived("objects/" + p["target"])
    for i, n in enumerate(needs):
        if n:
            refuse("this device lacks object %s, the source of a patch" % patches[i]["source"])


def _stage_patch(store, p, work, sizes, held, uses, source_staged):
    """work/o/<target> from patch `p`, its result's hash checked."""
    src = os.path.join(work, "o", p["source"]) if source_staged else store.any_object(p["source"])
    if src is None:
        refuse("this device lacks object %s, the source of a patch" % p["source"])
    with open(src, "rb") as f:
        old = f.read()
    patch_path = os.path.join(work, "p", p["sha256"])
    if held and p["sha256"] in held:
        patch = held[p["sha256"]].value()
        patch_path = None
    else:
        with open(patch_path, "rb") as f:
            patch = f.read()
    step("patch:apply")
    # neither the source nor the patch is hashed up front: the target's hash check below
    # refuses whatever a corrupt one would make; only then are they hashed, to say which is at
    # fault
    try:
        new = apply_patch(old, patch, sizes[p["target"]], p["sha256"][:12])
    except Refused:
        _check_patch(patch, p["sha256"])
        _check_source(old, p["source"])
        raise
    if hashlib.sha256(new).hexdigest() != p["target"]:
        _check_patch(patch, p["sha256"])
        _check_source(old, p["source"])
        refuse("patch %s does not produce object %s" % (p["sha256"][:12], p["target"][:12]))
    with open(os.path.join(work, "o", p["target"]), "wb") as f:
        f.write(new)
    uses[p["sha256"]] -= 1
    if not uses[p["sha256"]]:
        if patch_path is None:
            del held[p["sha256"]]
        else:
            os.unlink(patch_path)


# Payloads up to this many bytes (as stored) are read without a helper thread.
SMALL_PAYLOAD = 256 * 1024


class PayloadThread:
    """read_payload in a helper thread, which names each member (a queue) as soon as it is
    staged and its hash checked: the main thread applies patches while the rest of the payload
    is decoded (lzma and sha256 release the GIL, so the two overlap on a second core)."""

    def __init__(self, zf, info, manifest, work, what, held, threaded=True):
        import queue

        self.queue = queue.SimpleQueue()
        self.error = None
        self.stopped = False
        self._thread = threading.Thread(target=self._run, args=(zf, info, manifest, work, what, held),
                                        name="payload", daemon=True)
        if threaded:
            self._thread.start()
        else:  # no spare core: read it all now, in this thread
            self._run(zf, info, manifest, work, what, held)

    def _run(self, *args):
        try:
            read_payload(*args, announce=self.queue.put, stopped=lambda: self.stopped)
        except BaseException as e:  # re-raised by members() in the main thread
            self.error = e
        finally:
            self.queue.put(None)

    def members(self):
        """The members as they are staged; at the end, the reader's refusal if any."""
        while True:
            name = self.queue.get()
            if name is None:
                break
            yield name
        if self._thread.ident is not None:
            self._thread.join()
        if self.error:
            raise self.error

    def stop(self):
        """Stop reading (a refusal in the main thread), and wait for the reader."""
        self.stopped = True
        if self._thread.ident is not None:
            self._thread.join()


def install_objects(store, manifest, work, missing=None):
    """Move every new object into objects/ or objects-x/ (chmod + rename); returns the count.
    `missing`: the (sha, executable) pairs objects/ lacks, when check_available found them.
    The staged files are made durable first (one sync); the renames are made durable by the
    sync build_generation does before the generation gets its name."""
    if missing is None:
        missing = store.missing(_file_modes(manifest))
    wanted = set(missing)
    missing = sorted(missing)
    staged_dir = os.path.join(work, "o")
    staged_names = set(os.listdir(staged_dir))
    copies = set()
    for sha, x in missing:
        if sha not in staged_names or (x is False and (sha, True) in wanted):
            # the other mode's twin (or an object staged for both modes): a copy, hash checked
            src = os.path.join(staged_dir, sha) if sha in staged_names else store.any_object(sha)
            tmp = os.path.join(work, "copy-%s-%d" % (sha, x))
            with open(src, "rb") as f:
                got = _copy_hashed(f, tmp, os.fstat(f.fileno()).st_size, sha, sync=False)
            if got != sha:
                refuse("stored object %s is corrupt (run verify)" % sha)
            copies.add(tmp)
    # one sync makes every staged file durable before any is renamed into objects/
    # (cheaper than an fsync per file on flash storage)
    step("objects:sync")
    os.sync()
    made = set()
    for sha, x in missing:
        dest = store.object_path(sha, x)
        tmp = os.path.join(work, "copy-%s-%d" % (sha, x))
        if tmp not in copies:
            tmp = os.path.join(staged_dir, sha)
        os.chmod(tmp, 0o555 if x else 0o444)
        parent = os.path.dirname(dest)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        step("object:rename")
        os.rename(tmp, dest)
        store.add_object(sha, x)
    return len(missing)


def spare_core():
    """Whether a second core is free for the helpers (GenBuild's process, PayloadThread): more than
    one CPU, a 1-minute load average below their number, and right now (Linux: the runnable
    count in /proc/loadavg, this process included) at most their number minus one runnable.
    On a busy device (or a shared machine) everything runs in the agent's own thread: work
    that shares one core with a helper costs more in hand-offs than it overlaps.
    SLIMENV_AGENT_THREADS=0|1 decides instead."""
    force = os.environ.get("SLIMENV_AGENT_THREADS")
    if force in ("0", "1"):
        return force == "1"
    n = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = 0.0
    running = 1
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        pass
    return n > 1 and load < n and running <= n - 1


class GenBuild:
    """A generation's tree, built in work/gen (inside tmp/: a kill leaves nothing a recovery does
    not remove), by a helper process while the bundle is verified, the payload read and patches
    applied. A forked process, not a thread: mkdir and link are thousands of short system calls,
    and a thread would have to take the GIL back after each one while the main thread runs
    Python, so the two would mostly take turns.

    The helper starts before the bundle is verified, from a tree this device keeps (the
    skeleton: the current generation of the app the bundle names, unverified, used only to pick
    which of the device's own trees to copy; a new release shares most of its folders and
    files): it makes its folders and hard-links its files, reading the store and writing only in
    tmp/. Once the new tree is checked and which objects are stored is known, plan() works out
    what differs from the skeleton (files to unlink and link, folders to remove and make) and
    hands that to the helper (work/plan.json, then one byte down a pipe); the helper applies it
    and exits. finish() waits for it, then links the rest (the objects step 7 added, and any
    skeleton file the helper could not link) and makes the symlinks. The helper exits as soon
    as the agent is gone (its pipe closes, or its parent changes), and holds the store's lock
    (inherited) while it lives. Without a spare core nothing runs until finish(), in the
    agent's own process, and no skeleton is copied."""

    def __init__(self, store, work, app=None):
        self.store = store
        self.work = work
        self.app = app  # whose current generation is the skeleton, or None
        self.top = os.path.join(work, "gen")
        self.manifest = self.dirs = None
        self.later = None  # the (sha, executable) pairs to link in finish()
        self.pid = None  # the helper process while it runs
        self._go = None  # the pipe's write end: b"g" after plan(), closed to stop it

    def start(self, helper=True):
        if not helper:
            return self
        try:
            r, w = os.pipe()
        except OSError:
            return self  # no helper: finish() builds the tree
        try:
            pid = os.fork()
        except OSError:  # e.g. ENOMEM under strict overcommit: no helper, as without a spare core
            os.close(r)
            os.close(w)
            return self
        if pid == 0:  # the helper: never returns
            code = 1
            try:
                os.close(w)
                # not the agent's output: whoever reads it must not wait for the helper
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                code = self._helper(r)
            except BaseException as e:
                try:
                    with open(self._file("gen-error"), "w") as f:
                        json.dump({"errno": getattr(e, "errno", None), "message": str(e)}, f)
                except BaseException:
                    pass
            finally:
                os._exit(code)
        os.close(r)
        self.pid, self._go = pid, w
        return self

    def _file(self, name):
        return os.path.join(self.work, name)

    def _skeleton(self):
        """The skeleton's files: [(path, (sha, executable))], empty without one."""
        files = self.store.current_files(self.app) if self.app else None
        return [(f["path"], (f["sha256"], f["mode"] == 493)) for f in files or []]

    def plan(self, manifest, dirs, missing):
        """The new tree (checked), its folders, and the (sha, executable) pairs objects/ lacks:
        the helper links every other file now, these in finish()."""
        self.manifest, self.dirs, self.later = manifest, dirs, (missing or set())
        if self.pid is None:
            return
        skeleton = self._skeleton()
        have = dict(skeleton)
        have_dirs = _tree_dirs([p for p, _k in skeleton])
        want = {}
        link = []
        later = self.later
        for f in manifest["files"]:
            path, k = f["path"], (f["sha256"], f["mode"] == 493)
            want[path] = k
            if have.get(path) != k and k not in later:
                link.append((path, k[0], k[1]))
        plan = {"unlink": [p for p, k in skeleton if want.get(p) != k],
                "rmdir": sorted(have_dirs - dirs, reverse=True),  # children first
                "mkdir": sorted(dirs - have_dirs),  # parents first
                "link": link}
        with open(self._file("plan.json"), "w") as f:
            json.dump(plan, f)
        try:
            os.write(self._go, b"g")
        except BrokenPipeError:
            pass  # the helper is gone: finish() says why, or builds the tree itself

    def stop(self):
        """Abandon the build (a refusal): the helper is killed, what it made stays in tmp/."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self._reap()

    def _reap(self):
        """Wait for the helper; its exit status (os.waitpid's)."""
        if self._go is not None:
            os.close(self._go)
            self._go = None
        status = os.waitpid(self.pid, 0)[1]
        self.pid = None
        return status

    def _objs(self):
        root = self.store.root
        return (os.path.join(root, "objects") + "/", os.path.join(root, "objects-x") + "/")

    def _helper(self, r):
        """The helper process's work; its exit status."""
        parent = os.getppid()
        prefix = self.top + "/"
        os.mkdir(self.top)
        skeleton = self._skeleton()
        for d in sorted(_tree_dirs([p for p, _k in skeleton])):
            os.mkdir(prefix + d)
        objs = self._objs()
        link = os.link
        failed = set()
        for i, (path, (sha, x)) in enumerate(skeleton):
            if i & 255 == 0 and os.getppid() != parent:
                return 1  # the agent is gone
            try:
                link(objs[x] + sha[:2] + "/" + sha[2:], prefix + path)
            except OSError:
                failed.add(path)  # finish() links (or copies) it, if the new tree has it
        if os.read(r, 1) != b"g":
            return 1  # stopped, or the agent is gone
        with open(self._file("plan.json")) as f:
            plan = json.load(f)
        for path in plan["unlink"]:
            if path in failed:
                failed.discard(path)
            else:
                os.unlink(prefix + path)
        for d in plan["rmdir"]:
            os.rmdir(prefix + d)
        for d in plan["mkdir"]:
            os.mkdir(prefix + d)
        for path, sha, x in plan["link"]:
            self._link_one(objs, sha, x, prefix + path)
        if failed:
            with open(self._file("gen-unlinked.json"), "w") as f:
                json.dump(sorted(failed), f)
        return 0

    @staticmethod
    def _link_one(objs, sha, x, dest):
        src = objs[x] + sha[:2] + "/" + sha[2:]
        try:
            os.link(src, dest)
        except OSError as e:
            # a copy only where a hard link cannot be made (too many links, another
            # filesystem, not permitted); never over an existing file, which could be a link
            # to a stored object
            if e.errno not in (errno.EMLINK, errno.EXDEV, errno.EPERM):
                raise
            import shutil

            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if x else 0o644)
            with open(src, "rb") as fi, os.fdopen(fd, "wb") as fo:
                shutil.copyfileobj(fi, fo, CHUNK)

    def _link(self, wanted):
        """Link (or copy) every file of the new tree for which wanted(path, (sha, x)) is true."""
        objs = self._objs()
        prefix = self.top + "/"
        for f in self.manifest["files"]:
            k = (f["sha256"], f["mode"] == 493)
            if wanted(f["path"], k):
                self._link_one(objs, k[0], k[1], prefix + f["path"])

    def finish(self):
        """Wait for the helper (or do its work now), link the rest (the new objects' files),
        make the symlinks."""
        later = self.later
        unlinked = None
        if self.pid is not None:
            status = self._reap()
            if status == 0:
                try:
                    with open(self._file("gen-unlinked.json")) as f:
                        unlinked = set(json.load(f))
                except FileNotFoundError:
                    unlinked = set()
            else:
                try:
                    with open(self._file("gen-error")) as f:
                        err = json.load(f)
                except (OSError, ValueError):
                    err = None  # killed (the OOM killer…): its work is done here instead
                if err and err.get("errno"):  # the disk: the same would fail here
                    raise OSError(err["errno"], "building the generation: %s" % err["message"])
                if err:
                    refuse("building the generation failed: %s" % err.get("message"))
                rmtree(self.top)
        if unlinked is not None:
            step("gen:links")
            self._link(lambda p, k: k in later or p in unlinked)
        else:
            os.mkdir(self.top)
            for d in sorted(self.dirs):  # parents first
                os.mkdir(self.top + "/" + d)
            step("gen:links")
            self._link(lambda p, k: True)
        for s in self.manifest["symlinks"]:
            os.symlink(s["target"], self.top + "/" + s["path"])
        step("gen:file")


def build_generation(store, app, manifest, mbytes, build):
    """apps/APP/gens/SEQ from `build` (a GenBuild in tmp/): finish it, make it durable, rename it
    into gens/. `mbytes`: the (bundle.json, tree) bytes, stored verbatim first (a later delta's
    base)."""
    seq = manifest["sequence"]
    adir = store.app_dir(app)
    gens = os.path.join(adir, "gens")
    os.makedirs(gens, exist_ok=True)
    os.makedirs(os.path.join(adir, "manifests"), exist_ok=True)
    # manifests a kept generation already uses are replaced durably; new ones are made durable
    # by the sync below, before the generation that needs them gets its name
    store.write_manifests(app, seq, mbytes, sync=os.path.exists(store.manifest_path(app, seq)))
    build.finish()
    # one sync: the objects install_objects renamed in, the manifest, every link, copy and
    # directory of the new tree, before it gets its name
    step("gen:sync")
    os.sync()
    final = os.path.join(gens, str(seq))
    if os.path.exists(final):
        store.drop_generation(app, seq)
        store.write_manifests(app, seq, mbytes)
    step("gen:rename")
    os.rename(build.top, final)
    fsync_dir(gens)
    store.remember_manifest(app, seq, manifest)
    step("gen:done")


def run_health(store, app, manifest):
    """None when the health command passes, else why it failed."""
    h = manifest["health"]
    if h is None:
        return None
    import subprocess

    gen = store.gen_dir(app, manifest["sequence"])
    argv = list(h["command"])
    if "/" in argv[0] and not argv[0].startswith("/"):
        argv[0] = os.path.join(gen, argv[0])
    # the check must not write into the generation (e.g. __pycache__)
    env = dict(os.environ, SLIMENV_APP=app, SLIMENV_GENERATION=gen, PYTHONDONTWRITEBYTECODE="1")
    step("health:run")
    try:
        # its own session, so a time-out kills what it started too
        p = subprocess.Popen(argv, cwd=gen, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        return "cannot run %s: %s" % (h["command"][0], e.strerror)
    try:
        out = p.communicate(timeout=h["timeout"] or None)[0]
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.communicate()
        return "timed out after %d s" % h["timeout"]
    if p.returncode != 0:
        lines = out.decode("utf-8", "replace").strip().splitlines()
        return "exit status %d%s" % (p.returncode, (": " + lines[-1][:300]) if lines else "")
    return None


def install_agent(store, agent_file, sha):
    """ROOT/agent/slimenv-agent.py := the bundle's agent, unless it is that file already."""
    dest = os.path.join(store.root, "agent", "slimenv-agent.py")
    try:
        if _hash_file(dest) == sha:
            return
    except OSError:
        pass
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(agent_file, "rb") as f:
        write_atomic(dest, f.read())


def new_state(app):
    return {"format": STATE_FORMAT, "app": app, "current": None, "generations": [],
            "highest": None, "versions": {}, "health": {}}


def apply_bundle(store, path, opts, expect=None):
    """Apply one bundle file (docs/fleet.md "Apply, in order"); returns a result dict."""
    t0 = time.time()
    keys = load_trusted_keys(store.root, opts.key)
    what = os.path.basename(path)
    work = os.path.join(store.tmp, "apply-%d" % os.getpid())
    rmtree(work)
    os.makedirs(os.path.join(work, "o"))
    os.makedirs(os.path.join(work, "p"))
    step("apply:start")
    build = None
    threaded = spare_core()
    try:
        zf, infos = open_bundle(path, what)
        with zf:
            # a helper process starts building the new tree in tmp/ (work/gen) from the app's
            # current generation while the bundle is verified (GenBuild)
            build = GenBuild(store, work, _peek_app(zf, infos)).start(threaded)
            header, hbytes, kid = read_head(zf, infos, keys, what)
            step("apply:signed")
            app, seq = header["app"], header["sequence"]
            if expect:
                if expect.get("app") not in (None, app) or expect.get("sequence") not in (None, seq):
                    refuse("%s is %s %d, the channel index promised %s %s" % (
                        what, app, seq, expect.get("app"), expect.get("sequence")))
                if expect.get("header") and hashlib.sha256(hbytes).hexdigest() != expect["header"]:
                    refuse("%s: bundle.json differs from the one the channel index names" % what)
            st = store.load_state(app)
            if st and st["current"] == seq and opts.allow_downgrade:
                build.stop()
                rmtree(work)
                return {"ok": True, "app": app, "sequence": seq, "changed": False,
                        "message": "%s is already at sequence %d" % (app, seq)}
            if st and st["highest"] is not None and seq <= st["highest"] and not opts.allow_downgrade:
                refuse("replay: %s sequence %d is not newer than %d, the newest applied "
                       "(--allow-downgrade to force)" % (app, seq, st["highest"]))
            # the interpreter probe (a child process) runs while the tree and payload are read
            target_check = start_check_target(header)
            tree, tbytes = read_tree(zf, infos[2], header, store, what)
            manifest = dict(header, files=tree["files"], symlinks=tree["symlinks"])
            dirs = check_tree(manifest)
            if manifest.get("image") is not None and build:
                build.stop()  # an image generation is no tree of links
                rmtree(build.top)
                build = None
            store.current_files(app)  # its objects are stored (check_available); plan() uses it
            sizes, missing = check_available(store, manifest)
            if build:
                build.plan(manifest, dirs, missing)
            check_space(store, manifest, sizes)
            step("apply:verified")
            held = HeldPatches()
            # a small payload is read in this thread: starting a thread and handing each member
            # over costs more than decoding it here
            big = manifest["payload"]["size"] > SMALL_PAYLOAD
            reader = PayloadThread(zf, infos[3], manifest, work, what, held, threaded and big)
            try:
                stage_patches(store, manifest, work, sizes, held, reader.members())
            finally:
                reader.stop()  # before the zip closes
            image = read_image(zf, infos[4], manifest, work, what) if manifest.get("image") else None
            agent_file = read_agent(zf, infos[5 if image else 4:], manifest, work, what)
        finish_check_target(target_check)
        unmounted = None
        if image:
            unmounted = try_mount_check(manifest, image, work)
            if unmounted:
                extract_image(store, manifest, image, work, unmounted)
                build = GenBuild(store, work).start(False)
                build.plan(manifest, dirs, set())  # everything once the objects are stored
    except BaseException:
        # nothing outside tmp/ has changed: this apply's folder goes now (recovery would run a
        # full gc for it)
        if build:
            build.stop()
        try:
            rmtree(work)
        except OSError:
            pass  # the next run's recovery removes it
        raise
    step("apply:staged")
    # -- nothing outside tmp/ has changed up to here
    if image and not unmounted:
        added = 0
        name = install_image(store, image, manifest)
        step("apply:image")
        build_image_generation(store, app, manifest, (hbytes, tbytes), name)
    else:
        try:
            added = install_objects(store, manifest, work, missing)
            step("apply:objects")
            build_generation(store, app, manifest, (hbytes, tbytes), build)
        except BaseException:
            if build:
                build.stop()  # no helper outlives the agent (tmp/apply-PID stays: see recover)
            raise
    previous = st["current"] if st else None
    store.switch(app, seq)
    failure = run_health(store, app, manifest)
    st = st or new_state(app)
    st["health"][str(seq)] = {"ok": failure is None, "reason": failure or "", "at": now_iso()}
    if failure is not None:
        st["generations"] = [g for g in st["generations"] if g != seq]
        if previous is not None:
            store.switch(app, previous)
        else:
            rmtree(os.path.join(store.app_dir(app), "current"))
            fsync_dir(store.app_dir(app))
        store.save_state(app, st)
        store.drop_generation(app, seq)
        gc_objects(store)
        rmtree(work)
        back = "switched back to %d" % previous if previous is not None else "no previous generation"
        refuse("health check of %s %d failed (%s); %s" % (app, seq, failure, back))
    gens = [seq] + [g for g in st["generations"] if g != seq]
    keep = max(1, opts.keep)
    dropped = gens[keep:]
    st.update(current=seq, generations=gens[:keep],
              highest=seq if st["highest"] is None else max(seq, st["highest"]))
    st["versions"][str(seq)] = manifest["version"]
    for g in dropped:
        st["versions"].pop(str(g), None)
        st["health"].pop(str(g), None)
    store.save_state(app, st)
    removed = gc_dropped(store, app, dropped)
    if agent_file:
        install_agent(store, agent_file, manifest["agent"]["sha256"])
    rmtree(work)
    result = {"ok": True, "app": app, "sequence": seq, "version": manifest["version"],
              "previous": previous, "changed": True, "keyid": kid, "objectsAdded": added,
              "objectsRemoved": removed, "seconds": round(time.time() - t0, 3)}
    if image:
        result["image"] = {"mounted": not unmounted, "why": unmounted or ""}
    return result


# ---------------------------------------------------------------- 10 update (HTTP)


def http_get_small(url, limit):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=60) as r:
            data = r.read(limit + 1)
    except urllib.error.HTTPError as e:
        refuse("GET %s: HTTP %d" % (url, e.code))
    except (urllib.error.URLError, OSError) as e:
        refuse("GET %s: %s" % (url, getattr(e, "reason", e)))
    if len(data) > limit:
        refuse("GET %s: larger than %d bytes" % (url, limit))
    return data


STALE_PART = 7 * 24 * 3600  # a partial download untouched this long is not resumed


def remove_parts(store, older_than=None):
    """Remove partial downloads (tmp/downloads/*.part), only those untouched for `older_than`
    seconds when given; returns (files, bytes) removed. Callers hold the store's lock, so no
    download is in progress."""
    try:
        names = os.listdir(store.downloads)
    except OSError:
        return 0, 0
    cutoff = None if older_than is None else time.time() - older_than
    files = freed = 0
    for name in names:
        if not name.endswith(".part"):
            continue
        path = os.path.join(store.downloads, name)
        try:
            st = os.lstat(path)
            if cutoff is not None and st.st_mtime > cutoff:
                continue
            os.unlink(path)
        except OSError:
            continue
        files += 1
        freed += st.st_size
    return files, freed


def download(store, url, sha, size):
    """Fetch url into tmp/downloads/<sha>.part, resuming with Range; checks size and hash."""
    import http.client
    import urllib.error
    import urllib.request

    os.makedirs(store.downloads, exist_ok=True)
    part = os.path.join(store.downloads, sha + ".part")
    have = os.path.getsize(part) if os.path.exists(part) else 0
    if have > size:
        os.unlink(part)
        have = 0
    if have < size and free_space(store.downloads) < size - have + 16 * 1024 * 1024:
        refuse("not enough disk space to download %d MiB into %s" % ((size - have) >> 20, store.downloads))
    if have < size:
        req = urllib.request.Request(url)
        if have:
            req.add_header("Range", "bytes=%d-" % have)
        try:
            resp = urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as e:
            if e.code == 416:
                os.unlink(part)
            if e.code in (404, 410):
                raise Unavailable("download %s: HTTP %d" % (url, e.code))
            refuse("download %s: HTTP %d" % (url, e.code))
        except (urllib.error.URLError, OSError) as e:
            refuse("download %s: %s" % (url, getattr(e, "reason", e)))
        with resp:
            crange = resp.headers.get("Content-Range", "")
            status = getattr(resp, "status", None) or resp.getcode()
            if have and not (status == 206 and crange.startswith("bytes %d-" % have)):
                have = 0
            buf = bytearray(64 * 1024)
            try:
                with open(part, "ab" if have else "wb") as f:
                    while True:
                        # readinto returns what has arrived, so a cut keeps all but the last piece
                        n = resp.readinto(buf)
                        if not n:
                            break
                        chunk = bytes(buf[:n])
                        if have + len(chunk) > size:
                            f.close()
                            os.unlink(part)
                            refuse("download %s: larger than the %d bytes the index says" % (url, size))
                        f.write(chunk)
                        have += len(chunk)
                        step("download:chunk")
                    f.flush()
                    os.fsync(f.fileno())
            except (http.client.HTTPException, OSError) as e:
                refuse("download %s interrupted at %d of %d bytes (%s); the next run resumes"
                       % (url, os.path.getsize(part), size, type(e).__name__))
        if have < size:
            refuse("download %s interrupted at %d of %d bytes; the next run resumes" % (url, have, size))
    h = hashlib.sha256()
    with open(part, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    if h.hexdigest() != sha:
        os.unlink(part)
        refuse("download %s does not match its hash (corrupt); removed" % url)
    return part


def check_index(idx, app, channel):
    try:
        ok = (idx["format"] == CHANNEL_FORMAT and idx["app"] == app and idx["channel"] == channel
              and _is_int(idx["sequence"]) and SHA_RE.match(idx["full"]["sha256"])
              and _is_int(idx["full"]["size"]) and SHA_RE.match(idx["header"]["sha256"])
              and all(_is_int(d["from"]) and SHA_RE.match(d["sha256"]) and _is_int(d["size"])
                      for d in idx["deltas"]))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        refuse("channel index for %s/%s is malformed or names another app or channel" % (channel, app))


def cmd_update(store, opts):
    keys = load_trusted_keys(store.root, opts.key)
    app, channel = opts.app, opts.channel
    if not APP_RE.match(app) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", channel):
        refuse("bad app or channel name")
    base = opts.repo.rstrip("/")
    idx_url = "%s/channels/%s/%s.json" % (base, channel, app)
    idx_bytes = http_get_small(idx_url, MAX_INDEX)
    sig = http_get_small(idx_url + ".sig", MAX_SIG)
    verify_signature(idx_bytes, sig, keys, "channel index %s/%s" % (channel, app))
    try:
        idx = json.loads(idx_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        refuse("channel index is not JSON")
    check_index(idx, app, channel)
    remove_parts(store, STALE_PART)  # releases long gone from the channel would stay forever
    st = store.load_state(app)
    cur = st["current"] if st else None
    highest = st["highest"] if st else None
    seq = idx["sequence"]
    if cur == seq or (highest == seq and not opts.allow_downgrade):
        return {"ok": True, "app": app, "sequence": cur, "changed": False,
                "message": "%s is up to date (sequence %d)" % (app, seq)}
    if highest is not None and seq < highest and not opts.allow_downgrade:
        refuse("replay: channel index sequence %d is older than %d, the newest applied" % (seq, highest))
    choices = [d for d in idx["deltas"] if cur is not None and d["from"] == cur][:1]
    choices.append(dict(idx["full"], full=True))
    for i, c in enumerate(choices):
        url = "%s/blobs/sha256/%s/%s" % (base, c["sha256"][:2], c["sha256"][2:])
        try:
            path = download(store, url, c["sha256"], c["size"])
        except Unavailable:
            if i + 1 < len(choices):
                continue
            raise
        expect = {"app": app, "sequence": seq, "header": idx["header"]["sha256"] if c.get("full") else None}
        try:
            result = apply_bundle(store, path, opts, expect)
        except Refused as e:
            os.unlink(path)
            if i + 1 < len(choices) and "lacks" in str(e):
                continue
            raise
        rmtree(path)
        result["download"] = "full" if c.get("full") else "delta"
        return result


# ---------------------------------------------------------------- 11 status, rollback, gc, verify


def gc_dropped(store, app, dropped):
    """Drop generations `dropped` of `app` (no longer in state.json) and remove the objects only
    they used; returns how many objects and images were removed. Objects no generation used
    before are not looked for: they are left only by an interrupted apply, whose tmp/apply-*
    the next run's recovery finds (and then runs gc_objects before removing it)."""
    if store.full_gc:
        for g in dropped:
            store.drop_generation(app, g)
        return gc_objects(store)
    gone = set()
    for g in dropped:
        if not store.image_of(app, g):
            try:
                m = store.load_manifest(app, g)
            except (OSError, ValueError, KeyError, TypeError):
                store.full_gc = True  # an unreadable tree: look at every object instead
                return gc_dropped(store, app, dropped)
            gone.update((f["sha256"], f["mode"] == 493) for f in m["files"])
    for g in dropped:
        store.drop_generation(app, g)
    removed = 0
    if gone:
        for sha, x in sorted(gone - store.used_objects()):
            step("gc:remove")
            store.remove_object(sha, x)
            removed += 1
    return removed + store.gc_images()


def gc_objects(store):
    """Remove objects (and images) no kept generation of any app uses; returns how many."""
    used = store.used_objects()
    removed = 0
    for sha, x in sorted(store.objects() - used):
        step("gc:remove")
        store.remove_object(sha, x)
        removed += 1
    return removed + store.gc_images()


def cmd_gc(store, opts):
    removed = gc_objects(store)
    parts, freed = remove_parts(store)
    message = "removed %d object(s)" % removed
    if parts:
        message += " and %d partial download(s), %d bytes" % (parts, freed)
    return {"ok": True, "objectsRemoved": removed, "partialDownloadsRemoved": parts,
            "partialBytesRemoved": freed, "message": message}


def cmd_rollback(store, opts):
    app = opts.app
    st = store.load_state(app) if APP_RE.match(app) else None
    if not st or st["current"] is None or len(st["generations"]) < 2:
        refuse("no previous generation of %s to roll back to" % app)
    cur = st["current"]
    prev = st["generations"][1]
    st["current"] = prev
    st["generations"] = [prev, cur] + st["generations"][2:]
    store.save_state(app, st)
    store.switch(app, prev)
    return {"ok": True, "app": app, "sequence": prev, "previous": cur,
            "message": "%s rolled back from %d to %d" % (app, cur, prev)}


def cmd_status(store, opts):
    apps = {}
    for app in store.apps():
        st = store.load_state(app) or new_state(app)
        gens = []
        for g in st["generations"]:
            try:
                tree = _hash_file(store.tree_path(app, g))
            except OSError:
                tree = None
            name = store.image_of(app, g)
            gens.append({"sequence": g, "version": st["versions"].get(str(g)),
                         "health": st["health"].get(str(g)), "tree": tree,
                         "image": name.split(".")[0] if name else None,
                         "mounted": bool(name) and os.path.ismount(store.gen_dir(app, g))})
        apps[app] = {"current": st["current"], "version": st["versions"].get(str(st["current"])),
                     "highest": st["highest"], "generations": gens,
                     "health": st["health"].get(str(st["current"])),
                     "consistent": store.current_seq(app) == st["current"]}
    objects = sorted(set(sha for sha, _ in store.stored_objects()))
    return {"ok": True, "agent": AGENT_VERSION, "root": store.root, "apps": apps, "objects": objects,
            "busy": bool(getattr(opts, "busy", False))}


def _hash_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def cmd_verify(store, opts):
    problems = []
    for sha, x in sorted(store.stored_objects()):
        p = store.object_path(sha, x)
        mode = os.lstat(p).st_mode
        if _hash_file(p) != sha:
            problems.append("object %s is corrupt" % sha)
        if mode & 0o222 or bool(mode & 0o111) != x:
            problems.append("object %s has mode %o" % (sha, stat.S_IMODE(mode)))
    for app in store.apps():
        st = store.load_state(app)
        if st is None:
            problems.append("app %s has no state.json" % app)
            continue
        if store.current_seq(app) != st["current"]:
            problems.append("app %s: current is not generation %s" % (app, st["current"]))
        for g in st["generations"]:
            problems.extend(verify_generation(store, app, g))
    return {"ok": not problems, "problems": problems,
            "message": "store is clean" if not problems else "; ".join(problems[:5])}


def verify_generation(store, app, seq):
    gen = store.gen_dir(app, seq)
    try:
        m = store.load_manifest(app, seq)
        tree_sha = _hash_file(store.tree_path(app, seq))
    except (OSError, ValueError, KeyError, TypeError):
        return ["app %s generation %d has no header or tree" % (app, seq)]
    out = []
    if tree_sha != m["tree"]["sha256"]:
        out.append("%s %d: its stored tree does not match its header" % (app, seq))
    name = store.image_of(app, seq)
    if name:
        try:
            if _hash_file(store.image_path(name)) != name.split(".")[0]:
                out.append("%s %d: image %s is corrupt" % (app, seq, name))
        except OSError:
            out.append("%s %d: image %s is missing" % (app, seq, name))
        if not os.path.ismount(gen):
            return out + ["%s %d: image generation not mounted (run mount)" % (app, seq)]
    return out + check_tree_at(gen, m, "%s %d" % (app, seq))


def cmd_mount(store, opts):
    """Mount every kept image generation not mounted (after a reboot); idempotent. The lock's
    recovery has already done it: report what is mounted and what could not be."""
    mounted, problems = store.mount_images()
    mounted = (getattr(opts, "mounted", None) or []) + mounted
    problems = (getattr(opts, "mount_problems", None) or []) + problems
    kept = ["%s/%d" % (a, s) for a, s, _n in store.kept_images()]
    return {"ok": not problems, "mounted": mounted, "images": kept, "problems": problems,
            "message": "; ".join(problems) if problems else
            "%d image generation(s), %d mounted now" % (len(kept), len(mounted))}


# ---------------------------------------------------------------- 12 command line


# The command line. argparse costs ~6 ms of every run (its import, then gettext and shutil on
# the first parse), 6% of a small apply; so a plain reading of the usual forms comes first
# (_parse_plain), and anything else (help, an error, an abbreviation, `--opt=value`…) goes to
# argparse, whose answer stands. _parse_plain accepts only forms argparse reads the same way
# (tested: test/bundle/agent-cli.test.ts).
DEFAULTS = {"root": "/var/lib/slimenv", "key": [], "keep": 2, "allow_downgrade": False, "json": False}
COMMAND_ARGS = {"apply": (["bundle"], []), "update": ([], ["repo", "app", "channel"]),
                "status": ([], []), "rollback": (["app"], []), "gc": ([], []), "verify": ([], []),
                "mount": ([], [])}


class Options:
    """The parsed command line (argparse's Namespace or _parse_plain's, the same fields)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _parse_plain(argv):
    """Options for the usual forms (global options before or after the command, each option
    spelled whole, values as the next word), else None."""
    vals = dict(DEFAULTS, key=[], command=None)
    positional, named = [], {}
    key_side = 0  # where the --key options are: 0 none yet, None before the command, else after
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--json", "--allow-downgrade"):
            vals[a[2:].replace("-", "_")] = True
        elif a in ("--root", "--key", "--keep") or (vals["command"] and a in ("--repo", "--app", "--channel")):
            if i + 1 >= len(argv) or argv[i + 1].startswith("-") or not argv[i + 1]:
                return None
            v = argv[i + 1]
            i += 1
            if a == "--key":
                if key_side not in (0, vals["command"]):
                    return None  # keys both before and after the command: argparse versions differ
                key_side = vals["command"]
                vals["key"].append(v)
            elif a == "--keep":
                if not re.match(r"[0-9]{1,9}\Z", v) or int(v) < 1:
                    return None
                vals["keep"] = int(v)
            elif a == "--root":
                vals["root"] = v
            else:
                named[a[2:]] = v
        elif a.startswith("-"):
            return None
        elif vals["command"] is None:
            if a not in COMMAND_ARGS:
                return None
            vals["command"] = a
        else:
            positional.append(a)
        i += 1
    if vals["command"] is None:
        return None
    pos, req = COMMAND_ARGS[vals["command"]]
    if len(positional) != len(pos) or sorted(named) != sorted(req):
        return None
    vals.update(zip(pos, positional))
    vals.update(named)
    return Options(**vals)


def _common(parser, suppress):
    import argparse

    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    parser.add_argument("--root", default=d(DEFAULTS["root"]), help="device store (default /var/lib/slimenv)")
    parser.add_argument("--key", action="append", default=d([]), help="trusted public key file (repeatable)")
    parser.add_argument("--keep", type=int, default=d(DEFAULTS["keep"]), help="generations to keep per app (default 2)")
    parser.add_argument("--allow-downgrade", action="store_true", default=d(False),
                        help="accept a sequence at or below the newest applied")
    parser.add_argument("--json", action="store_true", default=d(False), help="print JSON")


def parse_args(argv):
    plain = _parse_plain(argv)
    return plain if plain is not None else parse_args_full(argv)


def parse_args_full(argv):
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    _common(common, True)
    ap = argparse.ArgumentParser(prog="slimenv-agent", description="Apply signed slimenv bundles.")
    _common(ap, False)
    ap.add_argument("--version", action="version", version="slimenv-agent " + AGENT_VERSION)
    sub = ap.add_subparsers(dest="command")
    p = sub.add_parser("apply", parents=[common], help="apply a bundle file")
    p.add_argument("bundle")
    p = sub.add_parser("update", parents=[common], help="update an app from a repository channel")
    p.add_argument("--repo", required=True)
    p.add_argument("--app", required=True)
    p.add_argument("--channel", required=True)
    sub.add_parser("status", parents=[common], help="apps, generations, health, objects")
    p = sub.add_parser("rollback", parents=[common], help="switch an app to its previous generation")
    p.add_argument("app")
    sub.add_parser("gc", parents=[common], help="remove objects no generation uses")
    sub.add_parser("verify", parents=[common], help="check every object and generation")
    sub.add_parser("mount", parents=[common], help="mount the image generations not mounted (at boot)")
    opts = ap.parse_args(argv)
    if not opts.command:
        ap.print_usage(sys.stderr)
        sys.exit(2)
    if opts.keep < 1:
        ap.error("--keep must be at least 1")
    return Options(**vars(opts))


def render(opts, result):
    if opts.json:
        sys.stdout.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
        return
    if opts.command == "status":
        for app, a in sorted(result["apps"].items()):
            gens = ", ".join("%d (%s)" % (g["sequence"], g["version"]) for g in a["generations"])
            health = a["health"] or {}
            sys.stdout.write("%s: current %s version %s, health %s; generations: %s\n" % (
                app, a["current"], a["version"], "ok" if health.get("ok") else health.get("reason", "-"), gens or "none"))
        sys.stdout.write("%d object(s) in %s\n" % (len(result["objects"]), result["root"]))
    elif result.get("message"):
        sys.stdout.write(result["message"] + "\n")
    elif opts.command in ("apply", "update"):
        sys.stdout.write("%s: now at sequence %d (version %s), %d new object(s) in %.2f s\n" % (
            result["app"], result["sequence"], result["version"], result["objectsAdded"], result["seconds"]))


COMMANDS = {"update": cmd_update, "status": cmd_status, "rollback": cmd_rollback,
            "gc": cmd_gc, "verify": cmd_verify, "mount": cmd_mount,
            "apply": lambda store, opts: apply_bundle(store, opts.bundle, opts)}


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    store = Store(opts.root)
    try:
        if opts.command == "status":
            opts.busy = os.path.isdir(store.root) and not store.lock(shared=True)
        else:
            store.lock()
            store.recover()
            # mounts do not survive a reboot: every run that takes the lock restores them
            opts.mounted, opts.mount_problems = store.mount_images()
        result = COMMANDS[opts.command](store, opts)
    except Refused as e:
        msg = str(e)
    except OSError as e:
        msg = "%s: %s" % (getattr(e, "filename", None) or "I/O error", e.strerror or e)
    except (BadZip, BadTar, EOFError, LZMAError, zlib.error) as e:
        msg = "unreadable archive: %s" % e
    except Exception as e:  # a bug: still one line, still exit status 1
        msg = "internal error: %s: %s" % (type(e).__name__, e)
    else:
        render(opts, result)
        if not result.get("ok", True):
            sys.stderr.write("slimenv-agent: %s\n" % result.get("message"))
            return 1
        return 0
    finally:
        store.unlock()
    sys.stderr.write("slimenv-agent: %s\n" % msg.replace("\n", " "))
    if opts.json:
        sys.stdout.write(json.dumps({"ok": False, "error": msg}, sort_keys=True) + "\n")
    return 1


if __name__ == "__main__":
    status = main()
    # Every file is closed and any helper reaped by now: what is left is the interpreter
    # freeing the trees' hundred thousand objects, module by module (about 10 ms of an apply)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        status = status or 1
    os._exit(status)
