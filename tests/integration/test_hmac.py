# SPDX-License-Identifier: BSD-2-Clause
"""Issue 3: the `hmac` method (YubiKey-compatible HMAC-SHA1
challenge-response) with a rolling, replay-safe, crash-safe state.

The virtual implant's HMAC applet (tests/vimplant) is independent of the
product; so is the state check below, which re-derives everything with
python3-cryptography from docs/hmac.md.
"""

import hashlib
import hmac as hmac_mod
import os
import random
import re
import shutil
import subprocess
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import harness
from harness import ROOT, USERS
from test_foundation import CUE, apdus, check

KEY = "303132333435363738393a3b3c3d3e3f40414243"
KEY2 = "a1" * 20


def setup(h):
    h.clear_readers()
    h.reset_store()
    h.config(methods='[ "hmac", "uid" ]')
    h.service()
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("hmac"):
            os.unlink(f"{ROOT}/tmp/{f}")


def chip(h, key=KEY, slot=2, state=None, extra=()):
    """vimplant arguments for an Apex-like implant with the HMAC applet."""
    x = ["--hmac-slot%d" % slot, key] if key else []
    if state:
        x += ["--hmac-state", state]
    return dict(personality="apex", uid="04AABBCCDDEEFF", extra=x + list(extra))


def enroll_hmac(h, mode="--secret-stdin", key=KEY, slot=2, user="alice",
                label=None, as_user=None, chipargs=None, expect_ok=True,
                stdin=None):
    args = ["add", "--method", "hmac", "--slot", str(slot), mode,
            "--timeout", "5"]
    if mode == "--program":
        args.append("--yes")
    if user and not as_user:
        args += ["--user", user]
    if label:
        args += ["--label", label]
    if stdin is None:
        stdin = key + "\n" if mode == "--secret-stdin" else ""
    ca = chipargs or chip(h, key=key if mode == "--secret-stdin" else None,
                          slot=slot)
    rc, out, err = h.enroll_with_tap(args, ca, stdin=stdin, as_user=as_user,
                                     hold=2.0)
    if expect_ok:
        check(rc == 0, "enroll failed", (out, err))
    return rc, out, err


def tap(h, user="alice", chipargs=None, **kw):
    ca = chipargs or chip(h)
    cmd, log = h.tap_command(delay=0.1, hold=2.0, **ca)
    return h.pam(user, on_info=cmd, **kw), log


def state_of(path, label):
    """(challenge, sealed) of an entry, read straight from the text."""
    text = open(path).read()
    blocks = text.split("label = ")
    for b in blocks[1:]:
        if b.startswith(f'"{label}"'):
            c = re.search(r'challenge = "([0-9a-f]+)"', b).group(1)
            s = re.search(r'sealed = "([0-9a-f]+)"', b).group(1)
            slot = int(re.search(r"slot = (\d+)", b).group(1))
            return bytes.fromhex(c), bytes.fromhex(s), slot
    raise AssertionError(f"no entry {label} in {path}")


def opens_with(path, label, user, key_hex):
    """Independent check of docs/hmac.md: R = HMAC-SHA1(K, C); AES key =
    HKDF-SHA256(R, salt C, info); AES-256-GCM(nonce, ct||tag, AAD)."""
    c, sealed, slot = state_of(path, label)
    k = bytes.fromhex(key_hex)
    r = hmac_mod.new(k, c, hashlib.sha1).digest()
    aes = HKDF(algorithm=hashes.SHA256(), length=32, salt=c,
               info=b"pam_vivo hmac v1").derive(r)
    aad = b"pam_vivo hmac v1\0" + user.encode() + b"\0" + bytes([slot])
    try:
        return AESGCM(aes).decrypt(sealed[:12], sealed[12:], aad) == k
    except Exception:
        return False


# 1 is a unit test: tests/unit/test_hmac.c (the ykchalresp vector).

