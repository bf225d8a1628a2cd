# SPDX-License-Identifier: BSD-2-Clause
"""Issue 13: hand-scan login (no user named: the implant says who it is),
per-service rules, and the real callers: Debian's /bin/login on a
pseudo-terminal and su, in the private mount namespace with their
/etc/pam.d files bind-mounted."""

import crypt  # pylint: disable=deprecated-module
import os
import pty
import select
import subprocess
import time
import warnings

import harness
from harness import ROOT
from test_foundation import ENROLLED, OTHER, check, enroll_tap

IDCUE = "Hold your implant to the reader to log in..."
CUE = "Hold your implant to the reader..."
RPID = "pam://vivo-test"
PASSWORD = "correct horse battery"


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "uid", "fido2" ]', identify="true",
             fido2=f'{{ rpid = "{RPID}"; }}')
    h.service()
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("id-ctap2"):
            os.unlink(f"{ROOT}/tmp/{f}")


def scan(h, uid=ENROLLED, chip=None, service="vivo", **kw):
    """pam_authenticate without a user; the chip is tapped at the cue."""
    chip = chip or dict(personality="ntag216", uid=uid)
    cmd, log = h.tap_command(delay=0.1, hold=2.5, **chip)
    return h.pam("", service=service, on_info=cmd, **kw), log


def fido2_chip(name="r", uid="04AABBCCDD0099"):
    return dict(personality="apex", uid=uid,
                extra=["--ctap2", "--ctap2-state", f"{ROOT}/tmp/id-ctap2-{name}.json"])


def test_identify_01_uid_hand_scan(h):
    enroll_tap(h, user="alice", label="hand")
    r, _ = scan(h)
    check(r.code == "PAM_SUCCESS", "hand-scan login", r)
    check(r.user == "alice", "PAM_USER is the implant's owner", r)
    check(r.info == [IDCUE], "the hand-scan cue, no name prompt", r)
    check(r.echo_prompts == [], "no name asked", r)
    check(any("user=alice" in l and "hand-scan" in l and "PAM_SUCCESS" in l
              for l in r.log), "logged", r.log)


def test_identify_02_fido2_discoverable(h):
    rc, out, err = h.enroll_with_tap(
        ["add", "--method", "fido2", "--resident", "--user", "bob",
         "--label", "apex", "--timeout", "5"], fido2_chip())
    check(rc == 0, "enroll --resident", (out, err))
    check("resident = true" in open(h.store_path("bob", public=True)).read(),
          "discoverable")
    # another UID at login: only the discoverable credential can tell
    r, log = scan(h, chip=fido2_chip(uid="04000000000001"))
    check(r.code == "PAM_SUCCESS" and r.user == "bob", "found by fido2", r)
    check(any("method=fido2" in l for l in r.log), "proved by fido2", r.log)
    with open(log) as f:
        text = f.read()
    check(text.count("ctap2 getAssertion") >= 2,
          "discovery, then the named proof", text)


def test_identify_02b_u2f_by_its_uid(h):
    """A u2f enrollment of a chip with a fixed UID: the UID finds the
    user, the u2f signature proves it."""
    chip = dict(personality="apex", uid="04AABBCCDD0077",
                extra=["--u2f-state", f"{ROOT}/tmp/id-ctap2-u2f.json"])
    h.config(methods='[ "u2f" ]', identify="true",
             u2f=f'{{ appid = "{RPID}"; }}')
    rc, out, err = h.enroll_with_tap(
        ["add", "--method", "u2f", "--user", "carol", "--label", "apex",
         "--timeout", "5"], chip)
    check(rc == 0, "enroll u2f", (out, err))
    r, _ = scan(h, chip=chip)
    check(r.code == "PAM_SUCCESS" and r.user == "carol", "found by UID", r)
    check(any("method=u2f" in l for l in r.log), "proved by u2f", r.log)
    # the same UID on a chip without carol's key: found, not proved
    r, _ = scan(h, chip=dict(personality="apex", uid="04AABBCCDD0077"))
    check(r.code == "PAM_AUTH_ERR" and r.user is None,
          "a cloned UID alone is not enough for a u2f enrollment", r)
    check(r.errors == ["This implant was not accepted for hand-scan login."],
          "and the person at the prompt is not told whose UID it is", r)


def test_identify_03_chip_of_two_users_is_refused(h):
    enroll_tap(h, user="alice", label="hand")
    enroll_tap(h, user="bob", label="shared")
    r, _ = scan(h)
    check(r.code == "PAM_AUTH_ERR", "never picks one", r)
    check(r.user is None, "PAM_USER stays unset", r)
    check(any("more than one user" in e for e in r.errors), "says so", r)
    check(any("enrolled for 2 users" in l for l in r.log), "logged", r.log)


