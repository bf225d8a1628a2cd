# SPDX-License-Identifier: BSD-2-Clause
"""Issue 5: the fault matrix. Each named case asserts the module's exact
PAM code (PAM_IGNORE made visible through the stack), that the answer
comes within timeout + 1 s, and that no enrollment changed unless the case
says it should.

Baseline for every case: alice has a u2f, an hmac and a uid implant
enrolled; the virtual implants' own state is restored too.
"""

import hashlib
import os
import shutil

import harness
from harness import ROOT
from test_foundation import check, enroll_tap
import test_hmac
import test_u2f

TIMEOUT = 2
BASE = f"{ROOT}/faults-baseline"
U2F_STATE = f"{ROOT}/tmp/u2f-faults.json"
HMAC_KEY = test_hmac.KEY
NTAG = "04A1B2C3D4E5F6"
ALL = '[ "u2f", "hmac", "uid" ]'


def apex(*extra):
    return dict(personality="apex", uid="04AABBCCDD0011",
                extra=["--u2f-state", U2F_STATE, "--hmac-slot2", HMAC_KEY]
                + list(extra))


def ntag(*extra, uid=NTAG):
    return dict(personality="ntag216", uid=uid, extra=list(extra))


def write_config(h, methods=ALL, **kv):
    return h.config(methods=methods, timeout=str(TIMEOUT),
                    u2f=f'{{ appid = "{test_u2f.APPID}"; }}', **kv)


def setup(h):
    """Build the baseline once (enrollments and the implant's state), then
    restore it before every case."""
    h.clear_readers()
    if not os.path.exists(BASE):
        h.reset_store()
        write_config(h)
        h.service()
        test_u2f.enroll_u2f(h, label="apex-u2f",
                            chipargs=dict(personality="apex",
                                          uid="04AABBCCDD0011",
                                          extra=["--u2f-state", U2F_STATE]))
        test_hmac.enroll_hmac(h, label="apex-hmac")
        enroll_tap(h, user="alice", uid=NTAG, label="ntag")
        os.makedirs(BASE)
        shutil.copy2(h.store_path("alice"), f"{BASE}/alice")
        shutil.copy2(h.store_path("alice", public=True), f"{BASE}/alice.public")
        shutil.copy2(U2F_STATE, f"{BASE}/u2f.json")
    h.reset_store()
    shutil.copy2(f"{BASE}/alice", h.store_path("alice"))
    os.makedirs(os.path.dirname(h.store_path("alice", public=True)))
    shutil.copy2(f"{BASE}/alice.public", h.store_path("alice", public=True))
    shutil.copy2(f"{BASE}/u2f.json", U2F_STATE)
    write_config(h)


def service(h, helper=None, extra=""):
    """pam_vivo with nouserok, then pam_debug: the module's PAM_IGNORE shows
    as PAM_CRED_INSUFFICIENT; any other answer ends the stack as is."""
    with open(f"{ROOT}/pam.d/faults", "w") as f:
        f.write(f"auth [ignore=ignore default=done] {h.module} "
                f"helper={helper or h.helper} config={ROOT}/etc/pam_vivo.conf "
                f"timeout={TIMEOUT} nouserok {extra}\n"
                "auth required pam_debug.so auth=cred_insufficient\n")


def snapshot():
    out = {}
    for top in (f"{ROOT}/store", f"{ROOT}/home"):
        for d, _, files in os.walk(top):
            for n in files:
                p = os.path.join(d, n)
                out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest() \
                    if os.path.isfile(p) and not os.path.islink(p) else "link"
    return out


def fake_helper(h, mode):
    path = f"{ROOT}/bin/fake-{mode}"
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec /usr/bin/python3 "
                f"{os.path.dirname(os.path.abspath(__file__))}/fakehelper.py "
                f"{mode}\n")
    os.chmod(path, 0o755)
    return path


