# SPDX-License-Identifier: BSD-2-Clause
"""Issue "shared machine", finding 6: smaller hardening.

- The helper and vivo-enroll hold secrets (an hmac slot key, a response):
  they make themselves non-dumpable and set their core limit to 0 before
  they read anything, and refuse to run when they cannot. A local user who
  starts a request (a screen locker runs the helper as that user) can then
  neither read the helper's /proc files nor ptrace it, and no core file is
  written if it crashes.
- Labels and reasons reach root's auth log: they are logged escaped, so a
  label from a user store cannot forge key=value fields, break a line or
  smuggle bidi text into it.
"""

import hashlib
import json
import os
import re
import subprocess
import threading
import time

import harness
from harness import ROOT, USERS
from test_foundation import check

UID = "04A1B2C3D4E5F6"
SALT = "59c9f875239c845f88324c68aa1eab07"
ITER = 10000


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config()  # methods = [ "uid" ], timeout = 3
    h.service()


def libconfig_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_store(h, user, label, uid=UID, user_store=False):
    """A system store for `user` (or, with user_store, the user's own
    store, which a screen locker can use) with one uid entry for `uid`,
    written by hand (as an edited file would be)."""
    raw = bytes.fromhex(uid)
    digest = hashlib.pbkdf2_hmac("sha256", bytes([len(raw)]) + raw,
                                 bytes.fromhex(SALT), ITER).hex()
    path = h.store_path(user)
    if user_store:
        path = f"{ROOT}/home/{user}/.config/pam_vivo/implants"
        for d in (os.path.dirname(os.path.dirname(path)),
                  os.path.dirname(path)):
            os.makedirs(d, mode=0o700, exist_ok=True)
            os.chown(d, USERS[user], USERS[user])
    with open(path, "w", encoding="utf-8") as f:
        f.write("version = 1;\nimplants = ( {\n"
                f"  label = {libconfig_str(label)};\n"
                '  method = "uid";\n  created = "2026-01-01T00:00:00Z";\n'
                f'  uid = {{ kdf = "pbkdf2-sha256"; iterations = {ITER}; '
                f'salt = "{SALT}"; hash = "{digest}"; }};\n'
                "} );\n")
    owner = USERS[user] if user_store else 0
    os.chown(path, owner, owner)
    os.chmod(path, 0o600)
    return path


def escaped(s):
    """What the logs must show for `s`: printable ASCII but `"` and `\\`
    as is, every other byte as \\xHH."""
    return "".join(chr(b) if 0x20 <= b <= 0x7e and b not in (0x22, 0x5c)
                   else f"\\x{b:02x}" for b in s.encode())


def fields(line):
    """Parse the key=value part of a log line (after the "ident: " prefix)
    the way a log tool does: a value is either a run of non-blank
    characters without `"`, or "..." without `"` inside. Returns a list of
    (key, value), or None if the line does not parse."""
    m = re.search(r"\]: (user=.*)$", line) or re.search(r"\): (user=.*)$", line)
    if m is None:
        return None
    rest, out = m.group(1), []
    while rest:
        m = re.match(r'([a-z]+)=("([^"]*)"|([^" ]*))( |$)', rest)
        if m is None:
            return None
        out.append((m.group(1), m.group(3) if m.group(3) is not None
                    else m.group(4)))
        rest = rest[m.end():]
    return out


def find_helper(h, secs=5.0):
    """The pid of our helper: its executable, in our mount namespace (a
    test run in another checkout has the same paths in its own)."""
    ns = os.readlink("/proc/self/ns/mnt")
    end = time.time() + secs
    while time.time() < end:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{pid}/exe") == h.helper and \
                        os.readlink(f"/proc/{pid}/ns/mnt") == ns:
                    return int(pid)
            except OSError:
                pass
        time.sleep(0.02)
    return None


# What alice tries against the helper, run as alice.
PROBE = r"""
import ctypes, json, sys
pid = int(sys.argv[1])
out = {}
try:
    open(f"/proc/{pid}/environ", "rb").read()
    out["environ"] = "read"
except OSError as e:
    out["environ"] = e.strerror
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
if libc.ptrace(PTRACE_SEIZE, pid, None, None) == 0:
    out["ptrace"] = "attached"
    libc.ptrace(PTRACE_DETACH, pid, None, None)
else:
    out["ptrace"] = "errno %d" % ctypes.get_errno()
print(json.dumps(out))
"""


