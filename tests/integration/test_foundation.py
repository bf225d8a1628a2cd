# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2: tap -> PAM answer, end to end, with the `uid` method.

Every case asserts the exact PAM code, and where it matters what the
person saw and what was logged. Runs through the real libpam (pamdrive,
pam_start_confdir), the real module and helper, a real pcscd with vpcd and
an independent virtual implant.
"""

import os
import subprocess

from harness import ROOT, USERS
import fakehelper

ENROLLED = "04A1B2C3D4E5F6"   # alice's implant (NTAG216-style UID)
OTHER = "04112233445566"      # somebody else's chip
CUE = "Hold your implant to the reader..."


def setup(h):
    """Every test starts from: no chip on any reader, empty stores, the
    default test config and service."""
    h.clear_readers()
    h.reset_store()
    h.config()
    h.service()


def check(cond, what, obj=None):
    if not cond:
        raise AssertionError(what + (f": {obj!r}" if obj is not None else ""))


def enroll_tap(h, user=None, uid=ENROLLED, label=None, as_user=None,
               personality="ntag216", expect_ok=True):
    """vivo-enroll add --method uid, tapping the implant after its prompt."""
    args = ["add", "--method", "uid", "--timeout", "5"]
    if user:
        args += ["--user", user]
    if label:
        args += ["--label", label]
    rc, out, err = h.enroll_with_tap(args, dict(personality=personality,
                                                uid=uid), as_user=as_user,
                                     hold=2.0)
    if expect_ok:
        check(rc == 0, "enroll failed", (out, err))
        check("Hold the implant" in out, "enroll prompt", out)
    return rc, out, err


def pam_tap(h, user="alice", uid=ENROLLED, personality="ntag216", **kw):
    """pam_authenticate, with the chip tapped when the cue appears."""
    cmd, log = h.tap_command(personality=personality, uid=uid, delay=0.1,
                             hold=2.0)
    r = h.pam(user, on_info=cmd, **kw)
    return r, log


def apdus(log):
    try:
        with open(log) as f:
            return [l[2:].strip().upper().replace(" ", "")
                    for l in f if l.startswith("> ")]
    except FileNotFoundError:
        return []


# 1 ---------------------------------------------------------------------
def test_01_enrolled_chip_tapped_after_prompt_succeeds(h):
    enroll_tap(h, user="alice", label="left hand")
    r, log = pam_tap(h)
    check(r.code == "PAM_SUCCESS", "expected success", r)
    check(r.info == [CUE], "the cue must be shown exactly once", r)
    check(r.errors == [], "no error message on success", r)
    check(apdus(log) == ["FFCA000000"], "exactly one GET DATA UID", apdus(log))
    check(any('implant="left hand"' in l and "method=uid" in l for l in r.log),
          "one log line naming method and implant", r.log)
    check(not any(ENROLLED.lower() in l.lower() for l in r.log),
          "the UID must never be logged", r.log)


# 2 ---------------------------------------------------------------------
def test_02_other_chip_is_auth_err(h):
    enroll_tap(h, user="alice")
    r, _ = pam_tap(h, uid=OTHER)
    check(r.code == "PAM_AUTH_ERR", "expected PAM_AUTH_ERR", r)
    check(r.errors == ["This implant is not enrolled for alice."],
          "the person is told", r)


def test_02b_chip_without_uid_is_auth_err(h):
    enroll_tap(h, user="alice")
    r, _ = pam_tap(h, personality="no-uid", uid=None)
    check(r.code == "PAM_AUTH_ERR", "expected PAM_AUTH_ERR", r)


# 3 ---------------------------------------------------------------------
def test_03_no_tap_is_authinfo_unavail_within_timeout(h):
    enroll_tap(h, user="alice")
    h.config(timeout="2")
    r = h.pam("alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "expected AUTHINFO_UNAVAIL", r)
    check(r.elapsed_ms <= 3000, "must answer within timeout + 1 s", r)
    check(r.elapsed_ms >= 1900, "must wait the whole timeout", r)
    check(r.errors == ["No implant was presented within 2 s."], "message", r)


def test_03b_pam_timeout_argument_overrides_config(h):
    enroll_tap(h, user="alice")
    h.config(timeout="30")
    h.service(args="timeout=1")
    r = h.pam("alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "expected AUTHINFO_UNAVAIL", r)
    check(r.elapsed_ms <= 2000, "timeout=1 must win over the config", r)


# 4 ---------------------------------------------------------------------
def test_04_chip_already_present_is_not_accepted(h):
    enroll_tap(h, user="alice")
    h.config(timeout="2")
    imp = h.implant(uid=ENROLLED)           # lying on the reader already
    r = h.pam("alice")
    imp.stop()
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "a stale chip must not count", r)
    check(apdus(imp.log) == [], "the stale chip was not even read", apdus(imp.log))


def test_04b_chip_lifted_and_presented_again_is_accepted(h):
    enroll_tap(h, user="alice")
    h.config(timeout="5")
    imp = h.implant(uid=ENROLLED)
    # at the cue: lift the chip (kill that implant), present it again
    cmd2, log2 = h.tap_command(uid=ENROLLED, delay=0.8, hold=2.0)
    lift = f"kill {imp.proc.pid}; {cmd2}"
    r = h.pam("alice", on_info=lift)
    check(r.code == "PAM_SUCCESS", "lifted and presented again", r)
    check(apdus(imp.log) == [], "the stale presentation was not read", imp.log)


# 5 ---------------------------------------------------------------------
def test_05_not_enrolled_is_user_unknown(h):
    r = h.pam("bob")
    check(r.code == "PAM_USER_UNKNOWN", "expected USER_UNKNOWN", r)
    check(r.info == [], "no cue for a user who cannot tap anyway", r)


def test_05b_not_enrolled_with_nouserok_is_ignore(h):
    """PAM_IGNORE is visible only through the stack: a module answering
    PAM_IGNORE is skipped, and pam_debug then answers CRED_INSUFFICIENT;
    any other answer of pam_vivo ends the stack with that answer."""
    with open(f"{ROOT}/pam.d/vivo", "w") as f:
        f.write(f"auth [ignore=ignore default=done] {h.module} "
                f"helper={h.helper} config={ROOT}/etc/pam_vivo.conf nouserok\n"
                "auth required pam_debug.so auth=cred_insufficient\n")
    r = h.pam("bob")
    check(r.code == "PAM_CRED_INSUFFICIENT", "pam_vivo answered PAM_IGNORE", r)
    check(CUE not in r.info, "no cue", r)
    enroll_tap(h, user="alice")
    r, _ = pam_tap(h)
    check(r.code == "PAM_SUCCESS", "an enrolled user still authenticates", r)


def test_05c_unknown_account_is_user_unknown(h):
    r = h.pam("nosuchuser")
    check(r.code == "PAM_USER_UNKNOWN", "expected USER_UNKNOWN", r)


# 6 ---------------------------------------------------------------------
def test_06_remote_request_declined_by_default(h):
    enroll_tap(h, user="alice")
    r, log = pam_tap(h, rhost="203.0.113.7")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "remote must be declined", r)
    check(r.info == [], "no cue for a declined remote request", r)
    check(apdus(log) == [], "no chip read for a remote request", apdus(log))
    check(any("PAM_RHOST" in l for l in r.log), "logged why", r.log)


def test_06b_remote_allowed_by_config(h):
    enroll_tap(h, user="alice")
    h.config(allow_remote="true")
    r, _ = pam_tap(h, rhost="203.0.113.7")
    check(r.code == "PAM_SUCCESS", "allow_remote = true", r)


# 7 ---------------------------------------------------------------------
def test_07_uid_not_in_methods_is_not_accepted(h):
    enroll_tap(h, user="alice")
    h.config(methods='[ "u2f", "hmac" ]')
    r, log = pam_tap(h)
    check(r.code != "PAM_SUCCESS", "uid must be refused when not listed", r)
    check(r.code == "PAM_USER_UNKNOWN", "no usable enrollment", r)
    check(apdus(log) == [], "nothing read from the chip", apdus(log))


def test_07b_default_config_does_not_allow_uid(h):
    enroll_tap(h, user="alice")
    h.config(methods=None)      # no methods line: default u2f, hmac
    r, _ = pam_tap(h)
    check(r.code == "PAM_USER_UNKNOWN", "uid is off by default", r)


# 8 ---------------------------------------------------------------------
def test_08_group_writable_enrollment_is_auth_err(h):
    enroll_tap(h, user="alice")
    os.chmod(h.store_path("alice"), 0o664)
    r, _ = pam_tap(h)
    check(r.code == "PAM_AUTH_ERR", "unsafe file", r)
    check(any("group/world-writable" in l for l in r.log), "logged", r.log)


def test_08b_world_writable_enrollment_is_auth_err(h):
    enroll_tap(h, user="alice")
    os.chmod(h.store_path("alice"), 0o646)
    r, _ = pam_tap(h)
    check(r.code == "PAM_AUTH_ERR", "unsafe file", r)


def test_08c_symlinked_enrollment_is_auth_err(h):
    enroll_tap(h, user="alice")
    real = f"{ROOT}/etc/alice.real"
    os.rename(h.store_path("alice"), real)
    os.symlink(real, h.store_path("alice"))
    r, _ = pam_tap(h)
    check(r.code == "PAM_AUTH_ERR", "a symlink is never followed", r)
    check(any("symbolic link" in l for l in r.log), "logged", r.log)


def test_08d_enrollment_owned_by_another_user_is_auth_err(h):
    enroll_tap(h, user="alice")
    os.chown(h.store_path("alice"), USERS["bob"], USERS["bob"])
    r, _ = pam_tap(h)
    check(r.code == "PAM_AUTH_ERR", "wrong owner", r)


def test_08e_unreadable_enrollment_is_not_missing(h):
    """EACCES is not ENOENT: even with nouserok, an unreadable store must
    not be taken as 'not enrolled' (CVE-2020-24612 class). The protected
    file is root's alone by design: a caller running as the user gets
    'unavailable' (the password still works); the public part is meant to
    be readable: EACCES there is an unsafe store."""
    enroll_tap(h, user="alice")
    h.service(args="nouserok")
    os.chmod(h.config(), 0o644)
    r = h.pam("alice", as_user="alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "protected file: unavailable", r)
    check(any("root's alone" in l for l in r.log), "logged", r.log)
    pub = h.store_path("alice", public=True)
    os.makedirs(os.path.dirname(pub), exist_ok=True)
    with open(pub, "w") as f:
        f.write("version = 1;\nimplants = ();\n")
    os.chmod(pub, 0o600)
    r = h.pam("alice", as_user="alice")
    check(r.code == "PAM_AUTH_ERR", "EACCES must be AUTH_ERR", r)
    check(any("permission denied" in l for l in r.log), "logged", r.log)


def test_08f_writable_store_directory_is_auth_err(h):
    enroll_tap(h, user="alice")
    os.chmod(f"{ROOT}/store", 0o777)
    r, _ = pam_tap(h)
    os.chmod(f"{ROOT}/store", 0o755)
    check(r.code == "PAM_AUTH_ERR", "unsafe parent directory", r)


def test_08g_corrupt_enrollment_is_auth_err(h):
    with open(h.store_path("alice"), "w") as f:
        f.write("version = 1;\nimplants = ( { label = \"x\"; } );\n")
    r = h.pam("alice")
    check(r.code == "PAM_AUTH_ERR", "corrupt file", r)


def test_08h_enrollment_with_include_is_refused(h):
    with open(h.store_path("alice"), "w") as f:
        f.write('@include "/etc/shadow"\nversion = 1;\nimplants = ();\n')
    r = h.pam("alice")
    check(r.code == "PAM_AUTH_ERR", "@include must be refused", r)


# 9 ---------------------------------------------------------------------
def test_09_pcscd_not_running_is_authinfo_unavail(h):
    enroll_tap(h, user="alice")
    h.stop_pcscd()
    try:
        r = h.pam("alice")
    finally:
        h.start_pcscd()
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "no pcscd", r)
    check(r.elapsed_ms < 2000, "fails fast", r)
    check(r.errors and "pcscd" in r.errors[0], "the person is told", r)


def test_09b_missing_helper_is_not_success(h):
    enroll_tap(h, user="alice")
    with open(f"{ROOT}/pam.d/vivo", "w") as f:
        f.write(f"auth required {h.module} helper={ROOT}/bin/nonexistent "
                f"config={ROOT}/etc/pam_vivo.conf\n")
    r, _ = pam_tap(h)
    check(r.code == "PAM_SYSTEM_ERR", "missing helper", r)


def test_09c_helper_that_is_not_our_helper_is_not_success(h):
    with open(f"{ROOT}/pam.d/vivo", "w") as f:
        f.write(f"auth required {h.module} helper=/bin/true "
                f"config={ROOT}/etc/pam_vivo.conf\n")
    r = h.pam("alice")
    check(r.code == "PAM_SYSTEM_ERR", "a helper that says nothing", r)


def test_09d_invalid_config_is_system_err(h):
    enroll_tap(h, user="alice")
    h.config(methods='[ "uid", "retina" ]')
    r = h.pam("alice")
    check(r.code == "PAM_SYSTEM_ERR", "invalid config", r)
    check(any("unknown method" in l for l in r.log), "logged", r.log)


def test_09e_unknown_module_argument_is_system_err(h):
    h.service(args="nouserokk")
    r = h.pam("alice")
    check(r.code == "PAM_SYSTEM_ERR", "a typo is not ignored", r)


# 10 --------------------------------------------------------------------
def test_10_caller_environment_has_no_effect(h):
    """A caller-controlled PCSCLITE_CSOCK_NAME (and friends) must not reach
    the helper: it still talks to the real pcscd and its answer stands."""
    enroll_tap(h, user="alice")
    import socket
    fake = f"{ROOT}/tmp/fake-pcscd.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(fake)
    s.listen(1)
    env = {"PATH": "/usr/bin:/bin", "PCSCLITE_CSOCK_NAME": fake,
           "LD_PRELOAD": "/nonexistent.so", "HOME": "/nonexistent"}
    cmd, _ = h.tap_command(uid=ENROLLED, delay=0.1, hold=2.0)
    r = h.pam("alice", on_info=cmd, env=env)
    s.close()
    check(r.code == "PAM_SUCCESS", "the real pcscd must have been used", r)


def test_10b_helper_gets_no_environment_and_no_descriptors(h):
    """The helper refuses to run with extra descriptors; prove the module
    gives it none by running it through the module with a caller that has
    many open descriptors."""
    enroll_tap(h, user="alice")
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(5)]
    for fd in fds:
        os.set_inheritable(fd, True)
    try:
        cmd, _ = h.tap_command(uid=ENROLLED, delay=0.1, hold=2.0)
        args = [h.pamdrive, "--confdir", f"{ROOT}/pam.d", "--service", "vivo",
                "--user", "alice", "--on-info", cmd]
        p = subprocess.run(args, capture_output=True, text=True, pass_fds=fds,
                           timeout=30)
    finally:
        for fd in fds:
            os.close(fd)
    check("result: 0 PAM_SUCCESS" in p.stdout, "works with leaked fds", p.stdout)


def test_10c_caller_with_closed_standard_descriptors(h):
    """Some daemons run with 0, 1 and 2 closed; the module's socket and
    /dev/null then get those numbers. The helper must still get its
    request on 0, answer on 1 and have /dev/null on 2."""
    enroll_tap(h, user="alice")
    cmd, _ = h.tap_command(uid=ENROLLED, delay=0.1, hold=2.0)
    p = subprocess.run([h.pamdrive, "--confdir", f"{ROOT}/pam.d", "--service",
                        "vivo", "--user", "alice", "--on-info", cmd,
                        "--close-std"], capture_output=True, text=True,
                       timeout=30)
    check("result: 0 PAM_SUCCESS" in p.stdout,
          "works for a caller without stdin, stdout and stderr", p.stdout)
    h.clear_readers()
    cmd, _ = h.tap_command(uid=OTHER, delay=0.1, hold=2.0)
    p = subprocess.run([h.pamdrive, "--confdir", f"{ROOT}/pam.d", "--service",
                        "vivo", "--user", "alice", "--on-info", cmd,
                        "--close-std"], capture_output=True, text=True,
                       timeout=30)
    check("result: 7 PAM_AUTH_ERR" in p.stdout, "and still refuses another "
          "chip", p.stdout)


# 11 --------------------------------------------------------------------
def test_11_screen_locker_user_store(h):
    """A non-root caller (a screen locker running as alice) with the user
    store: enroll as alice, authenticate as alice."""
    h.config(user_store="true")
    rc, out, err = enroll_tap(h, as_user="alice")
    check("implants" in out and "/home/alice/.config/pam_vivo" in out,
          "enrolled in the user store", out)
    st = os.stat(f"{ROOT}/home/alice/.config/pam_vivo/implants")
    check(st.st_uid == USERS["alice"] and (st.st_mode & 0o777) == 0o600,
          "user store file owned by alice, 0600", oct(st.st_mode))
    r, _ = pam_tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "screen locker success", r)
    r, _ = pam_tap(h, uid=OTHER, as_user="alice")
    check(r.code == "PAM_AUTH_ERR", "screen locker, other chip", r)
    h.config(user_store="true", timeout="1")
    r = h.pam("alice", as_user="alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "screen locker, no tap", r)


def test_11b_root_run_request_ignores_the_user_store(h):
    """Shared-machine finding 4: whatever runs as alice can write her user
    store, so a root-run request (sudo, su, login) ignores it and says so
    in the debug log; a request running as alice (the screen locker)
    still uses it, and a root-only file in her home is refused there."""
    h.config(user_store="true")
    h.service(args="debug")
    enroll_tap(h, as_user="alice")
    r, _ = pam_tap(h)
    check(r.code == "PAM_USER_UNKNOWN", "root-run: alice's own file opens "
          "nothing", r)
    check(any("user store of alice ignored" in l for l in r.log),
          "the debug log says why", r.log)
    r, _ = pam_tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "the screen locker uses it", r)
    path = f"{ROOT}/home/alice/.config/pam_vivo/implants"
    os.chown(path, 0, 0)
    os.chmod(path, 0o600)
    r, _ = pam_tap(h, as_user="alice")
    check(r.code == "PAM_AUTH_ERR", "root-only file in a home is unreadable "
          "to the user, so refused", r)


def test_11c_screen_locker_and_the_protected_store(h):
    """A uid enrollment lives in the protected file, root's alone (0600):
    root-run requests use it; a screen locker running as alice may not
    read it and answers 'unavailable' (the password still works), never
    'not enrolled'. Public u2f entries: test_u2f_07."""
    enroll_tap(h, user="alice")
    st = os.stat(h.store_path("alice"))
    check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o600, "root's, 0600",
          oct(st.st_mode))
    r, _ = pam_tap(h)
    check(r.code == "PAM_SUCCESS", "root-run request", r)
    r, _ = pam_tap(h, as_user="alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "screen locker: unavailable", r)


def test_11d_user_store_off_is_not_read(h):
    h.config(user_store="true")
    enroll_tap(h, as_user="alice")
    h.config(user_store="false")
    r, _ = pam_tap(h, as_user="alice")
    check(r.code == "PAM_USER_UNKNOWN", "user store off: not enrolled", r)


def test_11e_config_owned_by_another_user_is_refused(h):
    enroll_tap(h, user="alice")
    h.config(owner=USERS["bob"])
    r = h.pam("alice", as_user="alice")
    check(r.code == "PAM_SYSTEM_ERR", "bob's config for alice", r)


# 12 --------------------------------------------------------------------
def test_12_enroll_round_trip(h):
    enroll_tap(h, user="alice", uid=ENROLLED, label="left")
    enroll_tap(h, user="alice", uid=OTHER, label="right")
    l = h.enroll("list", "--user", "alice")
    check(l.returncode == 0 and "left" in l.stdout and "right" in l.stdout,
          "list shows both", l.stdout)
    rm = h.enroll("remove", "--label", "left", "--user", "alice")
    check(rm.returncode == 0, "remove", rm.stderr)
    l = h.enroll("list", "--user", "alice")
    check("left" not in l.stdout and "right" in l.stdout, "one left", l.stdout)
    r, _ = pam_tap(h, uid=OTHER)
    check(r.code == "PAM_SUCCESS", "the remaining implant works", r)
    r, _ = pam_tap(h, uid=ENROLLED)
    check(r.code == "PAM_AUTH_ERR", "the removed one does not", r)
    # test: exactly the module's check
    p = subprocess.Popen([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                          "test", "--user", "alice"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    imp = h.implant(uid=OTHER, hold=2.0, wait_present=False)
    out, err = p.communicate(timeout=15)
    imp.stop()
    check(p.returncode == 0 and "accepted" in out, "test succeeds", (out, err))


def test_12b_remove_unknown_label_fails_and_keeps_file(h):
    enroll_tap(h, user="alice", label="left")
    before = open(h.store_path("alice")).read()
    rm = h.enroll("remove", "--label", "nope", "--user", "alice")
    check(rm.returncode != 0 and "no implant labelled" in rm.stderr,
          "clear error", rm.stderr)
    check(open(h.store_path("alice")).read() == before, "file untouched")


def test_12c_enroll_refuses_random_uid(h):
    rc, out, err = enroll_tap(h, user="alice", personality="random-uid",
                              uid=None, expect_ok=False)
    check(rc != 0 and "random ID" in err, "random UID refused", (out, err))
    check(not os.path.exists(h.store_path("alice")), "nothing written")


def test_12d_enroll_warns_uid_is_cloneable(h):
    rc, out, err = enroll_tap(h, user="alice")
    check("can copy its UID" in out, "the clone warning", out)


def test_12e_enroll_refuses_duplicates(h):
    enroll_tap(h, user="alice", label="left")
    rc, out, err = enroll_tap(h, user="alice", label="left", uid=OTHER,
                              expect_ok=False)
    check(rc != 0 and "already has an implant labelled" in err, "label", err)
    rc, out, err = enroll_tap(h, user="alice", label="again", expect_ok=False)
    check(rc != 0 and "already enrolled" in err, "same chip twice", err)


def test_12f_enroll_for_another_user_needs_root(h):
    h.config(user_store="true")
    r = h.enroll("list", "--user", "bob", as_user="alice")
    check(r.returncode != 0 and "needs root" in r.stderr, "refused", r.stderr)


def test_12g_store_file_is_complete_after_each_write(h):
    """The store is replaced atomically: no temp files left behind, the
    mode is 0600 (it holds UID hashes) and root owns it."""
    enroll_tap(h, user="alice", label="a")
    enroll_tap(h, user="alice", label="b", uid=OTHER)
    names = sorted(os.listdir(f"{ROOT}/store"))
    check(names == [".identify", ".lock", "alice"],
          "no leftovers (the writers' lock file stays; .identify is the "
          "hand-scan index)", names)
    idx = sorted(os.listdir(f"{ROOT}/store/.identify"))
    check(len(idx) == 4 and idx[:2] == [".key", ".lock"] and
          not any(".tmp." in n for n in idx),
          "the index: its key, its lock and one file per chip, no leftovers",
          idx)
    st = os.stat(f"{ROOT}/store/.lock")
    check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o600,
          "the lock file is root's alone", oct(st.st_mode))
    st = os.stat(h.store_path("alice"))
    check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o600, "owner/mode",
          oct(st.st_mode))


def test_12h_probe_describes_the_chip(h):
    imp = h.implant(uid=ENROLLED)
    p = h.enroll("probe", "--timeout", "2")
    imp.stop()
    check(p.returncode == 0, "probe", p.stderr)
    check("UID: 04 A1 B2 C3 D4 E5 F6" in p.stdout, "UID shown", p.stdout)
    check("MIFARE Ultralight / NTAG21x" in p.stdout, "ATR decoded", p.stdout)
    check("uid (cloneable)" in p.stdout, "methods", p.stdout)


# module shape -------------------------------------------------------------
def test_13_module_exports_only_the_pam_entry_points(h):
    import harness
    exp = os.path.join(harness.BUILD, "tests", "exports")
    p = subprocess.run([exp, h.module], capture_output=True, text=True)
    check(p.returncode == 0, "dlsym export check", p.stdout)
    nm = subprocess.run(["nm", "-D", "--defined-only", h.module],
                        capture_output=True, text=True).stdout.split()
    syms = sorted(s for s in nm if s.startswith("pam_") or s.startswith("vivo"))
    check(syms == ["pam_sm_authenticate", "pam_sm_setcred"], "nm -D", syms)


def test_14_conversation_failure_is_never_success(h):
    enroll_tap(h, user="alice")
    r = h.pam("alice", conv="fail")
    check(r.code == "PAM_CONV_ERR", "conversation error", r)


def test_14b_conversation_null_response_to_info_still_works(h):
    enroll_tap(h, user="alice")
    cmd, _ = h.tap_command(uid=ENROLLED, delay=0.1, hold=2.0)
    r = h.pam("alice", conv="null", on_info=cmd)
    check(r.code == "PAM_SUCCESS", "TEXT_INFO needs no response", r)


# the helper on its own --------------------------------------------------
_msg = fakehelper.msg   # one independent encoder for all the tests


def _parse(data):
    n = int.from_bytes(data[:4], "big")
    body = data[4:4 + n]
    out = {"version": body[0], "type": body[1]}
    i = 2
    while i < len(body):
        tag, ln = body[i], int.from_bytes(body[i + 1:i + 3], "big")
        out[tag] = body[i + 3:i + 3 + ln]
        i += 3 + ln
    return out


def _run_helper(h, request, pass_fds=()):
    import socket
    a, b = socket.socketpair()
    p = subprocess.Popen([h.helper], stdin=b.fileno(), stdout=b.fileno(),
                         stderr=subprocess.DEVNULL, env={},
                         pass_fds=pass_fds, close_fds=True)
    b.close()
    if request:
        a.sendall(request)
    a.settimeout(10)
    data = b""
    while True:
        chunk = a.recv(65536)
        if not chunk:
            break
        data += chunk
    a.close()
    rc = p.wait(10)
    return rc, data


AUTH = 1
RESULT = 3


def _auth(user="alice", timeout=1, flags=0):
    return _msg(AUTH, [(1, user), (2, f"{ROOT}/etc/pam_vivo.conf"),
                       (3, timeout), (4, flags)])


def test_15_helper_refuses_leaked_descriptors(h):
    """CVE-2019-12210 class: the helper checks it has only 0/1/2 open."""
    enroll_tap(h, user="alice")
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        # no request at all: the check comes before anything is read
        rc, data = _run_helper(h, b"", pass_fds=(fd,))
    finally:
        os.close(fd)
    m = _parse(data)
    check(m["type"] == RESULT and int.from_bytes(m[5], "big") == 6,
          "RESULT internal-error", m)
    check(b"descriptors" in m[7], "the reason says why", m)


def test_15b_helper_refuses_other_protocol_versions(h):
    enroll_tap(h, user="alice")
    bad = _auth()
    bad = bad[:4] + bytes([2]) + bad[5:]
    rc, data = _run_helper(h, bad)
    m = _parse(data)
    check(m["type"] == RESULT and int.from_bytes(m[5], "big") == 6,
          "version 2 refused", m)


def test_15c_helper_answers_no_enrollment_directly(h):
    rc, data = _run_helper(h, _auth(user="bob"))
    m = _parse(data)
    check(rc == 0 and m["type"] == RESULT and int.from_bytes(m[5], "big") == 1,
          "no enrollment", m)