# 2 ---------------------------------------------------------------------
def test_hmac_01_secret_stdin_enroll_then_authenticate_rolls_state(h):
    rc, out, err = enroll_hmac(h, label="apex")
    check("Enrolled \"apex\"" in out, "enrolled", out)
    path = h.store_path("alice")
    c0 = state_of(path, "apex")[0]
    check(opens_with(path, "apex", "alice", KEY), "state opens with K")
    r, log = tap(h)
    check(r.code == "PAM_SUCCESS", "first authentication", r)
    check(r.info == [CUE], "cue", r)
    sent = apdus(log)
    check(len(sent) == 2 and sent[0].startswith("00A40400")
          and sent[1].startswith("0001380040"), "SELECT + one CHALLENGE", sent)
    check(sent[1][10:10 + 126] == c0.hex().upper(),
          "the stored challenge was sent", sent)
    c1 = state_of(path, "apex")[0]
    check(c1 != c0, "the stored challenge changed")
    check(opens_with(path, "apex", "alice", KEY), "the new state opens with K")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "second authentication", r)
    check(state_of(path, "apex")[0] not in (c0, c1), "rolled again")
    check(any("method=hmac" in l and 'implant="apex' in l for l in r.log),
          "logged", r.log)


def test_hmac_02_program_enroll_then_authenticate(h):
    st = f"{ROOT}/tmp/hmac-state.json"
    ca = chip(h, key=None, state=st)
    rc, out, err = enroll_hmac(h, mode="--program", chipargs=ca, label="new")
    check("new random secret" in out, "told", out)
    check(not re.search(r"[0-9a-f]{40}", out + err), "the secret is never shown",
          out + err)
    r, _ = tap(h, chipargs=ca)
    check(r.code == "PAM_SUCCESS", "authenticates with the programmed slot", r)
    r, _ = tap(h, chipargs=ca)
    check(r.code == "PAM_SUCCESS", "and again", r)


def test_hmac_02b_program_asks_first(h):
    args = [h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf", "add",
            "--method", "hmac", "--slot", "1", "--program"]
    p = subprocess.run(args, input="n\n", capture_output=True, text=True,
                       timeout=10)
    check(p.returncode != 0 and "not confirmed" in p.stderr, "refused", p)
    check("stops working" in p.stdout, "the question explains the risk", p)


# 3 ---------------------------------------------------------------------
def test_hmac_03_replayed_response_is_auth_err(h):
    enroll_hmac(h, label="apex")
    rec = f"{ROOT}/tmp/hmac-rec.jsonl"
    r, _ = tap(h, chipargs=chip(h, extra=["--fault", f"hmac-replay={rec}"]))
    check(r.code == "PAM_SUCCESS", "recorded a real exchange", r)
    r, _ = tap(h, chipargs=chip(h, key=KEY2,
                                extra=["--fault", f"hmac-replay-use={rec}"]))
    check(r.code == "PAM_AUTH_ERR", "a replayed response must fail", r)
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "the real implant still works", r)


# 4 ---------------------------------------------------------------------
def test_hmac_04_wrong_secret_is_refused_at_enroll(h):
    rc, out, err = enroll_hmac(h, key=KEY, chipargs=chip(h, key=KEY2),
                               expect_ok=False)
    check(rc != 0 and "does not match" in err, "refused", err)
    check(not os.path.exists(h.store_path("alice")), "nothing written")


def test_hmac_04b_other_implant_is_auth_err(h):
    enroll_hmac(h, label="apex")
    r, _ = tap(h, chipargs=chip(h, key=KEY2))
    check(r.code == "PAM_AUTH_ERR", "another implant's slot", r)
    check(r.errors == ["This implant is not enrolled for alice."], "told", r)


def test_hmac_04c_unprogrammed_slot_is_auth_err(h):
    enroll_hmac(h, label="apex")
    r, _ = tap(h, chipargs=chip(h, key=KEY, slot=1))  # slot 2 empty
    check(r.code == "PAM_AUTH_ERR", "unprogrammed slot", r)
    check(any("slot 2 of the chip presented is not programmed" in l
              for l in r.log), "a clear log line", r.log)


def test_hmac_04d_chip_without_applet_is_auth_err(h):
    enroll_hmac(h, label="apex")
    r, _ = tap(h, chipargs=dict(personality="ntag216", uid="04010203040506"))
    check(r.code == "PAM_AUTH_ERR", "no applet", r)


# 5 ---------------------------------------------------------------------
def test_hmac_05_state_file_alone_reveals_nothing(h):
    enroll_hmac(h, label="apex")
    path = h.store_path("alice")
    raw = open(path, "rb").read()
    k = bytes.fromhex(KEY)
    c, sealed, _ = state_of(path, "apex")
    resp = hmac_mod.new(k, c, hashlib.sha1).digest()
    for secret in (k, resp):
        check(secret not in raw and secret.hex().encode() not in raw
              and secret.hex().upper().encode() not in raw,
              "neither the key nor the expected response is in the file")
    # the file copied to another user's store does not work there
    shutil.copy(path, h.store_path("bob"))
    r, _ = tap(h, user="bob")
    check(r.code == "PAM_AUTH_ERR", "a state is bound to its user", r)
    # and without the implant, nothing opens it (no chip answers C)
    r, _ = tap(h, chipargs=chip(h, key=None))
    check(r.code == "PAM_AUTH_ERR", "an empty slot gets nothing", r)