def run_case(h, code, chip=None, user="alice", helper_mode=None, conv="ok",
             as_user=None, rhost=None, after_cue="", changes=False,
             prepare=None, methods=None, env=None):
    if methods:
        write_config(h, methods=methods)
    service(h, helper=fake_helper(h, helper_mode) if helper_mode else None)
    if prepare:
        prepare(h)
    before = snapshot()
    if callable(after_cue):
        after_cue = after_cue(h)
    on_info = None
    if chip is not None:
        cmd, _ = h.tap_command(delay=0.1, hold=TIMEOUT + 1.0, **chip)
        on_info = f"({cmd}) & {after_cue}" if after_cue else cmd
    elif after_cue:
        on_info = after_cue
    r = h.pam(user, service="faults", on_info=on_info, conv=conv,
              as_user=as_user, rhost=rhost, env=env)
    got = "PAM_IGNORE" if r.code == "PAM_CRED_INSUFFICIENT" else r.code
    try:
        check(got == code, f"expected {code}", r)
        check(r.elapsed_ms <= TIMEOUT * 1000 + 1000,
              "answered within timeout + 1 s", r)
        after = snapshot()
        if not changes:
            check(after == before, "no enrollment changed", (before, after))
    finally:
        if h.pcscd is None or h.pcscd.poll() is not None:
            h.stop_pcscd()
            h.start_pcscd()
    return r


# ---- chips and transport ---------------------------------------------
def test_fault_01_chip_removed_before_any_reply(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", ntag("--remove-after", "1"),
             methods='[ "uid" ]')


def test_fault_02_chip_removed_between_select_and_challenge(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", apex("--remove-after", "2"),
             methods='[ "hmac" ]')


def test_fault_03_chip_removed_during_u2f_authenticate(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", apex("--remove-after", "2"),
             methods='[ "u2f" ]')


def test_fault_04_reply_too_short(h):
    run_case(h, "PAM_AUTH_ERR", ntag("--fault", "short"))


def test_fault_05_reply_too_long(h):
    run_case(h, "PAM_AUTH_ERR", ntag("--fault", "oversized"))


def test_fault_06_wrong_status_word(h):
    run_case(h, "PAM_AUTH_ERR", ntag("--fault", "wrong-sw=6A81"))


def test_fault_07_garbage_replies(h):
    run_case(h, "PAM_AUTH_ERR", ntag("--fault", "garbage"))


def test_fault_08_garbage_from_an_applet_chip(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "garbage"))


def test_fault_09_presence_never_given(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "wrong-sw=6985"),
             methods='[ "u2f" ]')


def test_fault_10_endless_61xx(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "endless-61"),
             methods='[ "u2f" ]')


def test_fault_11_u2f_bad_signature(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "u2f-bad-sig"),
             methods='[ "u2f" ]')


def test_fault_12_u2f_user_presence_clear(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "u2f-up-clear"),
             methods='[ "u2f" ]')


def test_fault_13_u2f_counter_not_increasing(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "u2f-counter-stuck"),
             methods='[ "u2f" ]')


def test_fault_14_u2f_wrong_key_handle_length(h):
    run_case(h, "PAM_AUTH_ERR", apex("--fault", "u2f-wrong-kh-len"),
             methods='[ "u2f" ]')


def test_fault_15_chip_never_answers(h):
    """transmit blocks: the helper's watchdog answers at timeout + 0.8 s"""
    run_case(h, "PAM_AUTHINFO_UNAVAIL", ntag("--fault", "silent"))


