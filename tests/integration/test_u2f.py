# SPDX-License-Identifier: BSD-2-Clause
"""Issue 4: the `u2f` method (FIDO U2F / CTAP1 over ISO 7816), verified
with OpenSSL. The virtual implant's U2F applet (tests/vimplant) has its own
P-256 keys and is written independently of the product."""

import os
import re
import time

from harness import ROOT
from test_foundation import CUE, apdus, check

APPID = "pam://vivo-test"


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "u2f" ]', u2f=f'{{ appid = "{APPID}"; }}')
    h.service()
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("u2f"):
            os.unlink(f"{ROOT}/tmp/{f}")


def chip(name="a", extra=(), personality="apex"):
    """An implant with a U2F applet whose keys live in its own state file
    (one file = one physical implant)."""
    return dict(personality=personality, uid="04AABBCCDD0011",
                extra=["--u2f-state", f"{ROOT}/tmp/u2f-{name}.json"]
                + list(extra))


def enroll_u2f(h, label=None, user="alice", as_user=None, chipargs=None,
               expect_ok=True, config=None):
    args = ["add", "--method", "u2f", "--timeout", "5"]
    if user and not as_user:
        args += ["--user", user]
    if label:
        args += ["--label", label]
    rc, out, err = h.enroll_with_tap(args, chipargs or chip(),
                                     as_user=as_user, config=config)
    if expect_ok:
        check(rc == 0, "enroll failed", (out, err))
    return rc, out, err


def tap(h, user="alice", chipargs=None, **kw):
    cmd, log = h.tap_command(delay=0.1, hold=2.5, **(chipargs or chip()))
    return h.pam(user, on_info=cmd, **kw), log


def counter_of(path, label):
    text = open(path).read()
    block = text.split(f'label = "{label}"')[1]
    return int(re.search(r"counter = (\d+)", block).group(1))


# 2 ---------------------------------------------------------------------
def test_u2f_01_enroll_then_authenticate(h):
    rc, out, err = enroll_u2f(h, label="apex")
    check("Attestation certificate:" in out, "attestation subject shown", out)
    path = h.store_path("alice", public=True)
    check(counter_of(path, "apex") == 0, "counter starts at 0")
    r, log = tap(h)
    check(r.code == "PAM_SUCCESS", "u2f authentication", r)
    check(r.info == [CUE], "cue", r)
    sent = apdus(log)
    check(sent[0] == "00A4040008A0000006472F0001", "SELECT, short, no Le", sent)
    check(sent[1].startswith("00020300"), "AUTHENTICATE P1=03", sent)
    c1 = counter_of(path, "apex")
    check(c1 > 0, "the counter was stored", c1)
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "again", r)
    check(counter_of(path, "apex") > c1, "and grew")
    check(any("method=u2f" in l and 'implant="apex' in l for l in r.log), "log",
          r.log)


def test_u2f_02_another_implant_is_auth_err(h):
    enroll_u2f(h, label="apex")
    r, _ = tap(h, chipargs=chip("b"))
    check(r.code == "PAM_AUTH_ERR", "another implant", r)
    check(r.errors == ["This implant is not enrolled for alice."], "told", r)


# 3 ---------------------------------------------------------------------
def test_u2f_03_bad_signature_is_auth_err(h):
    enroll_u2f(h, label="apex")
    r, _ = tap(h, chipargs=chip(extra=["--fault", "u2f-bad-sig"]))
    check(r.code == "PAM_AUTH_ERR", "bad signature", r)
    check(any("does not verify" in l for l in r.log), "logged", r.log)


def test_u2f_03b_user_presence_clear_is_auth_err(h):
    enroll_u2f(h, label="apex")
    r, _ = tap(h, chipargs=chip(extra=["--fault", "u2f-up-clear"]))
    check(r.code == "PAM_AUTH_ERR", "UP clear", r)
    check(any("user presence not asserted" in l for l in r.log), "log", r.log)


def test_u2f_03c_counter_not_increasing_is_auth_err(h):
    enroll_u2f(h, label="apex")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "first", r)
    stuck = chip(extra=["--fault", "u2f-counter-stuck"])
    r, _ = tap(h, chipargs=stuck)
    check(r.code == "PAM_AUTH_ERR", "a counter that does not grow", r)
    check(any("not above the stored" in l for l in r.log), "logged", r.log)
    h.config(methods='[ "u2f" ]',
             u2f=f'{{ appid = "{APPID}"; check_counter = false; }}')
    r, _ = tap(h, chipargs=stuck)
    check(r.code == "PAM_SUCCESS", "accepted with check_counter = false", r)


def test_u2f_03d_apex_odd_counter_steps_and_112_byte_handles(h):
    apex = chip(extra=["--u2f-kh-len", "112", "--u2f-counter-step",
                       "odd-random"])
    enroll_u2f(h, label="apex", chipargs=apex)
    for _ in range(3):
        r, _ = tap(h, chipargs=apex)
        check(r.code == "PAM_SUCCESS", "random odd steps are fine", r)