# 6 ---------------------------------------------------------------------
def test_hmac_06_read_only_store_is_not_success_and_old_state_stays(h):
    enroll_hmac(h, label="apex")
    path = h.store_path("alice")
    before = open(path).read()
    subprocess.run(["mount", "--bind", f"{ROOT}/store", f"{ROOT}/store"],
                   check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", f"{ROOT}/store"],
                   check=True)
    try:
        r, _ = tap(h)
    finally:
        subprocess.run(["umount", f"{ROOT}/store"], check=True)
    check(r.code != "PAM_SUCCESS", "no success without a durable state", r)
    check(r.code == "PAM_SYSTEM_ERR", "reported as a system error", r)
    check(any("cannot store the new state" in l or "cannot lock" in l
              for l in r.log), "log", r.log)
    check(open(path).read() == before, "the old state is intact")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "the old state is still accepted", r)


def test_hmac_06b_full_filesystem_is_not_success_and_old_state_stays(h):
    store = f"{ROOT}/store"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=755", "tmpfs",
                    store], check=True)
    try:
        enroll_hmac(h, label="apex")
        path = h.store_path("alice")
        before = open(path).read()
        filler = f"{store}/filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError:
            pass
        os.close(fd)
        r, _ = tap(h)
        check(r.code == "PAM_SYSTEM_ERR", "full disk: not success", r)
        check(open(path).read() == before, "old state intact")
        check([n for n in os.listdir(store) if ".tmp." in n] == [],
              "no temp file left behind", os.listdir(store))
        os.unlink(filler)
        r, _ = tap(h)
        check(r.code == "PAM_SUCCESS", "accepted once there is room", r)
    finally:
        subprocess.run(["umount", store], check=True)


# 7 ---------------------------------------------------------------------
def test_hmac_07_kill_9_during_update_never_loses_the_state(h):
    """200 x kill -9 of the state update (the helper's own code path,
    vivo_hmac_roll, run in a loop by tests/tools/hmac_roll) at random
    points; after each: the store parses and the state opens with K (old
    or new). The kills must land on many different states (> 100) to show
    they hit the update throughout; a slow machine (sanitizers) gets more
    rounds, up to 600, to get there. Then real taps, including helpers
    killed at random moments."""
    enroll_hmac(h, label="apex")
    path = h.store_path("alice")
    tool = os.path.join(harness.BUILD, "tests", "hmac_roll")
    seen = set()
    rounds = 0
    while rounds < 200 or (len(seen) <= 100 and rounds < 600):
        rounds += 1
        i = rounds
        p = subprocess.Popen([tool, path, "alice", "apex", KEY],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # time the kill from the moment it rolls, not from exec
        first = p.stdout.readline()
        check(first == b"rolling\n", f"round {i}: the roller started",
              p.stderr.read() if first == b"" else first)
        time.sleep(random.uniform(0.0, 0.02))
        p.kill()
        _, err = p.communicate()
        check(p.returncode == -9, f"round {i}: the roller was running", err)
        l = h.enroll("list", "--user", "alice")
        check(l.returncode == 0 and "apex" in l.stdout,
              f"round {i}: the store parses", l.stderr)
        check(opens_with(path, "apex", "alice", KEY),
              f"round {i}: the state opens (old or new)")
        seen.add(state_of(path, "apex")[0])
    check(len(seen) > 100, f"the kills landed on many different states "
          f"in {rounds} rounds", len(seen))
    # real helpers killed at random moments after the tap
    for i in range(5):
        cmd, _ = h.tap_command(delay=0.1, hold=2.0, **chip(h))
        p = subprocess.Popen(
            [h.pamdrive, "--confdir", f"{ROOT}/pam.d", "--service", "vivo",
             "--user", "alice", "--on-info", cmd],
            stdout=subprocess.PIPE, text=True)
        time.sleep(random.uniform(0.3, 1.2))
        # only our pamdrive's helper
        subprocess.run(["pkill", "-9", "-P", str(p.pid), "-x", "vivo-helper"],
                       check=False)
        p.communicate(timeout=30)
        h.clear_readers()
        check(opens_with(path, "apex", "alice", KEY),
              f"helper kill {i}: the state still opens")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "accepted on the next tap", r)
    check([n for n in os.listdir(f"{ROOT}/store") if ".tmp." in n] == [],
          "stale temp files are cleaned up", os.listdir(f"{ROOT}/store"))


