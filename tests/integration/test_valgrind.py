# SPDX-License-Identifier: BSD-2-Clause
"""Issue 5: the helper and the tool under valgrind, in the main flows:
0 errors and 0 leaks (definite, indirect, possible). The helper runs
through the real module (its path is a wrapper that starts valgrind), so
a valgrind finding also shows as a failed PAM call (exit 99 is not a clean
exit)."""

import glob
import os
import subprocess

from harness import ROOT, TOP, require
from test_foundation import ENROLLED, check
import test_hmac
import test_u2f

VG = ["/usr/bin/valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
      "--show-leak-kinds=definite,indirect,possible",
      "--errors-for-leak-kinds=definite,indirect,possible",
      f"--suppressions={TOP}/tests/unit/valgrind.supp"]


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "u2f", "hmac", "uid" ]', timeout="15",
             u2f=f'{{ appid = "{test_u2f.APPID}"; }}')
    for f in glob.glob(f"{ROOT}/tmp/vg-*.log"):
        os.unlink(f)


def _wrap(h, name, target, log_to_stderr=False):
    """A script that runs `target` under valgrind. For the helper, the
    report goes to its stderr redirected to a file (--log-file would show
    up in the helper as an open descriptor, which it refuses)."""
    path = f"{ROOT}/bin/vg-{name}"
    log = f"{ROOT}/tmp/vg-{name}.$$.log"
    with open(path, "w") as f:
        if log_to_stderr:
            f.write(f"#!/bin/sh\nexec 2>{log}\nexec " + " ".join(VG) +
                    f" --log-fd=2 {target} \"$@\"\n")
        else:
            f.write("#!/bin/sh\nexec " + " ".join(VG) +
                    f" --log-file={ROOT}/tmp/vg-{name}.%p.log {target} "
                    "\"$@\"\n")
    os.chmod(path, 0o755)
    return path


def _clean_logs(what):
    logs = glob.glob(f"{ROOT}/tmp/vg-*.log")
    check(logs, f"{what}: valgrind ran")
    for log in logs:
        text = open(log).read()
        check(text.strip() == "", f"{what}: valgrind reported something "
              f"({log})", text[:3000])


def test_valgrind_01_helper_main_flows(h):
    require(VG[0])   # tests/install-deps.sh installs valgrind
    test_u2f.enroll_u2f(h, label="apex-u2f")
    test_hmac.enroll_hmac(h, label="apex-hmac")
    from test_foundation import enroll_tap
    enroll_tap(h, user="alice", uid=ENROLLED, label="ntag")
    helper = _wrap(h, "helper", h.helper, log_to_stderr=True)
    with open(f"{ROOT}/pam.d/vg", "w") as f:
        f.write(f"auth required {h.module} helper={helper} "
                f"config={ROOT}/etc/pam_vivo.conf debug\n")
    flows = [("u2f", test_u2f.chip(), "PAM_SUCCESS"),
             ("hmac", test_hmac.chip(h), "PAM_SUCCESS"),
             ("uid", dict(personality="ntag216", uid=ENROLLED), "PAM_SUCCESS"),
             ("uid", dict(personality="ntag216", uid="04112233445566"),
              "PAM_AUTH_ERR")]
    for method, chip, code in flows:
        h.config(methods=f'[ "{method}" ]', timeout="15",
                 u2f=f'{{ appid = "{test_u2f.APPID}"; }}')
        cmd, _ = h.tap_command(delay=0.5, hold=8.0, **chip)
        r = h.pam("alice", service="vg", on_info=cmd)
        check(r.code == code, f"{method} under valgrind", r)
        h.clear_readers()
    r = h.pam("bob", service="vg")
    check(r.code == "PAM_USER_UNKNOWN", "not enrolled, under valgrind", r)
    _clean_logs("vivo-helper")


def test_valgrind_02_tool_main_flows(h):
    require(VG[0])   # tests/install-deps.sh installs valgrind
    tool = _wrap(h, "enroll", h.enroll_bin)
    saved = h.enroll_bin
    h.enroll_bin = tool
    try:
        rc, out, err = test_u2f.enroll_u2f(h, label="apex-u2f")
        rc, out, err = test_hmac.enroll_hmac(h, label="apex-hmac")
        from test_foundation import enroll_tap
        enroll_tap(h, user="alice", uid=ENROLLED, label="ntag")
        for args in (["list", "--user", "alice"],
                     ["remove", "--label", "ntag", "--user", "alice"],
                     ["list", "--user", "bob"]):
            r = h.enroll(*args)
            check(r.returncode == 0, f"vivo-enroll {args[0]}", r.stderr)
        h.implant(**test_u2f.chip())
        r = h.enroll("probe")
        check(r.returncode == 0 and "U2F_V2" in r.stdout, "probe", r)
        h.clear_readers()
        p = subprocess.Popen([tool, "--config", f"{ROOT}/etc/pam_vivo.conf",
                              "test", "--user", "alice"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        p.stdout.readline()
        imp = h.implant(hold=8.0, wait_present=False, **test_u2f.chip())
        out, err = p.communicate(timeout=60)
        imp.stop()
        check(p.returncode == 0, "test", (out, err))
    finally:
        h.enroll_bin = saved
    _clean_logs("vivo-enroll")
