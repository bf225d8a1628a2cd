# SPDX-License-Identifier: BSD-2-Clause
"""Issue 5: anchor CVE classes that the other modules do not already pin
down by name, and secret hygiene of everything the helper and the tool
log.

Already covered elsewhere, each failing on the vulnerable behaviour:
- symlinked enrollment read as root (CVE-2019-12209): test_fault_46,
  test_08c;
- descriptors leaking into the helper (CVE-2019-12210, CVE-2018-9275):
  test_15 (the helper refuses), test_10b;
- EACCES read as "no enrollment" with nouserok (CVE-2020-24612):
  test_fault_48, test_08e;
- the conversation failing (CVE-2021-31924): test_fault_39, test_14;
- success without a cryptographic check (CVE-2025-24032 class):
  test_fault_11/12/30/32, test_u2f_03*, test_hmac_03/04b;
- success before the rolled state is durable (yubico-pam #181):
  test_hmac_06, test_hmac_06b.
"""

import hashlib
import hmac as hmac_mod
import os
import re
import subprocess

from harness import ROOT
from test_foundation import ENROLLED, check, enroll_tap
import test_hmac
import test_u2f


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "u2f", "hmac", "uid" ]',
             u2f=f'{{ appid = "{test_u2f.APPID}"; }}')
    h.service()


def test_sec_01_ignore_never_becomes_success(h):
    """CVE-2025-23013 / CVE-2025-24531 class: PAM_IGNORE from an error path
    turns into success when the module is the only vote. In a stack where
    pam_vivo is `required` and pam_permit follows, only 'not enrolled with
    nouserok' may pass; every error must fail the stack."""
    enroll_tap(h, user="alice", uid=ENROLLED)
    with open(f"{ROOT}/pam.d/onlyvote", "w") as f:
        f.write(f"auth required {h.module} helper={h.helper} "
                f"config={ROOT}/etc/pam_vivo.conf nouserok timeout=1\n"
                "auth required pam_permit.so\n")
    store = h.store_path("alice")
    cases = {
        "no tap": lambda: None,
        "unsafe file": lambda: os.chmod(store, 0o666),
        "corrupt file": lambda: open(store, "w").write("version = 1;\n"),
        "symlink": lambda: (os.rename(store, store + ".real"),
                            os.symlink(store + ".real", store)),
        "invalid config": lambda: h.config(methods='[ "nope" ]'),
        "pcscd down": h.stop_pcscd,
    }
    for name, spoil in cases.items():
        setup(h)
        enroll_tap(h, user="alice", uid=ENROLLED)
        spoil()
        r = h.pam("alice", service="onlyvote")
        if h.pcscd is None:
            h.start_pcscd()
        check(r.code != "PAM_SUCCESS", f"{name}: must not succeed", r)
    r = h.pam("bob", service="onlyvote")
    check(r.code == "PAM_SUCCESS", "not enrolled + nouserok is the one "
          "PAM_IGNORE, by the admin's choice", r)


def test_sec_02_no_secret_in_any_log(h):
    """A full run with `debug` (module and helper) and every method: no
    slot secret, no HMAC response, no full UID and no counter-signature
    input leaks into syslog or the tool's output."""
    h.service(args="debug")
    test_u2f.enroll_u2f(h, label="apex-u2f")
    rc, out1, err1 = test_hmac.enroll_hmac(h, label="apex-hmac")
    rc, out2, err2 = enroll_tap(h, user="alice", uid=ENROLLED, label="ntag")
    logs = []
    hmac_log = None
    for chip, methods in ((test_u2f.chip(), '[ "u2f" ]'),
                          (test_hmac.chip(h), '[ "hmac" ]'),
                          (dict(personality="ntag216", uid=ENROLLED),
                           '[ "uid" ]')):
        h.config(methods=methods, u2f=f'{{ appid = "{test_u2f.APPID}"; }}')
        cmd, log = h.tap_command(delay=0.1, hold=2.5, **chip)
        r = h.pam("alice", on_info=cmd)
        check(r.code == "PAM_SUCCESS", f"{methods} with debug", r)
        logs += r.log
        if "hmac" in methods:
            hmac_log = log
        h.clear_readers()
    t = subprocess.run([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                        "list", "--user", "alice"], capture_output=True,
                       text=True)
    text = "\n".join(logs + h.syslog.lines) + out1 + err1 + out2 + err2 + \
        t.stdout + t.stderr
    check(any("vivo-helper" in l and "user=alice" in l for l in h.syslog.lines)
          and any("helper" in l.lower() or "timeout=" in l for l in logs),
          "debug logging was on", logs)
    lowered = text.lower().replace(" ", "").replace(":", "")
    secrets = {"the hmac slot secret": test_hmac.KEY,
               "the full UID": ENROLLED}
    # every HMAC response that crossed the air, from the implant's log
    for line in open(hmac_log):
        if line.startswith("< ") and len(line.strip()) == 2 + 44:
            secrets["an HMAC response"] = line[2:42]
    # and the next response, computed on the host only
    c, _, _ = test_hmac.state_of(h.store_path("alice"), "apex-hmac")
    secrets["the next HMAC response"] = hmac_mod.new(
        bytes.fromhex(test_hmac.KEY), c, hashlib.sha1).hexdigest()
    for what, value in secrets.items():
        check(value.lower() not in lowered, f"{what} must never be logged",
              value)
    check(re.search(r"[0-9a-f]{40}", lowered) is None,
          "nothing that looks like a 20-byte secret is logged",
          re.findall(r"[0-9a-f]{40,}", lowered)[:3])