def test_fault_16_chip_too_slow(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", apex("--fault", "slow=5"))


def test_fault_17_pcscd_killed_mid_exchange(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", apex("--fault", "slow=1"),
             after_cue=lambda h: f"sleep 0.8; kill -9 {h.pcscd.pid}")


def test_fault_18_pcscd_killed_while_waiting(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL",
             after_cue=lambda h: f"sleep 0.3; kill -9 {h.pcscd.pid}")


def test_fault_19_pcscd_not_running(h):
    h.stop_pcscd()
    run_case(h, "PAM_AUTHINFO_UNAVAIL")


def test_fault_20_chip_on_the_second_reader(h):
    chip = ntag()
    chip["slot"] = 1
    run_case(h, "PAM_SUCCESS", chip, methods='[ "uid" ]')


def test_fault_21_u2f_on_the_second_reader_updates_the_counter(h):
    chip = apex()
    chip["slot"] = 1
    run_case(h, "PAM_SUCCESS", chip, methods='[ "u2f" ]', changes=True)


def test_fault_22_chip_without_uid(h):
    run_case(h, "PAM_AUTH_ERR", dict(personality="no-uid", uid=None),
             methods='[ "uid" ]')


def test_fault_23_random_uid_chip(h):
    run_case(h, "PAM_AUTH_ERR", dict(personality="random-uid", uid=None),
             methods='[ "uid" ]')


def test_fault_24_no_tap(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL")


# ---- the helper misbehaving (the module's side) -----------------------
def test_fault_25_helper_killed_by_a_signal(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="segv")


def test_fault_26_helper_exits_early(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="exit-early")


def test_fault_27_helper_truncated_reply(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="truncated")


def test_fault_28_helper_oversized_reply(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="oversized")


def test_fault_29_helper_wrong_version(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="wrong-version")


def test_fault_30_helper_says_ok_but_exits_1(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-exit1")


def test_fault_31_helper_says_ok_then_hangs(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-then-hang")


def test_fault_32_helper_says_ok_then_is_killed(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-then-killed")


def test_fault_33_helper_sends_wait_twice(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="wait-twice")


def test_fault_34_helper_never_answers(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", helper_mode="never-answer")


def test_fault_35_helper_garbage(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="garbage")


def test_fault_36_helper_unknown_result(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="result-unknown")


def test_fault_37_helper_ok_without_reason(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-missing-reason")


def test_fault_38_helper_ok_with_a_foreign_field(h):
    run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-extra-field")


# ---- the conversation -------------------------------------------------
def test_fault_39_conversation_error_with_enrolled_chip(h):
    """CVE-2021-31924 class: never carry on as if it had answered"""
    run_case(h, "PAM_CONV_ERR", apex(), conv="fail")


# ---- enrollment files -------------------------------------------------
def _write_store(text, mode=0o600):
    def prep(h):
        with open(h.store_path("alice"), "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        os.chmod(h.store_path("alice"), mode)
    return prep


def test_fault_40_enrollment_file_empty(h):
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(""))


def test_fault_41_enrollment_file_truncated(h):
    text = open(f"{BASE}/alice").read()
    run_case(h, "PAM_AUTH_ERR", apex(),
             prepare=_write_store(text[:len(text) // 2]))


def test_fault_42_enrollment_file_wrong_version(h):
    text = open(f"{BASE}/alice").read().replace("version = 1;", "version = 9;")
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))


def test_fault_43_enrollment_file_huge(h):
    text = open(f"{BASE}/alice").read() + "#" * (70 * 1024) + "\n"
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))


def test_fault_44_enrollment_label_not_utf8(h):
    text = open(f"{BASE}/alice", "rb").read().replace(b'"ntag"', b'"nt\xffag"')
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))


def test_fault_45_enrollment_duplicate_labels(h):
    text = open(f"{BASE}/alice").read().replace('"ntag"', '"apex-hmac"')
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))


def test_fault_46_enrollment_symlink(h):
    """CVE-2019-12209 class: a symlinked enrollment file is never read as
    root, not even when it points to a perfectly good file."""
    def prep(h):
        shutil.copy2(f"{BASE}/alice", f"{ROOT}/etc/alice-real")
        os.unlink(h.store_path("alice"))
        os.symlink(f"{ROOT}/etc/alice-real", h.store_path("alice"))
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=prep)


def test_fault_47_enrollment_group_writable(h):
    run_case(h, "PAM_AUTH_ERR", apex(),
             prepare=lambda h: os.chmod(h.store_path("alice"), 0o664))


def test_fault_48_enrollment_unreadable_is_not_missing(h):
    """CVE-2020-24612 class: EACCES with nouserok is not 'not enrolled'.
    The public part is meant to be readable by everyone: a caller that
    cannot read it is refused."""
    run_case(h, "PAM_AUTH_ERR", as_user="alice",
             prepare=lambda h: os.chmod(h.store_path("alice", public=True),
                                        0o600))


def test_fault_48b_protected_part_unreadable_by_design_is_not_missing(h):
    """A screen locker (running as alice) may not read the protected
    file, by design: with nothing else usable that is 'unavailable' (the
    password still works), never 'not enrolled' (PAM_IGNORE)."""
    run_case(h, "PAM_AUTHINFO_UNAVAIL", as_user="alice",
             prepare=lambda h: os.unlink(h.store_path("alice", public=True)))


def test_fault_49_not_enrolled_is_the_only_ignore(h):
    run_case(h, "PAM_IGNORE", user="bob")


# ---- configuration ----------------------------------------------------
def test_fault_50_config_invalid(h):
    run_case(h, "PAM_SYSTEM_ERR", apex(),
             prepare=lambda h: write_config(h, methods='[ "retina" ]'))


def test_fault_51_config_world_writable(h):
    run_case(h, "PAM_SYSTEM_ERR", apex(),
             prepare=lambda h: os.chmod(f"{ROOT}/etc/pam_vivo.conf", 0o666))


def test_fault_52_config_symlink(h):
    def prep(h):
        os.rename(f"{ROOT}/etc/pam_vivo.conf", f"{ROOT}/etc/real.conf")
        os.symlink(f"{ROOT}/etc/real.conf", f"{ROOT}/etc/pam_vivo.conf")
    try:
        run_case(h, "PAM_SYSTEM_ERR", apex(), prepare=prep)
    finally:
        os.unlink(f"{ROOT}/etc/pam_vivo.conf")
        os.rename(f"{ROOT}/etc/real.conf", f"{ROOT}/etc/pam_vivo.conf")


# ---- user names -------------------------------------------------------
def test_fault_53_user_with_slash(h):
    run_case(h, "PAM_USER_UNKNOWN", user="../alice")


def test_fault_54_user_dotdot(h):
    run_case(h, "PAM_USER_UNKNOWN", user="..")


def test_fault_55_user_leading_dash(h):
    run_case(h, "PAM_USER_UNKNOWN", user="-alice")


def test_fault_56_user_300_chars(h):
    run_case(h, "PAM_USER_UNKNOWN", user="a" * 300)


# ---- remote -----------------------------------------------------------
def test_fault_57_remote_request(h):
    run_case(h, "PAM_AUTHINFO_UNAVAIL", apex(), rhost="198.51.100.1")


# ---- the successes, for contrast (state changes expected) -------------
def test_fault_58_u2f_success_advances_only_the_counter(h):
    run_case(h, "PAM_SUCCESS", apex(), methods='[ "u2f" ]', changes=True)


def test_fault_59_hmac_success_rolls_the_state(h):
    run_case(h, "PAM_SUCCESS", apex(), methods='[ "hmac" ]', changes=True)


def test_fault_60_uid_success_changes_nothing(h):
    run_case(h, "PAM_SUCCESS", ntag(), methods='[ "uid" ]')


# ---- the module's reap without pidfds -----------------------------------

def no_pidfd_env(h):
    """The caller's environment for a module whose pidfd_open() fails (Linux
    < 5.3, or a seccomp filter): tests/tools/nopidfd.so refuses it and
    leaves a mark when it did."""
    mark = f"{ROOT}/tmp/nopidfd.mark"
    if os.path.exists(mark):
        os.unlink(mark)
    env = {"PATH": "/usr/bin:/bin", "NOPIDFD_MARK": mark,
           "LD_PRELOAD": os.path.join(harness.BUILD, "tests", "nopidfd.so")}
    if os.environ.get("VIVO_SANITIZE") == "1":
        env["ASAN_OPTIONS"] = "verify_asan_link_order=0"
    return env, mark


def test_fault_61_without_pidfds_success_still_comes(h):
    env, mark = no_pidfd_env(h)
    run_case(h, "PAM_SUCCESS", ntag(), methods='[ "uid" ]', env=env)
    check(os.path.exists(mark), "the module asked for a pidfd and was refused")


def test_fault_62_without_pidfds_a_lingering_helper_is_killed(h):
    env, mark = no_pidfd_env(h)
    r = run_case(h, "PAM_SYSTEM_ERR", helper_mode="ok-then-hang", env=env)
    check(os.path.exists(mark), "the module asked for a pidfd and was refused")
    check(any("did not exit cleanly" in l for l in r.log), "logged", r.log)


# ---- hardening (issue "shared machine", finding 6) ----------------------

def nodump_helper(h, mode):
    """A helper= wrapper that starts the real helper with tests/tools/
    nodump.so making prctl(PR_SET_DUMPABLE) or setrlimit(RLIMIT_CORE) fail
    (the module gives the helper an empty environment, so the wrapper sets
    LD_PRELOAD itself)."""
    path = f"{ROOT}/bin/nodump-{mode}"
    asan = ("ASAN_OPTIONS=verify_asan_link_order=0 "
            if os.environ.get("VIVO_SANITIZE") == "1" else "")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\nexec env NODUMP_FAIL={mode} {asan}LD_PRELOAD="
                f"{os.path.join(harness.BUILD, 'tests', 'nodump.so')} "
                f"{h.helper}\n")
    os.chmod(path, 0o755)
    return path