def test_identify_04_no_tap_and_unknown_chip(h):
    enroll_tap(h, user="alice", label="hand")
    h.config(methods='[ "uid" ]', identify="true", timeout="2")
    r = h.pam("")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "no tap: the next module asks",
          r)
    check(r.user is None, "no user set", r)
    h.config(methods='[ "uid" ]', identify="true")
    r, _ = scan(h, uid=OTHER)
    check(r.code == "PAM_AUTH_ERR" and r.user is None, "unknown chip", r)
    check(any("not enrolled for hand-scan" in e for e in r.errors), "says",
          r)


def test_identify_05_off_asks_the_name_first(h):
    enroll_tap(h, user="alice", label="hand")
    h.config(methods='[ "uid" ]')
    r, _ = scan(h, answer="alice")
    check(r.code == "PAM_SUCCESS" and r.user == "alice", "named login", r)
    check(len(r.echo_prompts) == 1, "the name was asked", r)
    check(r.info == [CUE], "then the usual cue", r)
    # a caller that is not root cannot identify: the name is asked too
    h.config(methods='[ "uid" ]', identify="true")
    os.chmod(f"{ROOT}/etc/pam_vivo.conf", 0o644)
    r = h.pam("", as_user="alice", answer="alice", timeout=20)
    check(len(r.echo_prompts) == 1 and IDCUE not in r.info,
          "not root: no hand-scan", r)


def test_identify_06_removal_clears_the_index(h):
    enroll_tap(h, user="alice", label="hand")
    p = h.enroll("remove", "--user", "alice", "--label", "hand")
    check(p.returncode == 0, "remove", p.stderr)
    left = [f for f in os.listdir(f"{ROOT}/store/.identify")
            if not f.startswith(".")]
    check(left == [], "no index entry left", left)
    r, _ = scan(h)
    check(r.code == "PAM_AUTH_ERR" and r.user is None, "gone", r)
    st = os.stat(f"{ROOT}/store/.identify")
    check(st.st_uid == 0 and st.st_mode & 0o777 == 0o700, "root's alone",
          oct(st.st_mode))


def test_identify_07_per_service_rules(h):
    enroll_tap(h, user="alice", label="hand")
    h.config(methods='[ "fido2" ]',
             services='{ vivo-locker = { methods = [ "uid" ]; timeout = 4; };'
                      ' vivo-login = { methods = [ "uid" ]; identify = true; }; }')
    h.service("vivo-locker")
    h.service("vivo-login")
    from test_foundation import pam_tap  # pylint: disable=import-outside-toplevel
    r, _ = pam_tap(h, service="vivo")
    check(r.code == "PAM_USER_UNKNOWN", "uid not allowed for this service",
          r)
    r, _ = pam_tap(h, service="vivo-locker")
    check(r.code == "PAM_SUCCESS", "uid allowed for the locker", r)
    r, _ = scan(h, service="vivo-login")
    check(r.code == "PAM_SUCCESS" and r.user == "alice",
          "identify only where the service says", r)
    r, _ = scan(h, service="vivo", answer="alice")
    check(len(r.echo_prompts) == 1, "elsewhere the name is asked", r)
    h.config(methods='[ "uid" ]', services='{ vivo = { pin = 1; }; }')
    r = h.pam("alice")
    check(r.code == "PAM_SYSTEM_ERR", "a bad services group is refused", r)
    check(any("services.vivo.pin: unknown setting" in l for l in r.log),
          "named", r.log)


def test_identify_08_silent_and_deaf_callers(h):
    enroll_tap(h, user="alice", label="hand")
    # a caller that passes PAM_SILENT: the cue still goes out
    r, _ = scan(h, silent=True)
    check(r.code == "PAM_SUCCESS" and r.user == "alice", "PAM_SILENT", r)
    # a caller whose conversation shows nothing: the person taps anyway
    h.implant(uid=ENROLLED, delay=1.0, hold=2.5, wait_present=False)
    r = h.pam("", conv="null")
    check(r.code == "PAM_SUCCESS" and r.user == "alice",
          "a caller that ignores PAM_TEXT_INFO", r)


# ---- the real programs -----------------------------------------------

def _set_password(user):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        hashed = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_SHA512))
    path = f"{ROOT}/etc/shadow"
    lines = open(path).read().splitlines(True)
    with open(path, "w") as f:
        for l in lines:
            if l.startswith(user + ":"):
                l = f"{user}:{hashed}:" + l.split(":", 2)[2]
            f.write(l)


