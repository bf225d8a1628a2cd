# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12: the `fido2` method (CTAP 2.1 over ISO 7816 through libfido2 and
our PC/SC transport). The virtual implant's CTAP2 authenticator
(tests/vimplant/vimplant_ctap2.py) is written from the CTAP 2.1
specification, independently of the product, and checked on its own by
python3-fido2's client (tests/vimplant/selftest.sh)."""

import json
import os
import re
import subprocess

from harness import ROOT
from test_foundation import CUE, apdus, check

RPID = "pam://vivo-test"
PIN = "4711-implant"
PROMPT = "Implant PIN (Enter to skip): "


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "fido2" ]', fido2=f'{{ rpid = "{RPID}"; }}')
    h.service()
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("ctap2"):
            os.unlink(f"{ROOT}/tmp/{f}")


def state(name):
    return f"{ROOT}/tmp/ctap2-{name}.json"


def chip(name="a", pin=None, extra=(), personality="apex"):
    """An implant with a CTAP2 applet whose keys, PIN and counters live in
    its own state file (one file = one physical implant)."""
    args = ["--ctap2", "--ctap2-state", state(name)]
    if pin is not None:
        args += ["--ctap2-pin", pin]
    return dict(personality=personality, uid="04AABBCCDD0012",
                extra=args + list(extra))


def retries(name="a"):
    with open(state(name)) as f:
        return json.load(f)["pin_retries"]


def set_retries(name, n):
    with open(state(name)) as f:
        s = json.load(f)
    s["pin_retries"] = n
    with open(state(name), "w") as f:
        json.dump(s, f)


def enroll(h, label=None, user="alice", chipargs=None, options=(), pin=None,
           expect_ok=True, config=None):
    args = ["add", "--method", "fido2", "--timeout", "5", "--user", user]
    if label:
        args += ["--label", label]
    args += list(options)
    stdin = ""
    if pin is not None:
        args += ["--pin-stdin"]
        stdin = pin + "\n"
    rc, out, err = h.enroll_with_tap(args, chipargs or chip(), stdin=stdin,
                                     config=config)
    if expect_ok:
        check(rc == 0, "enroll failed", (out, err))
    return rc, out, err


def tap(h, user="alice", chipargs=None, hold=2.5, **kw):
    cmd, log = h.tap_command(delay=0.1, hold=hold, **(chipargs or chip()))
    return h.pam(user, on_info=cmd, **kw), log


def entry(user, label):
    text = open(f"{ROOT}/store/.public/{user}").read()
    return text.split(f'label = "{label}"')[1].split("}")[0]


def counter_of(user, label):
    return int(re.search(r"counter = (\d+)", entry(user, label)).group(1))


def ctap_lines(log):
    try:
        with open(log) as f:
            return [l.split()[1:] for l in f if l.startswith("ctap2 ")]
    except FileNotFoundError:
        return []


def pin_attempts(log):
    """clientPin token requests that reached the chip (each costs an
    attempt when the PIN is wrong)."""
    return [l for l in ctap_lines(log)
            if l[0].startswith("clientPin.getPin") and "Token" in l[0]]


# ---------------------------------------------------------------------
def test_fido2_01_enroll_then_authenticate(h):
    rc, out, err = enroll(h, label="apex")
    check("rp id pam://vivo-test" in out, "says what it makes", out)
    text = open(h.store_path("alice", public=True)).read()
    check('method = "fido2"' in text and f'rpid = "{RPID}"' in text,
          "the credential is in the public store", text)
    check(not os.path.exists(h.store_path("alice")) or
          "fido2" not in open(h.store_path("alice")).read(),
          "and not in the protected one")
    check(oct(os.stat(h.store_path("alice", public=True)).st_mode & 0o777)
          == "0o644", "public data, world-readable")
    c0 = counter_of("alice", "apex")
    r, log = tap(h)
    check(r.code == "PAM_SUCCESS", "fido2 login", r)
    check(r.info == [CUE] and r.prompts == [], "cue, no PIN prompt", r)
    sent = apdus(log)
    check(sent[0] == "00A4040008A0000006472F000100", "SELECT", sent)
    check(any(a.startswith("80108000") for a in sent),
          "NFCCTAP_MSG with P1 80 (keep-alive polled)", sent)
    cmds = [l[0] for l in ctap_lines(log)]
    check("getInfo" in cmds and "getAssertion" in cmds, "CTAP2 commands", cmds)
    check(not any(c.startswith("clientPin") for c in cmds),
          "no PIN involved", cmds)
    c1 = counter_of("alice", "apex")
    check(c1 > c0, "the counter was stored", (c0, c1))
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS" and counter_of("alice", "apex") > c1,
          "again, and the counter grew", r)
    check(any("method=fido2" in l and 'implant="apex' in l for l in r.log),
          "log", r.log)


