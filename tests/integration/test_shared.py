# SPDX-License-Identifier: BSD-2-Clause
"""Issue 10: a shared machine. One tap answers one request on the whole
machine, whoever the callers are; no other local user can read or use an
implant's secrets; old stores are migrated with nothing lost.

The attack of finding 1: bob runs `su alice` (a root-run request for alice,
no PAM_RHOST) and waits; alice's screen locker, running as alice, asks her
for a tap; she taps once. Before the fix both requests succeeded (u2f signs
both fresh challenges during the one tap)."""

import os
import signal
import subprocess
import time

from harness import ROOT, USERS
from test_foundation import CUE, ENROLLED, check, enroll_tap
import test_hmac
import test_u2f

REGISTRY = "/run/pam_vivo"


def setup(h):
    for pid in helpers_of(h):       # a failed case's waiting requests
        os.kill(pid, signal.SIGKILL)
    # a contest marker blocks taps on its reader for a moment after the
    # contest (tapreg.h): let the previous case's marker expire
    time.sleep(1.6)
    test_u2f.setup(h)
    h.config(methods='[ "u2f", "hmac", "uid" ]',
             u2f=f'{{ appid = "{test_u2f.APPID}"; }}', timeout="6")
    h.service(args="debug")


class Waiting:
    """A pamdrive run in the background, waiting for its tap."""

    def __init__(self, h, user="alice", **kw):
        self.h = h
        self.mark = h.syslog.mark()
        self.p = subprocess.Popen(h.pam_args(user, **kw), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env={"PATH": "/usr/bin:/bin"})

    def wait_cue(self, secs=5):
        """Until the module passed on the cue (the helper is registered
        and has had its first look at the readers)."""
        line = self.p.stdout.readline()
        self.head = line
        check(line.startswith("conv: info: " + CUE), "the cue came", line)

    def result(self, timeout=30):
        out, err = self.p.communicate(timeout=timeout)

        class P:
            pass
        P.stdout, P.stderr = self.head + out, err
        from harness import PamResult
        return PamResult(P, self.h.syslog.since(self.mark))


def helpers_of(h):
    """pids of running vivo-helper processes of this test run: the same
    path in our own mount namespace (another run on the machine has its
    own /run/vivotest, and its helpers are not ours to kill)."""
    out = []
    me = os.readlink("/proc/self/ns/mnt")
    for pid in os.listdir("/proc"):
        try:
            if (pid.isdigit() and os.readlink(f"/proc/{pid}/exe") == h.helper
                    and os.readlink(f"/proc/{pid}/ns/mnt") == me):
                out.append(int(pid))
        except OSError:
            pass
    return out


def test_shared_01_two_requests_one_tap_no_success(h):
    """Finding 1: bob's `su alice` (root-run) and alice's screen locker
    (running as alice) both wait; one tap of alice's implant must not
    succeed for either, and each person is told which other request is
    waiting (service, user, tty)."""
    test_u2f.enroll_u2f(h, label="apex")
    su = Waiting(h, service=h.service("su", args="debug"), tty="/dev/pts/7",
                 ruser="bob")
    su.wait_cue()
    locker = Waiting(h, service=h.service("xlock", args="debug"),
                     as_user="alice", tty=":0")
    locker.wait_cue()
    h.implant(hold=3.0, wait_present=False, **test_u2f.chip())
    r_su, r_lock = su.result(), locker.result()
    check(r_su.code != "PAM_SUCCESS" and r_lock.code != "PAM_SUCCESS",
          "one tap, two waiting requests: no success", (r_su, r_lock))
    check(r_su.code == "PAM_AUTHINFO_UNAVAIL" and
          r_lock.code == "PAM_AUTHINFO_UNAVAIL", "unavailable: the password "
          "still works", (r_su, r_lock))
    check(any('"xlock" for alice on :0' in e for e in r_su.errors),
          "su's person is told about the locker", r_su)
    check(any('"su" for alice on /dev/pts/7, started by bob' in e
              for e in r_lock.errors), "alice is told about bob's su", r_lock)
    warn = [l for l in r_su.log + r_lock.log if "refused for" in l]
    check(any('"su"' in l and '"xlock"' in l for l in warn),
          "a warning names both requests", warn)


