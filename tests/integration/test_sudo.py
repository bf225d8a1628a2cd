# SPDX-License-Identifier: BSD-2-Clause
"""Issue 5: the real sudo. In the private mount namespace, /etc/pam.d/sudo
and /etc/sudoers are bind-mounted with test versions: `auth sufficient
pam_vivo.so` before pam_unix, and alice may run anything. The enrolled
implant tapped at the cue -> sudo runs the command; another chip -> sudo
falls back to the password prompt, exactly as `auth sufficient` should."""

import os
import pty
import select
import subprocess
import time

from harness import ROOT, require
from test_foundation import ENROLLED, OTHER, check, enroll_tap


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config()
    h.service()


def _mount_sudo_files(h):
    # the harness runs as root; sudo comes from tests/install-deps.sh
    require("sudo")
    sudoers = f"{ROOT}/etc/sudoers"
    with open(sudoers, "w") as f:
        f.write("Defaults !lecture\nDefaults passwd_tries=1\n"
                "Defaults !use_pty\nalice ALL=(ALL) ALL\n")
    os.chmod(sudoers, 0o440)
    pamsudo = f"{ROOT}/etc/pam-sudo"
    with open(pamsudo, "w") as f:
        f.write(f"auth sufficient {h.module} helper={h.helper} "
                f"config={ROOT}/etc/pam_vivo.conf\n"
                "auth required pam_unix.so\n"
                "account required pam_permit.so\n"
                "session required pam_permit.so\n")
    for src, dst in ((sudoers, "/etc/sudoers"), (pamsudo, "/etc/pam.d/sudo")):
        subprocess.run(["mount", "--bind", src, dst], check=True)


def _unmount():
    for dst in ("/etc/pam.d/sudo", "/etc/sudoers"):
        subprocess.run(["umount", dst], check=False)


def _sudo(h, uid, password=None):
    """Run `sudo id -u` as alice on a pseudo-terminal (as a person would:
    sudo writes PAM messages with stdio, so a pipe would hold the cue back);
    tap the chip when the cue appears; answer a password prompt with
    `password`. (output, rc, whether a password was asked)"""
    master, slave = pty.openpty()
    p = subprocess.Popen(
        ["setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "--",
         "sudo", "-S", "-k", "-p", "PASSWORD-PROMPT:", "/usr/bin/id", "-u"],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={"PATH": "/usr/bin:/bin", "LANG": "C"})
    os.close(slave)
    buf = b""
    imps, asked = [], False
    end = time.time() + 30
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
            if b"Hold your implant" in buf and not imps:
                imps.append(h.implant(uid=uid, hold=3.0, wait_present=False))
            if b"PASSWORD-PROMPT:" in buf and password is not None and \
                    not asked:
                os.write(master, password.encode() + b"\n")
                asked = True
        elif p.poll() is not None:
            break
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    os.close(master)
    for i in imps:
        i.stop()
    return buf.decode(errors="replace"), p.returncode, \
        b"PASSWORD-PROMPT:" in buf


def test_sudo_01_tap_runs_the_command(h):
    _mount_sudo_files(h)
    try:
        enroll_tap(h, user="alice", uid=ENROLLED)
        out, rc, asked = _sudo(h, ENROLLED)
    finally:
        _unmount()
    check(rc == 0 and out.strip().endswith("0"),
          "sudo ran `id -u` as root after the tap",
          (out, rc, h.syslog.lines[-4:]))
    check("Hold your implant to the reader" in out, "the cue", out)
    check(not asked, "no password was asked", out)


def test_sudo_02_wrong_chip_falls_back_to_the_password(h):
    _mount_sudo_files(h)
    try:
        enroll_tap(h, user="alice", uid=ENROLLED)
        out, rc, asked = _sudo(h, OTHER, password="not-the-password")
    finally:
        _unmount()
    # sudo calls pam_authenticate with PAM_SILENT (sudoers pam_silent, on
    # by default): the module's error message is held back there, the cue
    # is not; the log says why
    check("Hold your implant to the reader" in out, "the cue", out)
    check(any("user=alice result=PAM_AUTH_ERR" in l and "not enrolled" in l
              for l in h.syslog.lines[-5:]), "logged", h.syslog.lines[-5:])
    check(asked, "sudo fell back to the password prompt", out)
    check(rc != 0 and "incorrect password" in out,
          "and the wrong password is refused", (out, rc))


def test_sudo_03_per_service_rules(h):
    """Issue 13: `services` keyed by PAM_SERVICE. The top level allows
    fido2 only; sudo's own group allows uid: the same chip works for sudo,
    and a group for another service changes nothing for sudo."""
    enroll_tap(h, user="alice", uid=ENROLLED)
    _mount_sudo_files(h)
    try:
        h.config(methods='[ "fido2" ]',
                 services='{ sudo = { methods = [ "uid" ]; }; }')
        out, rc, asked = _sudo(h, ENROLLED)
        check(rc == 0 and not asked, "sudo's rule allows uid", (out, rc))
        h.config(methods='[ "fido2" ]',
                 services='{ login = { methods = [ "uid" ]; }; }')
        out, rc, asked = _sudo(h, ENROLLED, password="not-the-password")
        check(asked and "Hold your implant" not in out,
              "login's rule is not sudo's: no tap offered", out)
        check(any("user=alice result=PAM_USER_UNKNOWN" in l
                  for l in h.syslog.lines[-6:]), "logged",
              h.syslog.lines[-6:])
    finally:
        _unmount()