def test_fido2_02_another_implant_is_auth_err(h):
    enroll(h, label="apex")
    r, _ = tap(h, chipargs=chip("b"))
    check(r.code == "PAM_AUTH_ERR", "a chip without the credential", r)
    check(any("not enrolled" in e for e in r.errors), "says so", r)


def test_fido2_03_another_rp_id_is_refused(h):
    enroll(h, label="apex")
    h.config(methods='[ "fido2" ]', fido2='{ rpid = "pam://elsewhere"; }')
    r, log = tap(h)
    check(r.code == "PAM_AUTH_ERR", "enrolled for another rp id", r)
    check(any("rp id pam://vivo-test" in l for l in r.log), "reason", r.log)
    check(not any(l[0] == "getAssertion" for l in ctap_lines(log)),
          "nothing asked of the chip", ctap_lines(log))


def test_fido2_04_pin_enroll_and_login(h):
    rc, out, err = enroll(h, label="apex", options=["--require-pin"],
                          chipargs=chip(pin=PIN), pin=PIN)
    check("require_pin = true" in entry("alice", "apex"), "stored", out)
    r, log = tap(h, pin=PIN)
    check(r.code == "PAM_SUCCESS", "login with the PIN", r)
    check(r.prompts == [PROMPT], "asked once, before the cue", r)
    check(r.stdout.index("prompt-noecho") < r.stdout.index("info: " + CUE),
          "the prompt comes before the cue", r.stdout)
    check(len(pin_attempts(log)) == 1, "one PIN use", ctap_lines(log))
    cmds = [l[0] for l in ctap_lines(log)]
    # the chip proves itself (a silent assertion) before it sees the PIN
    first_pin = next(i for i, c in enumerate(cmds) if c.startswith("clientPin"))
    check("getAssertion" in cmds[:first_pin], "pre-flight first", cmds)
    check(retries() == 8, "nothing spent", retries())
    # the PIN is in no log line and no file we wrote
    everything = "\n".join(r.log) + open(log).read() + \
        open(h.store_path("alice", public=True)).read()
    check(PIN not in everything, "the PIN is never written down")