# 4 ---------------------------------------------------------------------
def test_u2f_04_enrollment_for_another_appid_is_auth_err(h):
    enroll_u2f(h, label="apex")
    h.config(methods='[ "u2f" ]', u2f='{ appid = "pam://elsewhere"; }')
    r, _ = tap(h)
    check(r.code == "PAM_AUTH_ERR", "enrolled for another appid", r)
    check(any("enrolled for appid pam://vivo-test" in l for l in r.log), "log",
          r.log)


def test_u2f_04b_key_handle_of_another_appid_is_auth_err(h):
    """Another host's enrollment (registered for pam://other) relabelled
    with this host's appid: the chip refuses the key handle here."""
    h.config(methods='[ "u2f" ]', u2f='{ appid = "pam://other"; }')
    enroll_u2f(h, label="apex")
    path = h.store_path("alice", public=True)
    text = open(path).read().replace("pam://other", APPID)
    with open(path, "w") as f:
        f.write(text)
    h.config(methods='[ "u2f" ]', u2f=f'{{ appid = "{APPID}"; }}')
    r, _ = tap(h)
    check(r.code == "PAM_AUTH_ERR", "the key handle is bound to its appid", r)


def test_u2f_04c_one_enrollment_serves_hosts_sharing_an_appid(h):
    """The README's several-hosts recipe: the same appid everywhere, the
    enrollment file copied."""
    shared = 'u2f = { appid = "pam://example.org"; };'
    h.config(methods='[ "u2f" ]', u2f='{ appid = "pam://example.org"; }')
    enroll_u2f(h, label="apex")
    copy = open(h.store_path("alice", public=True)).read()
    h.reset_store()
    # "the other host", where the copy lands where files of the old layout
    # were: the first root-run use moves it to the public part
    with open(h.store_path("alice"), "w") as f:
        f.write(copy)
    os.chmod(h.store_path("alice"), 0o644)
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", shared, r)


# 5 ---------------------------------------------------------------------
def test_u2f_05_two_implants_second_tapped(h):
    enroll_u2f(h, label="left", chipargs=chip("a"))
    enroll_u2f(h, label="right", chipargs=chip("b"))
    r, _ = tap(h, chipargs=chip("b"))
    check(r.code == "PAM_SUCCESS", "the second implant", r)
    check(any('implant="right"' in l for l in r.log), "the right one", r.log)


# 6 ---------------------------------------------------------------------
def test_u2f_06_register_reply_in_ten_pieces(h):
    log = f"{ROOT}/tmp/u2f-chunked.log"
    ca = chip(extra=["--u2f-chunk", "60", "--log", log])
    rc, out, err = enroll_u2f(h, label="apex", chipargs=ca)
    check(rc == 0, "enrolled through many 61 xx rounds", err)
    gets = [l for l in open(log) if l.startswith("> 00C00000")]
    check(len(gets) >= 9, "the reply came in ten or more pieces", len(gets))
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "and it works", r)


def test_u2f_06b_endless_61xx_is_a_bounded_failure(h):
    t0 = time.time()
    rc, out, err = enroll_u2f(h, chipargs=chip(extra=["--fault", "endless-61"]),
                              expect_ok=False)
    check(rc != 0 and time.time() - t0 < 10, "enroll fails, fast", (out, err))
    enroll_u2f(h, label="apex")
    h.config(methods='[ "u2f" ]', u2f=f'{{ appid = "{APPID}"; }}', timeout="3")
    r, _ = tap(h, chipargs=chip(extra=["--fault", "endless-61"]))
    check(r.code == "PAM_AUTH_ERR", "endless 61 xx on authenticate", r)
    check(r.elapsed_ms < 4000, "no hang", r)


def test_u2f_06c_fido2_only_applet_gets_a_clear_message(h):
    rc, out, err = enroll_u2f(h, chipargs=chip(extra=["--u2f-version", "fido2"]),
                              expect_ok=False)
    check(rc != 0 and "FIDO2 (CTAP2) only" in err, "clear message", err)


# 7 ---------------------------------------------------------------------
def test_u2f_07_screen_locker_reads_root_owned_system_store(h):
    enroll_u2f(h, label="apex")
    path = h.store_path("alice", public=True)
    st = os.stat(path)
    check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o644, "root-owned, 0644")
    r, _ = tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "a non-root caller authenticates", r)
    check(any("cannot write" in l for l in r.log),
          "it says it could not advance the counter", r.log)
    check(counter_of(path, "apex") == 0, "the file was not touched")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS" and counter_of(path, "apex") > 0,
          "the next root-run authentication advances it", r)


def test_u2f_08_mixed_store_user_store_u2f(h):
    h.config(methods='[ "u2f" ]', u2f=f'{{ appid = "{APPID}"; }}',
             user_store="true")
    enroll_u2f(h, label="apex", as_user="alice", user=None)
    path = f"{ROOT}/home/alice/.config/pam_vivo/implants"
    r, _ = tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "user store, screen locker", r)
    check(counter_of(path, "apex") > 0, "counter advanced in the user store")