def _mount_pam(h, service, first="[success=done default=ignore]"):
    path = f"{ROOT}/etc/pam-{service}"
    with open(path, "w") as f:
        f.write(f"auth {first} {h.module} helper={h.helper} "
                f"config={ROOT}/etc/pam_vivo.conf\n"
                "auth required pam_unix.so\n"
                "account required pam_unix.so\n"
                "session required pam_unix.so\n")
    subprocess.run(["mount", "--bind", path, f"/etc/pam.d/{service}"],
                   check=True)


def _umount(service):
    subprocess.run(["umount", f"/etc/pam.d/{service}"], check=False)


def _converse(h, argv, script, timeout=40, as_user=None):
    """Run argv on a pseudo-terminal; script is a list of (expect, action):
    when `expect` appears in the output, action is a str to type or a
    callable. Returns the whole output."""
    master, slave = pty.openpty()
    pre = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}",
           "--init-groups", "--"] if as_user else []
    p = subprocess.Popen(pre + argv, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True,
                         env={"PATH": "/usr/bin:/bin", "LANG": "C",
                              "TERM": "dumb"})
    os.close(slave)
    buf, seen, step = b"", 0, 0
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
        while step < len(script) and \
                script[step][0].encode() in buf[seen:]:
            seen = buf.index(script[step][0].encode(), seen) + \
                len(script[step][0])
            action = script[step][1]
            if callable(action):
                action()
            else:
                os.write(master, action.encode())
            step += 1
        if not r and p.poll() is not None:
            break
    if p.poll() is None:
        p.kill()
    p.wait()
    os.close(master)
    h.clear_readers()
    return buf.decode(errors="replace"), step == len(script)


def _real_programs_only_plain():
    """Like test_sudo: a real setuid program cannot load a module built
    with ASan (its runtime must come first in the program's libraries)."""
    if os.environ.get("VIVO_SANITIZE") == "1":
        raise harness.Skip("not run under SANITIZE=1: /bin/login and su "
                           "cannot load a sanitized module (the plain make "
                           "check runs it)")


def _tap(h, uid=ENROLLED):
    return lambda: h.implant(uid=uid, hold=3.0, wait_present=False)


def test_identify_09_real_login_hand_scan(h):
    _real_programs_only_plain()
    enroll_tap(h, user="alice", label="hand")
    _set_password("alice")
    _mount_pam(h, "login")
    try:
        out, done = _converse(h, ["/bin/login"], [
            ("to log in", _tap(h)),
            ("$ ", "id -un; exit\n"),
        ])
        check(done and "\nalice" in out.replace("\r", ""),
              "a shell as alice, no name typed", out)
        check("login:" not in out, "no name asked", out)
        # without a tap the name and password path still works
        h.config(methods='[ "uid" ]', identify="true", timeout="2")
        out, done = _converse(h, ["/bin/login"], [
            ("to log in", lambda: None),
            ("login: ", "alice\n"),
            ("Password: ", PASSWORD + "\n"),
            ("$ ", "id -un; exit\n"),
        ])
        check(done and "\nalice" in out.replace("\r", ""),
              "the password after no tap", out)
        # identify off: the name first, then the tap
        h.config(methods='[ "uid" ]')
        out, done = _converse(h, ["/bin/login"], [
            ("login: ", "alice\n"),
            ("Hold your implant", _tap(h)),
            ("$ ", "id -un; exit\n"),
        ])
        check(done and "\nalice" in out.replace("\r", "") and
              "to log in" not in out, "name, then tap", out)
    finally:
        _umount("login")


def test_identify_10_real_su_with_service_rules(h):
    _real_programs_only_plain()
    enroll_tap(h, user="alice", label="hand")
    h.config(methods='[ "fido2" ]',
             services='{ su = { methods = [ "uid" ]; }; }')
    _mount_pam(h, "su", first="sufficient")
    try:
        out, done = _converse(h, ["su", "alice", "-c", "id -un"], [
            ("Hold your implant", _tap(h)),
            ("alice", lambda: None),
        ], as_user="bob")
        check(done, "bob becomes alice by alice's implant (su's rule)", out)
        # the same stack under another service name: uid is not allowed
        h.config(methods='[ "fido2" ]',
                 services='{ sudo = { methods = [ "uid" ]; }; }')
        out, done = _converse(h, ["su", "alice", "-c", "id -un"], [
            ("Password: ", "wrong\n"),
        ], as_user="bob", timeout=20)
        check(done and "Hold your implant" not in out,
              "no tap offered where uid is not allowed", out)
    finally:
        _umount("su")