def test_shared_01b_two_requests_one_tap_hmac(h):
    """The same with hmac, where today one of the two won the race."""
    rc, _, _ = test_hmac.enroll_hmac(h, label="apex-hmac")
    a = Waiting(h, service=h.service("su", args="debug"), ruser="bob")
    a.wait_cue()
    b = Waiting(h, service=h.service("sudo", args="debug"), ruser="alice")
    b.wait_cue()
    h.implant(hold=3.0, wait_present=False, **test_hmac.chip(h))
    ra, rb = a.result(), b.result()
    check(ra.code == "PAM_AUTHINFO_UNAVAIL" and
          rb.code == "PAM_AUTHINFO_UNAVAIL", "neither succeeds", (ra, rb))


def test_shared_01c_enrollment_waiting_contests_a_login(h):
    """vivo-enroll waits for taps through the same rule: bob's request for
    alice and alice's `vivo-enroll test` both waiting, one tap: both
    refuse."""
    test_u2f.enroll_u2f(h, label="apex")
    su = Waiting(h, service=h.service("su", args="debug"), ruser="bob")
    su.wait_cue()
    p = subprocess.Popen([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                          "test", "--user", "alice", "--timeout", "6"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={"PATH": "/usr/bin:/bin"})
    p.stdout.readline()
    h.implant(hold=3.0, wait_present=False, **test_u2f.chip())
    out, err = p.communicate(timeout=30)
    r = su.result()
    check(p.returncode != 0 and "another request" in err, "the tool refuses",
          (out, err))
    check(r.code == "PAM_AUTHINFO_UNAVAIL" and
          any("vivo-enroll test" in e for e in r.errors),
          "the login refuses and names the tool", r)


def test_shared_02_sequential_requests_each_get_their_tap(h):
    """The rule costs nothing when requests come one after the other: two
    logins, two taps, two successes (no marker of the first blocks the
    second)."""
    test_u2f.enroll_u2f(h, label="apex")
    for _ in range(2):
        r, _ = test_u2f.tap(h)
        check(r.code == "PAM_SUCCESS", "one request, one tap", r)


def test_shared_03_helper_killed_while_waiting_blocks_nothing(h):
    """A helper killed (kill -9) while it waits leaves an entry nobody
    holds: the next request and its tap succeed at once."""
    test_u2f.enroll_u2f(h, label="apex")
    w = Waiting(h, service=h.service("su", args="debug"))
    w.wait_cue()
    pids = helpers_of(h)
    check(len(pids) == 1, "one helper waits", pids)
    os.kill(pids[0], signal.SIGKILL)
    w.result()
    left = [n for n in os.listdir(REGISTRY) if n.startswith("w.")]
    check(len(left) == 1, "its entry is still there (nobody removed it)", left)
    t0 = time.monotonic()
    r, _ = test_u2f.tap(h)
    check(r.code == "PAM_SUCCESS", "the next request is not blocked", r)
    check(time.monotonic() - t0 < 4, "and not delayed")
    left = [n for n in os.listdir(REGISTRY) if n.startswith("w.")]
    check(left == [], "the dead entry was swept", left)


def test_shared_04_registry_is_roots_sticky_directory(h):
    """The registry only works if nobody can remove another's entry."""
    test_u2f.enroll_u2f(h, label="apex")
    w = Waiting(h, service=h.service("su", args="debug"))
    w.wait_cue()
    st = os.stat(REGISTRY)
    check(st.st_uid == 0 and (st.st_mode & 0o7777) == 0o1777,
          "root's, 1777", oct(st.st_mode))
    entry = [n for n in os.listdir(REGISTRY) if n.startswith("w.")][0]
    r = subprocess.run(["setpriv", f"--reuid={USERS['bob']}",
                        f"--regid={USERS['bob']}", "--init-groups", "--",
                        "rm", "-f", f"{REGISTRY}/{entry}"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and os.path.exists(f"{REGISTRY}/{entry}"),
          "bob cannot remove a root-run request's entry", r.stderr)
    w.p.kill()
    w.result()


def test_shared_05_other_user_cannot_read_hmac_or_uid_data(h):
    """Finding 2: bob reads neither alice's hmac challenge and sealed state
    nor her UID hash; the public u2f data stays readable (screen
    lockers); alice's root-run hmac login still works."""
    test_hmac.enroll_hmac(h, label="apex-hmac")
    enroll_tap(h, user="alice", uid=ENROLLED, label="ntag")
    test_u2f.enroll_u2f(h, label="apex-u2f")
    as_bob = ["setpriv", f"--reuid={USERS['bob']}", f"--regid={USERS['bob']}",
              "--init-groups", "--"]
    r = subprocess.run(as_bob + ["cat", h.store_path("alice")],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "challenge" not in r.stdout,
          "bob cannot read the protected file", r)
    st = os.stat(h.store_path("alice"))
    check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o600, "0600 root",
          oct(st.st_mode))
    text = open(h.store_path("alice")).read()
    check("apex-hmac" in text and "ntag" in text and "apex-u2f" not in text,
          "hmac and uid entries live in the protected file", text)
    r = subprocess.run(as_bob + ["cat", h.store_path("alice", public=True)],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "apex-u2f" in r.stdout and
          "challenge" not in r.stdout and "hash" not in r.stdout,
          "the public part holds the u2f entry only", r)
    r = subprocess.run(as_bob + [h.enroll_bin, "--config",
                                 f"{ROOT}/etc/pam_vivo.conf", "list",
                                 "--user", "alice"],
                       capture_output=True, text=True)
    check(r.returncode != 0, "bob cannot list alice's implants", r)
    r, _ = test_hmac.tap(h)
    check(r.code == "PAM_SUCCESS" and any("method=hmac" in l for l in r.log),
          "alice's hmac login still works", r)


def test_shared_06_old_layout_is_migrated_with_nothing_lost(h):
    """A store of the old layout (one 0644 file with u2f, hmac and uid
    entries) is protected by the first root-run use: hmac and uid stay in
    the file, now 0600; the u2f entry moves to the public part; every
    entry still logs in."""
    test_hmac.enroll_hmac(h, label="apex-hmac")
    enroll_tap(h, user="alice", uid=ENROLLED, label="ntag")
    test_u2f.enroll_u2f(h, label="apex-u2f")
    # rebuild the old layout by hand: one file, 0644
    prot = open(h.store_path("alice")).read()
    pub = open(h.store_path("alice", public=True)).read()
    u2f_block = pub[pub.index("{"):pub.rindex("}") + 1]
    old = prot.rstrip().rstrip(");").rstrip() + ",\n" + u2f_block + "\n);\n"
    os.unlink(h.store_path("alice", public=True))
    with open(h.store_path("alice"), "w") as f:
        f.write(old)
    os.chmod(h.store_path("alice"), 0o644)
    r = subprocess.run([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                        "list", "--user", "alice"], capture_output=True,
                       text=True)
    check(r.returncode == 0 and all(l in r.stdout for l in
                                    ("apex-hmac", "ntag", "apex-u2f")),
          "root lists all three", r)
    st = os.stat(h.store_path("alice"))
    check((st.st_mode & 0o777) == 0o600, "the file is now 0600",
          oct(st.st_mode))
    check("apex-u2f" in open(h.store_path("alice", public=True)).read() and
          "apex-u2f" not in open(h.store_path("alice")).read(),
          "the u2f entry moved to the public part")
    r, _ = test_u2f.tap(h)
    check(r.code == "PAM_SUCCESS", "u2f after the migration", r)
    r, _ = test_u2f.tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "and for the screen locker", r)
    r, _ = test_hmac.tap(h)
    check(r.code == "PAM_SUCCESS", "hmac after the migration", r)


def test_shared_06b_migrate_command(h):
    """`vivo-enroll migrate` (what the package runs on upgrade) does the
    same for every user, and a second run finds nothing to do."""
    enroll_tap(h, user="bob", uid=ENROLLED, label="ntag")
    os.chmod(h.store_path("bob"), 0o644)
    r = h.enroll("migrate")
    check(r.returncode == 0 and "Protected the enrollments of bob" in r.stdout,
          "migrated", r)
    check((os.stat(h.store_path("bob")).st_mode & 0o777) == 0o600, "0600")
    r = h.enroll("migrate")
    check(r.returncode == 0 and "0 file(s) migrated" in r.stdout, "idempotent",
          r)