def _helper_cannot_harden(h, mode):
    write_config(h)
    with open(f"{ROOT}/pam.d/faults", "w") as f:
        f.write(f"auth [ignore=ignore default=done] {h.module} "
                f"helper={nodump_helper(h, mode)} "
                f"config={ROOT}/etc/pam_vivo.conf timeout={TIMEOUT} nouserok\n"
                "auth required pam_debug.so auth=cred_insufficient\n")
    before = snapshot()
    cmd, _ = h.tap_command(delay=0.1, hold=TIMEOUT + 1.0, **ntag())
    r = h.pam("alice", service="faults", on_info=cmd)
    check(r.code == "PAM_SYSTEM_ERR", "expected PAM_SYSTEM_ERR", r)
    check(r.elapsed_ms <= TIMEOUT * 1000 + 1000,
          "answered within timeout + 1 s", r)
    check(snapshot() == before, "no enrollment changed")
    check(any("non-dumpable" in l for l in r.log), "logged why", r.log)


def test_fault_63_helper_cannot_make_itself_non_dumpable(h):
    _helper_cannot_harden(h, "prctl")


def test_fault_64_helper_cannot_set_its_core_limit_to_0(h):
    _helper_cannot_harden(h, "setrlimit")


def test_fault_65_enrollment_label_with_bidi_control(h):
    """U+202E RIGHT-TO-LEFT OVERRIDE in a hand-edited label: the file is
    refused like any other invalid label (row 44)."""
    text = open(f"{BASE}/alice", "rb").read().replace(
        b'"ntag"', '"nt\u202eag"'.encode())
    r = run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))
    check(any("implant 2: label:" in l for l in r.log),
          "the log names the file and the entry", r.log)
    l = h.enroll("list", "--user", "alice")
    check(l.returncode == 1 and "implant 2: label:" in l.stderr,
          "and so does vivo-enroll list", l)


def test_fault_66_enrollment_label_with_control_byte(h):
    """An ESC (a terminal escape) in a hand-edited label: refused."""
    text = open(f"{BASE}/alice", "rb").read().replace(b'"ntag"',
                                                      b'"nt\x1b[2Jag"')
    run_case(h, "PAM_AUTH_ERR", apex(), prepare=_write_store(text))


# ---- the shared machine ----------------------------------------------
def test_fault_67_u2f_clone_signal_ends_the_request(h):
    """A u2f counter that did not grow (a clone, or a replay) ends the
    request: the same tap is not then accepted through the same chip's
    hmac entry, which would verify (shared-machine finding 5)."""
    r = run_case(h, "PAM_AUTH_ERR", apex("--fault", "u2f-counter-stuck"))
    check(any("cloned" in l and "apex-u2f" in l for l in r.log),
          "a warning says the implant may have been cloned", r.log)
    check(any("cloned" in e for e in r.errors),
          "and the person is told", r)
