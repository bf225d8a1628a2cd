# SPDX-License-Identifier: BSD-2-Clause
"""Issue 14: the login secret sealed under the implant, released as
PAM_AUTHTOK to the modules after ours. The receiving module is linux-pam's
own pam_exec with expose_authtok, which hands PAM_AUTHTOK to a script on
its standard input; the script keeps it in a root-only file the test
reads. The password is checked (vivo-enroll authtok set --check-with) by
pam_unix through a /etc/pam.d/login bind-mounted in the private mount
namespace."""

import os
import stat
import subprocess

from harness import ROOT, require
from test_foundation import check
from test_hmac import KEY, chip as hmac_chip, enroll_hmac
from test_identify import PASSWORD, _mount_pam, _set_password, _umount

RPID = "pam://vivo-test"
CAUGHT = f"{ROOT}/tmp/authtok-caught/got"


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "hmac", "fido2", "uid" ]', authtok="true",
             fido2=f'{{ rpid = "{RPID}"; }}')
    h.service()
    d = os.path.dirname(CAUGHT)
    os.makedirs(d, mode=0o700, exist_ok=True)
    if os.path.exists(CAUGHT):
        os.unlink(CAUGHT)
    script = f"{ROOT}/bin/catch-authtok"
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\numask 077\ncat > {CAUGHT}\n")
    os.chmod(script, 0o755)
    with open(f"{ROOT}/pam.d/vivo-tok", "w") as f:
        f.write(f"auth required {h.module} helper={h.helper} "
                f"config={ROOT}/etc/pam_vivo.conf\n"
                f"auth optional pam_exec.so expose_authtok quiet {script}\n"
                "account required pam_permit.so\n")
    _set_password("alice")
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("tok-"):
            os.unlink(f"{ROOT}/tmp/{f}")