def test_fido2_05_wrong_pin_costs_exactly_one(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    check(retries() == 8, "full")
    r, log = tap(h, pin="0000-wrong")
    check(r.code == "PAM_AUTH_ERR", "wrong PIN", r)
    check(retries() == 7, "exactly one attempt gone", retries())
    check(len(pin_attempts(log)) == 1, "sent once, never retried",
          ctap_lines(log))
    check(any("Wrong PIN" in e and "7 more attempts" in e for e in r.errors),
          "says how many are left", r)
    r, _ = tap(h, pin=PIN)
    check(r.code == "PAM_SUCCESS" and retries() == 8,
          "the right PIN works and restores the count", (r, retries()))


def test_fido2_06_below_the_floor_no_pin_is_sent(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    set_retries("a", 2)
    r, log = tap(h, pin=PIN)
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "no PIN below the floor", r)
    check(pin_attempts(log) == [], "no PIN token asked for", ctap_lines(log))
    check(retries() == 2, "nothing spent", retries())
    check(any("2 PIN attempts left" in e for e in r.errors), "says so", r)
    # the floor is the config's
    h.config(methods='[ "fido2" ]',
             fido2=f'{{ rpid = "{RPID}"; min_pin_retries = 2; }}')
    r, _ = tap(h, pin=PIN)
    check(r.code == "PAM_SUCCESS", "at the floor it may", r)


def test_fido2_07_conversation_fails_at_the_pin_prompt(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    r = h.pam("alice", conv="failprompt")
    check(r.code == "PAM_CONV_ERR", "conversation failure", r)
    check(any("PIN prompt" in l for l in r.log), "logged", r.log)
    # a caller that answers nothing (pamdrive without --pin) is no PIN:
    # PAM_CONV_ERR too, and nothing reached a chip
    r = h.pam("alice")
    check(r.code == "PAM_CONV_ERR", "no answer", r)


def test_fido2_08_empty_pin_skips_the_pin_entries(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    r, log = tap(h, pin="")
    check(r.code == "PAM_AUTH_ERR", "nothing proved", r)
    check(pin_attempts(log) == [] and retries() == 8, "no PIN sent")


def test_fido2_09_config_require_pin(h):
    enroll(h, label="apex", chipargs=chip(pin=PIN))
    check("require_pin = false" in entry("alice", "apex"), "plain entry")
    h.config(methods='[ "fido2" ]',
             fido2=f'{{ rpid = "{RPID}"; require_pin = true; }}')
    r, log = tap(h, pin=PIN)
    check(r.code == "PAM_SUCCESS" and r.prompts == [PROMPT],
          "the config asks for the PIN", r)
    check(len(pin_attempts(log)) == 1, "and it was used", ctap_lines(log))


def test_fido2_10_uv_flag_missing_is_refused(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    r, _ = tap(h, pin=PIN, chipargs=chip(extra=["--fault", "ctap2-no-uv"]))
    check(r.code == "PAM_AUTH_ERR", "UV flag missing from the signed data", r)
    check(any("UV flag" in l for l in r.log), "reason", r.log)


def test_fido2_11_forged_answers_are_refused(h):
    enroll(h, label="apex")
    for fault, why in (("ctap2-wrong-rpid-hash", "verify"),
                       ("ctap2-bad-signature", "verify"),
                       ("ctap2-malformed-cbor", "getAssertion"),
                       ("ctap2-error=27", "getAssertion"),
                       ("ctap2-error=2E", "not enrolled")):
        r, _ = tap(h, chipargs=chip(extra=["--fault", fault]))
        check(r.code == "PAM_AUTH_ERR", fault, r)
        check(any(why in l for l in r.log), f"{fault}: reason", r.log)
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "the genuine chip still works", r)


def test_fido2_12_counter_stuck_is_a_clone(h):
    enroll(h, label="apex", chipargs=chip(extra=["--fault",
                                                 "ctap2-counter-stuck"]))
    r, _ = tap(h, chipargs=chip(extra=["--fault", "ctap2-counter-stuck"]))
    check(r.code == "PAM_AUTH_ERR", "counter did not grow", r)
    check(any("cloned" in e for e in r.errors), "says so", r)
    check(any("may have been cloned" in l for l in r.log), "warns", r.log)


def test_fido2_13_chip_without_counter(h):
    rc, out, err = enroll(h, label="apex", chipargs=chip(
        extra=["--ctap2-counter-step", "zero"]))
    check("has no counter" in out, "enrollment says so", out)
    for _ in range(2):
        r, _ = tap(h, chipargs=chip(extra=["--ctap2-counter-step", "zero"]))
        check(r.code == "PAM_SUCCESS", "a chip without counter logs in", r)
    check(counter_of("alice", "apex") == 0, "still 0")


def test_fido2_14_framing_variants(h):
    # three credentials: the allow list makes getAssertion longer than a
    # short APDU holds. A chip without extended APDUs gets them chained.
    for label in ("one", "two", "three"):
        enroll(h, label=label)
    r, log = tap(h, chipargs=chip(extra=["--no-extended"]))
    check(r.code == "PAM_SUCCESS", "short-only chip", r)
    sent = apdus(log)
    check(any(a.startswith("90108000") for a in sent), "chained", sent)
    r, log = tap(h)
    check(r.code == "PAM_SUCCESS", "extended-length chip", r)
    check(any(a.startswith("8010800000") for a in apdus(log)),
          "one extended APDU", apdus(log))
    r, log = tap(h, chipargs=chip(extra=["--ctap2-keepalive", "3",
                                         "--ctap2-chunk", "64"]))
    check(r.code == "PAM_SUCCESS", "keep-alive and 61 xx pieces", r)
    sent = apdus(log)
    check(sent.count("8011000000") >= 2 and
          any(a.startswith("00C00000") for a in sent),
          "polled with NFCCTAP_GETRESPONSE, collected with GET RESPONSE",
          sent)


def test_fido2_15_eddsa_chip(h):
    c = chip(extra=["--ctap2-algs", "eddsa"])
    enroll(h, label="ed", chipargs=c)
    check('type = "eddsa"' in entry("alice", "ed"), "EdDSA key stored")
    r, _ = tap(h, chipargs=c)
    check(r.code == "PAM_SUCCESS", "EdDSA assertion verified", r)


def test_fido2_16_always_uv_chip(h):
    c = chip(pin=PIN, extra=["--ctap2-always-uv"])
    rc, out, err = enroll(h, label="auv", chipargs=c, pin=PIN)
    check("alwaysUv" in out and "require_pin = true" in entry("alice", "auv"),
          "the enrollment needs the PIN, and says why", out)
    r, _ = tap(h, chipargs=c, pin=PIN)
    check(r.code == "PAM_SUCCESS", "login with the PIN", r)


def test_fido2_17_enroll_refusals(h):
    rc, out, err = enroll(h, label="x", options=["--require-pin"],
                          expect_ok=False)
    check(rc != 0 and "no FIDO PIN set" in err, "no PIN on the chip", err)
    rc, out, err = enroll(h, label="x", options=["--require-pin"],
                          chipargs=chip("p", pin=PIN), pin="0000-wrong",
                          expect_ok=False)
    check(rc != 0 and "wrong PIN" in err and "nothing was written" in err,
          "wrong PIN", err)
    check(retries("p") == 7, "one attempt", retries("p"))
    check(not os.path.exists(h.store_path("alice", public=True)),
          "nothing written")
    rc, out, err = enroll(h, label="x", chipargs=dict(personality="apex"),
                          expect_ok=False)
    check(rc != 0 and "U2F only" in err, "a U2F-only applet", err)
    p = h.enroll("add", "--method", "u2f", "--require-pin")
    check(p.returncode == 2 and "for --method fido2" in p.stderr,
          "fido2 options are for fido2", p.stderr)


def test_fido2_18_enroll_test_and_probe(h):
    enroll(h, label="apex", options=["--require-pin"],
           chipargs=chip(pin=PIN), pin=PIN)
    p = subprocess.Popen([h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf",
                          "test", "--user", "alice", "--timeout", "6",
                          "--pin-stdin"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    p.stdin.write(PIN + "\n")
    p.stdin.close()
    p.stdin = None
    p.stdout.readline()
    imp = h.implant(hold=3.0, wait_present=False, **chip(pin=PIN))
    out, err = p.communicate(timeout=20)
    imp.stop()
    h.clear_readers()
    check(p.returncode == 0 and "method fido2" in out, "vivo-enroll test",
          (out, err))
    imp = h.implant(**chip(pin=PIN))
    p = h.enroll("probe", "--timeout", "2")
    imp.stop()
    out = p.stdout
    check(p.returncode == 0, "probe", p.stderr)
    check("FIDO2 (CTAP2): versions" in out and "clientPin=set" in out and
          "PIN retries 8" in out and "AAGUID 76696d70" in out,
          "getInfo shown", out)
    check("recommended: fido2" in out, "the strongest method", out)