# 8 ---------------------------------------------------------------------
def test_hmac_08_two_waiting_requests_one_tap_consume_nothing(h):
    """Two requests wait, one tap: before the shared-machine fix whichever
    won the race consumed the state (possibly a request of someone else's);
    now neither may use the tap (one tap, one request), the state is not
    consumed, and the next single request works. The compare-and-swap that
    still guards the state against a concurrent writer is in the unit
    tests."""
    enroll_hmac(h, label="apex")
    path = h.store_path("alice")
    before = state_of(path, "apex")
    procs = [subprocess.Popen(
        [h.pamdrive, "--confdir", f"{ROOT}/pam.d", "--service", "vivo",
         "--user", "alice"], stdout=subprocess.PIPE, text=True)
        for _ in range(2)]
    time.sleep(1.0)         # both helpers waiting
    imp = h.implant(hold=3.0, wait_present=False, **chip(h))
    outs = [p.communicate(timeout=30)[0] for p in procs]
    imp.stop()
    codes = [re.search(r"result: \d+ (\w+)", o).group(1) for o in outs]
    check(codes == ["PAM_AUTHINFO_UNAVAIL"] * 2, "neither uses the tap",
          codes)
    check(state_of(path, "apex") == before, "the state was not consumed")
    check(opens_with(path, "apex", "alice", KEY), "state intact")
    h.clear_readers()
    time.sleep(1.6)         # the contest marker of that tap expires
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS", "works afterwards", r)


# 9 ---------------------------------------------------------------------
def test_hmac_09_removed_between_select_and_challenge_is_not_success(h):
    enroll_hmac(h, label="apex")
    h.config(methods='[ "hmac" ]', timeout="3")
    r, log = tap(h, chipargs=chip(h, extra=["--remove-after", "2"]))
    check(r.code in ("PAM_AUTHINFO_UNAVAIL", "PAM_AUTH_ERR"), "never success", r)
    check(r.elapsed_ms <= 4000, "within timeout + 1 s", r)


# more ------------------------------------------------------------------
def test_hmac_10_mixed_methods_per_user(h):
    from test_foundation import enroll_tap
    enroll_hmac(h, label="apex")
    enroll_tap(h, user="alice", uid="04A1B2C3D4E5F6", label="ntag")
    r, _ = tap(h)
    check(r.code == "PAM_SUCCESS" and any("method=hmac" in l for l in r.log),
          "the hmac implant", r)
    r, _ = tap(h, chipargs=dict(personality="ntag216", uid="04A1B2C3D4E5F6"))
    check(r.code == "PAM_SUCCESS" and any("method=uid" in l for l in r.log),
          "the uid chip", r)


def test_hmac_11_screen_locker_with_user_store(h):
    h.config(methods='[ "hmac" ]', user_store="true")
    enroll_hmac(h, label="apex", as_user="alice", user=None)
    path = f"{ROOT}/home/alice/.config/pam_vivo/implants"
    c0 = state_of(path, "apex")[0]
    r, _ = tap(h, as_user="alice")
    check(r.code == "PAM_SUCCESS", "screen locker, hmac, user store", r)
    check(state_of(path, "apex")[0] != c0, "rolled in the user store")
    st = os.stat(path)
    check(st.st_uid == USERS["alice"] and (st.st_mode & 0o777) == 0o600,
          "still alice's, 0600", oct(st.st_mode))
    c1 = state_of(path, "apex")[0]
    r, _ = tap(h)   # root-run (login, sudo): alice's own file opens nothing
    check(r.code == "PAM_USER_UNKNOWN", "root caller ignores the user store",
          r)
    check(state_of(path, "apex")[0] == c1, "and does not touch it")


def test_hmac_12_screen_locker_cannot_roll_system_store(h):
    enroll_hmac(h, label="apex")
    r, _ = tap(h, as_user="alice")
    check(r.code != "PAM_SUCCESS", "no success when the state cannot be "
          "written", r)