def caught():
    """What pam_exec's script received: None when it did not run, "" when
    it ran without a password (pam_exec asked the conversation, which
    gives none)."""
    try:
        with open(CAUGHT, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    os.unlink(CAUGHT)
    return data.rstrip(b"\0").decode()


def login(h, chipargs, user="alice", **kw):
    cmd, log = h.tap_command(delay=0.1, hold=2.5, **chipargs)
    return h.pam(user, service="vivo-tok", on_info=cmd, **kw), log


def seal(h, chipargs, password=PASSWORD, user="alice", extra=(),
         expect_ok=True):
    _mount_pam(h, "login", first="optional")
    try:
        rc, out, err = h.enroll_with_tap(
            ["authtok", "set", "--user", user, "--authtok-stdin",
             "--check-with", "login", "--timeout", "5"] + list(extra),
            chipargs, stdin=password + "\n")
    finally:
        _umount("login")
    if expect_ok:
        check(rc == 0 and "Sealed" in out, "authtok set", (out, err))
    return rc, out, err


def sealed_file(user="alice"):
    return f"{ROOT}/store/.authtok/{user}"


def fido2_chip(name="f"):
    return dict(personality="apex", uid="04AABBCCDD0042",
                extra=["--ctap2", "--ctap2-state", f"{ROOT}/tmp/tok-{name}.json"])


def test_authtok_01_hmac_hands_the_password_over(h):
    enroll_hmac(h, label="apex")
    rc, out, err = seal(h, hmac_chip(h))
    check("Checking the password" in out, "checked first", out)
    st = os.stat(sealed_file())
    check(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
          "sealed file root's alone", oct(st.st_mode))
    check(stat.S_IMODE(os.stat(os.path.dirname(sealed_file())).st_mode)
          == 0o700, "its directory too")
    check(PASSWORD not in open(sealed_file()).read(), "not in the clear")
    lst = h.enroll("list", "--user", "alice")
    check("carries the sealed login secret" in lst.stdout, "list shows it",
          lst.stdout)
    r, _ = login(h, hmac_chip(h))
    check(r.code == "PAM_SUCCESS", "login", r)
    check(caught() == PASSWORD, "the exact password arrived after the tap")
    check(any("handed to the next modules" in l for l in r.log), "logged",
          r.log)
    check(not any(PASSWORD in l for l in r.log), "never logged")
    # again: the hmac state rolled, the seal (from the slot secret) holds
    r, _ = login(h, hmac_chip(h))
    check(r.code == "PAM_SUCCESS" and caught() == PASSWORD,
          "after the state roll too", r)


def test_authtok_02_nothing_without_the_implant_or_the_setting(h):
    enroll_hmac(h, label="apex")
    seal(h, hmac_chip(h))
    # another implant (another slot secret): refused, nothing
    r, _ = login(h, hmac_chip(h, key="a1" * 20))
    check(r.code == "PAM_AUTH_ERR" and not caught(),
          "wrong implant: nothing", r)
    # a replayed answer: refused, nothing
    rec = f"{ROOT}/tmp/tok-replay.jsonl"
    r, _ = login(h, hmac_chip(h, extra=["--fault", f"hmac-replay={rec}"]))
    check(r.code == "PAM_SUCCESS" and caught() == PASSWORD, "recorded", r)
    r, _ = login(h, hmac_chip(h, key=None,
                              extra=["--fault", f"hmac-replay-use={rec}"]))
    check(r.code == "PAM_AUTH_ERR" and not caught(),
          "a replay: nothing", r)
    # authtok = false for this service: the login works, nothing handed
    h.config(methods='[ "hmac" ]', authtok="true",
             services='{ vivo-tok = { authtok = false; }; }')
    r, _ = login(h, hmac_chip(h))
    check(r.code == "PAM_SUCCESS" and not caught(),
          "authtok = false: nothing", r)
    # cleared: nothing
    h.config(methods='[ "hmac" ]', authtok="true")
    p = h.enroll("authtok", "clear", "--user", "alice")
    check(p.returncode == 0 and not os.path.exists(sealed_file()),
          "cleared", p.stderr)
    r, _ = login(h, hmac_chip(h))
    check(r.code == "PAM_SUCCESS" and not caught(), "cleared: nothing",
          r)


def test_authtok_03_changed_password_is_detected(h):
    enroll_hmac(h, label="apex")
    seal(h, hmac_chip(h))
    _set_password("alice")  # a new salt: the shadow entry changed
    r, _ = login(h, hmac_chip(h))
    check(r.code == "PAM_SUCCESS", "the login itself stands", r)
    check(not caught(), "no stale password handed over")
    check(any("password changed" in i for i in r.info), "the person is told",
          r)
    check(any("changed since it was sealed" in l for l in r.log), "logged",
          r.log)


def test_authtok_04_refusals_at_sealing(h):
    enroll_hmac(h, label="apex")
    rc, out, err = seal(h, hmac_chip(h), password="not the password",
                        expect_ok=False)
    check(rc != 0 and "refused this password" in err, "a typo is not sealed",
          err)
    check(not os.path.exists(sealed_file()), "nothing written")
    from test_foundation import enroll_tap  # pylint: disable=import-outside-toplevel
    enroll_tap(h, user="alice", label="tag")
    rc, out, err = seal(h, hmac_chip(h), extra=["--label", "tag"],
                        expect_ok=False)
    check(rc != 0 and "a UID is no secret" in err, "uid refused", err)
    p = subprocess.run([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                        "authtok", "set", "--user", "alice", "--label",
                        "nope"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    check(p.returncode == 1 and 'no implant labelled "nope"' in p.stderr,
          "an unknown label, before any password is asked", p.stderr)


def test_authtok_05_fido2_hmac_secret(h):
    rc, out, err = h.enroll_with_tap(
        ["add", "--method", "fido2", "--user", "alice", "--label", "apex",
         "--timeout", "5"], fido2_chip())
    check(rc == 0, "enroll fido2", (out, err))
    seal(h, fido2_chip())
    r, log = login(h, fido2_chip())
    check(r.code == "PAM_SUCCESS" and caught() == PASSWORD,
          "fido2: the password arrived", r)
    # another chip of the same kind has another hmac-secret: nothing
    r, _ = login(h, fido2_chip("other"))
    check(r.code == "PAM_AUTH_ERR" and not caught(), "wrong chip", r)
    # removing the enrollment removes its sealed secret
    p = h.enroll("remove", "--user", "alice", "--label", "apex")
    check(p.returncode == 0 and not os.path.exists(sealed_file()),
          "removed with the enrollment", p.stderr)


def test_authtok_06_hand_scan_login_opens_the_keyring_too(h):
    """The point of it: no name typed, no password typed, and the next
    module still gets the password."""
    enroll_hmac(h, label="apex")
    seal(h, hmac_chip(h))
    h.config(methods='[ "hmac" ]', authtok="true", identify="true")
    cmd, _ = h.tap_command(delay=0.1, hold=2.5, **hmac_chip(h))
    r = h.pam("", service="vivo-tok", on_info=cmd)
    check(r.code == "PAM_SUCCESS" and r.user == "alice", "hand-scan", r)
    check(caught() == PASSWORD, "and the password arrived")


def test_authtok_07_gnome_keyring(h):
    """The real gnome-keyring: a login keyring made with the password is
    unlocked by a hand-scan login through pam_gnome_keyring.so."""
    require("gnome-keyring-daemon")
    require("dbus-run-session")
    enroll_hmac(h, label="apex")
    seal(h, hmac_chip(h))
    home = f"{ROOT}/home/alice"
    run = "/run/user/60001"
    os.makedirs(run, mode=0o700, exist_ok=True)
    os.chown(run, 60001, 60001)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "USER": "alice",
           "LOGNAME": "alice", "XDG_RUNTIME_DIR": run}
    # the keyring, made with the password (as the first desktop login
    # would), then its daemon stopped: it is locked on disk
    mk = subprocess.run(
        ["setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "--",
         "dbus-run-session", "--", "sh", "-c",
         "printf %s \"$PW\" | gnome-keyring-daemon --unlock --components=secrets"
         " >/dev/null; sleep 1; pkill -u alice gnome-keyring-d; true"],
        env=dict(env, PW=PASSWORD), capture_output=True, text=True, timeout=30)
    keyring = f"{home}/.local/share/keyrings/login.keyring"
    check(os.path.exists(keyring), "a login keyring exists", (mk.stdout,
                                                                mk.stderr))
    with open(f"{ROOT}/pam.d/vivo-kr", "w") as f:
        f.write(f"auth required {h.module} helper={h.helper} "
                f"config={ROOT}/etc/pam_vivo.conf\n"
                "auth optional pam_gnome_keyring.so\n"
                "account required pam_permit.so\n"
                "session optional pam_gnome_keyring.so auto_start\n")
    h.config(methods='[ "hmac" ]', authtok="true", identify="true")
    cmd, _ = h.tap_command(delay=0.1, hold=2.5, **hmac_chip(h))
    r = h.pam("", service="vivo-kr", on_info=cmd, session=True,
              putenv=f"XDG_RUNTIME_DIR={run}")
    subprocess.run(["pkill", "-u", "alice", "gnome-keyring-d"], check=False)
    check(r.code == "PAM_SUCCESS" and r.user == "alice", "hand-scan login", r)
    check(any("gkr-pam" in l and "unlocked" in l for l in r.log),
          "gnome-keyring unlocked the login keyring", r.log)
    check(not any("couldn't unlock" in l for l in r.log), "no failure", r.log)
    # the control: the same login without the released secret unlocks
    # nothing (the keyring stays locked until a password is typed)
    h.config(methods='[ "hmac" ]', authtok="false", identify="true")
    cmd, _ = h.tap_command(delay=0.1, hold=2.5, **hmac_chip(h))
    r = h.pam("", service="vivo-kr", on_info=cmd, session=True,
              putenv=f"XDG_RUNTIME_DIR={run}")
    subprocess.run(["pkill", "-u", "alice", "gnome-keyring-d"], check=False)
    check(r.code == "PAM_SUCCESS", "the login itself", r)
    check(not any("gkr-pam" in l and "unlocked" in l for l in r.log),
          "without the secret, no unlock", r.log)