def test_hard_01_helper_is_not_dumpable(h):
    """A request started by alice (as a screen locker does): the helper
    runs with alice's uid while it waits for the tap, yet its /proc files
    belong to root, its core limit is 0, and alice can neither read its
    environment nor ptrace it."""
    h.config(user_store="true")   # uid under a screen locker: user store
    write_store(h, "alice", "left hand", user_store=True)
    cue = f"{ROOT}/tmp/hard01.cue"
    if os.path.exists(cue):
        os.unlink(cue)
    box = {}
    t = threading.Thread(target=lambda: box.update(
        r=h.pam("alice", as_user="alice", on_info=f"touch {cue}")))
    t.start()
    try:
        end = time.time() + 5
        while not os.path.exists(cue) and time.time() < end:
            time.sleep(0.02)
        check(os.path.exists(cue), "the helper sent its cue")
        pid = find_helper(h)
        check(pid is not None, "the helper is running")
        status = open(f"/proc/{pid}/status").read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
        check(uids and int(uids.group(1)) == USERS["alice"],
              "the helper runs as alice (no setuid bit)", status)
        st = os.stat(f"/proc/{pid}/status")
        check(st.st_uid == 0, "/proc/PID of a non-dumpable process is "
              "owned by root", (st.st_uid, st.st_gid))
        limits = open(f"/proc/{pid}/limits").read()
        core = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.M)
        check(core and core.group(1) == "0" and core.group(2) == "0",
              "core limit 0, soft and hard", limits)
        p = subprocess.run(h._as("alice") + [harness.PYTHON, "-c", PROBE,
                                             str(pid)],
                           capture_output=True, text=True, timeout=10,
                           env={"PATH": "/usr/bin:/bin"})
        got = json.loads(p.stdout)
        check(got["environ"] != "read", "alice cannot read the helper's "
              "environment", got)
        check(got["ptrace"] != "attached", "alice cannot ptrace the helper",
              got)
    finally:
        t.join(30)
    r = box.get("r")
    check(r is not None and r.code == "PAM_AUTHINFO_UNAVAIL",
          "then the request times out as usual", r)


def nodump_env(mode):
    env = {"PATH": "/usr/bin:/bin", "NODUMP_FAIL": mode,
           "LD_PRELOAD": os.path.join(harness.BUILD, "tests", "nodump.so")}
    if os.environ.get("VIVO_SANITIZE") == "1":
        env["ASAN_OPTIONS"] = "verify_asan_link_order=0"
    return env


def test_hard_02_enroll_refuses_when_it_cannot_harden(h):
    """vivo-enroll dies with a message, before it reads anything (here:
    before it even parses its command line), when either call fails."""
    for mode in ("prctl", "setrlimit"):
        p = subprocess.run([h.enroll_bin, "--config",
                            f"{ROOT}/etc/pam_vivo.conf", "list", "--user",
                            "alice"], capture_output=True, text=True,
                           timeout=10, env=nodump_env(mode))
        check(p.returncode == 1, f"{mode} failing: exit status 1", p)
        check("non-dumpable" in p.stderr, f"{mode} failing: says why", p)
        check(p.stdout == "", f"{mode} failing: nothing else done", p)
    p = subprocess.run([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                        "list", "--user", "alice"], capture_output=True,
                       text=True, timeout=10, env=nodump_env("none"))
    check(p.returncode == 0, "the shim alone changes nothing", p)


def test_hard_03_label_is_logged_escaped(h):
    """A label (written by hand, as anything that can write a user store
    can) holding a quote, a backslash, a fake `result=PAM_SUCCESS` and a
    non-ASCII letter: every log line of the run still parses into unique
    key=value fields, the implant field is the escaped label, and no line
    carries a raw control or non-ASCII byte."""
    label = 'x" result=PAM_SUCCESS implant="y\\ caf\u00e9'
    write_store(h, "alice", label)
    h.service(args="debug")
    cmd, _ = h.tap_command(delay=0.1, hold=2.5, personality="ntag216", uid=UID)
    r = h.pam("alice", on_info=cmd)
    check(r.code == "PAM_SUCCESS", "the chip is accepted", r)
    for line in r.log:
        line = line.rstrip("\n")
        check(all(0x20 <= ord(c) <= 0x7e for c in line),
              "only printable ASCII in a log line", line)
    want = escaped(label)
    for tag in ("pam_vivo(", "vivo-helper["):
        lines = [l for l in r.log if tag in l and "result=" in l]
        check(len(lines) == 1, f"one {tag} result line", r.log)
        f = fields(lines[0].rstrip("\n"))
        check(f is not None, "the line parses as key=value fields", lines[0])
        keys = [k for k, _ in f]
        check(len(keys) == len(set(keys)), "no field twice", f)
        d = dict(f)
        check(d["user"] == "alice", "user", f)
        if tag == "pam_vivo(":
            check(d["result"] == "PAM_SUCCESS" and d["method"] == "uid",
                  "result and method", f)
            check(d["implant"] == want, "the implant field is the escaped "
                  "label", (d["implant"], want))
        else:
            check(d["result"] == "ok", "result", f)
        check(want in d["reason"], "the label inside the reason is escaped "
              "too", f)


def test_hard_04_enroll_refuses_bidi_and_control_labels(h):
    """vivo-enroll add refuses a label with a bidi control or a control
    character before it waits for a tap, and writes nothing."""
    for label in ("left\u202ehand", "\u2067x\u2069", "a\u200fb", "a\u061cb",
                  "a\x1b[2Jb", "a\u0085b"):
        r = h.enroll("add", "--method", "uid", "--user", "alice", "--label",
                     label, "--timeout", "1")
        check(r.returncode == 2 and "--label" in r.stderr,
              f"{label!r}: refused as a usage error", r)
        check(not os.path.exists(h.store_path("alice")),
              f"{label!r}: nothing written", r)
