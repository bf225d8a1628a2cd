# SPDX-License-Identifier: BSD-2-Clause
"""Issue 15: enrollments read from an LDAP directory, against Debian's real
slapd (tests/integration/slapd.py: a private server with its own config,
database and test CA, on ldapi and on loopback ports of the test's own
network namespace). "Two machines" are two configs with their own local
store (their own counters and cache) sharing one directory."""

import base64
import os
import re
import stat
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization

from harness import ROOT, USERS
from slapd import IPA_PASSKEY_SCHEMA, Slapd
from test_foundation import CUE, check
from test_fido2 import chip as fido2_chip, state as fido2_state
from test_u2f import chip as u2f_chip

RPID = "pam://site"
APPID = "pam://site"
_server = None


def server():
    global _server
    if _server is None:
        _server = Slapd(f"{ROOT}/slapd", extra_schemas=(IPA_PASSKEY_SCHEMA,))
        _server.start()
        for u, i in USERS.items():
            _server.add_user(u, i)
            # FreeIPA's class too, for its passkey attribute
            _server.modify(f"dn: {_server.dn(u)}\nchangetype: modify\n"
                           "add: objectClass\nobjectClass: ipaPasskeyUser\n")
    return _server


def machine(h, name="a", uri=None, ca=None, **extra):
    """Machine `name`: its own config and local store; the shared directory."""
    s = server()
    store = f"{ROOT}/store" if name == "a" else f"{ROOT}/store-{name}"
    os.makedirs(store, mode=0o755, exist_ok=True)
    d = {"uri": uri or s.uri_ldapi, "base": s.BASE, "timeout": 2}
    if ca is not None or (uri or "").startswith(("ldaps", "ldap:")):
        d["ca_file"] = ca or s.ca_file
    d.update(extra)
    body = " ".join(f"{k} = {v if isinstance(v, int) else chr(34) + v + chr(34)};"
                    for k, v in d.items())
    return h.config(name=f"machine-{name}.conf", store=f'"{store}"',
                    methods='[ "fido2", "u2f" ]',
                    fido2=f'{{ rpid = "{RPID}"; }}', u2f=f'{{ appid = "{APPID}"; }}',
                    directory=f"{{ {body} }}")


def service(h, cfg, name):
    return h.service(name=name, args=f"config={cfg}")


def setup(h):
    h.clear_readers()
    h.reset_store()
    for d in os.listdir(ROOT):
        if d.startswith("store-"):
            import shutil
            shutil.rmtree(f"{ROOT}/{d}")
    s = server()
    if s.paused:
        s.resume()
    if s.proc is None or s.proc.poll() is not None:
        s.start()
    for u in USERS:
        s.set_values(u, [])
        s.set_values(u, [], attribute="ipaPassKey")
    for f in os.listdir(f"{ROOT}/tmp"):
        if f.startswith("ctap2"):
            os.unlink(f"{ROOT}/tmp/{f}")


def enroll_dir(h, cfg, method="fido2", label="apex", user="alice", extra=()):
    chipargs = fido2_chip() if method == "fido2" else u2f_chip()
    args = ["add", "--method", method, "--timeout", "5", "--user", user,
            "--label", label, "--directory"] + list(extra)
    rc, out, err = h.enroll_with_tap(args, chipargs, config=cfg)
    check(rc == 0, "enroll into the directory", (out, err))
    return out


def tap(h, service_name, user="alice", method="fido2", **kw):
    chipargs = fido2_chip() if method == "fido2" else u2f_chip()
    cmd, _ = h.tap_command(delay=0.1, hold=2.5, **chipargs)
    return h.pam(user, service=service_name, on_info=cmd, **kw)


def local_state(name, user="alice"):
    store = f"{ROOT}/store" if name == "a" else f"{ROOT}/store-{name}"
    return f"{store}/.directory/{user}"


def counters(name, user="alice"):
    return [int(x) for x in re.findall(r"counter = (\d+)L?;",
                                       open(local_state(name, user)).read())]


# ---------------------------------------------------------------------
def test_directory_01_enroll_once_log_in_on_two_machines(h):
    ca, cb = machine(h, "a"), machine(h, "b")
    sa, sb = service(h, ca, "vivo-a"), service(h, cb, "vivo-b")
    out = enroll_dir(h, ca)
    vals = server().get_values("alice")
    check(len(vals) == 1 and vals[0].startswith("vivo1 ") and
          "method=fido2" in vals[0] and "label=apex" in vals[0],
          "one value, in the one-line form", vals)
    check("counter" not in vals[0], "no counter in the directory", vals)
    check(not os.path.exists(h.store_path("alice", public=True)) and
          not os.path.exists(h.store_path("alice")), "no local file", out)
    for m, s in (("a", sa), ("b", sb), ("a", sa)):
        r = tap(h, s)
        check(r.code == "PAM_SUCCESS", f"login on machine {m}", r)
        check(r.info == [CUE], "the cue", r)
    # each machine keeps its own counters: root's, 0600 in a 0700 folder
    for m in ("a", "b"):
        st = os.stat(local_state(m))
        check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
              "local state 0600 root", oct(st.st_mode))
        d = os.stat(os.path.dirname(local_state(m)))
        check(stat.S_IMODE(d.st_mode) == 0o700, "0700 folder", oct(d.st_mode))
    ca_ctr, cb_ctr = counters("a"), counters("b")
    check(len(ca_ctr) == 1 and len(cb_ctr) == 1 and ca_ctr[0] > cb_ctr[0] > 0,
          "machine a saw two logins, b one, each counts its own",
          (ca_ctr, cb_ctr))
    r = h.enroll("list", "--user", "alice", config=ca)
    check(r.returncode == 0 and re.search(r"apex\s+fido2\s.*directory", r.stdout),
          "list says where it comes from", r.stdout)


def test_directory_02_revoke_refused_everywhere(h):
    ca, cb = machine(h, "a"), machine(h, "b")
    sa, sb = service(h, ca, "vivo-a"), service(h, cb, "vivo-b")
    enroll_dir(h, ca)
    for s in (sa, sb):
        check(tap(h, s).code == "PAM_SUCCESS", "enrolled: works", s)
    r = h.enroll("remove", "--label", "apex", "--user", "alice",
                 "--directory", config=ca)
    check(r.returncode == 0 and "every machine" in r.stdout, "removed", r)
    check(server().get_values("alice") == [], "gone from the directory")
    for s in (sa, sb):
        r = tap(h, s)
        check(r.code == "PAM_USER_UNKNOWN", f"refused on {s} at once", r)
        check(any("no enrollment" in l for l in r.log), "reason", r.log)
    # a cached answer does not bring it back while the server answers
    enroll_dir(h, ca, label="again")
    check(tap(h, sa).code == "PAM_SUCCESS", "re-enrolled")
    server().set_values("alice", [])  # the admin's own ldapmodify
    check(tap(h, sa).code == "PAM_USER_UNKNOWN", "revoked by ldapmodify")


def test_directory_03_down_cache_then_unavailable(h):
    ca = machine(h, "a", cache_ttl=7)
    cb = machine(h, "b", cache_ttl=7)
    sa, sb = service(h, ca, "vivo-a"), service(h, cb, "vivo-b")
    enroll_dir(h, ca, method="u2f", label="flex")
    t0 = time.monotonic()  # the lookup comes before the tap
    check(tap(h, sa, method="u2f").code == "PAM_SUCCESS", "fetched and cached")
    server().stop()
    try:
        r = tap(h, sa, method="u2f")
        check(r.code == "PAM_SUCCESS", "the cache, within its ttl", r)
        check(any("cached answer" in l for l in r.log), "logged as cached", r.log)
        # machine b never reached it: no cache, not "not enrolled"
        r = h.pam("alice", service=sb)
        check(r.code == "PAM_AUTHINFO_UNAVAIL", "no cache: unavailable", r)
        check(any("no cached answer" in l for l in r.log) and
              not any("has no enrollment" in l for l in r.log),
              "unreachable is never 'no enrollment'", r.log)
        check(CUE not in r.info, "no tap asked for", r)
        check(time.monotonic() - t0 < 7, "the test was quick enough")
        time.sleep(max(0, 8.2 - (time.monotonic() - t0)))
        r = h.pam("alice", service=sa)
        check(r.code == "PAM_AUTHINFO_UNAVAIL", "after the ttl: unavailable", r)
        check(any("older than cache_ttl" in l for l in r.log), "why", r.log)
    finally:
        server().start()
    check(tap(h, sa, method="u2f").code == "PAM_SUCCESS", "back")


def test_directory_04_tls_and_a_wrong_ca(h):
    s = server()
    enroll_dir(h, machine(h, "a"), method="u2f", label="flex")
    for name, uri in (("tls", s.uri_ldaps), ("starttls", s.uri_ldap)):
        good = service(h, machine(h, name, uri=uri), f"vivo-{name}")
        r = tap(h, good, method="u2f")
        check(r.code == "PAM_SUCCESS", f"{uri} with the right CA", r)
        # the same machine (and its fresh copy), now trusting another CA:
        # whoever answers is not the directory, and the copy is not used
        bad = service(h, machine(h, name, uri=uri, ca=s.wrong_ca_file),
                      f"vivo-{name}x")
        r = h.pam("alice", service=bad)
        check(r.code == "PAM_AUTHINFO_UNAVAIL", f"{uri}, wrong CA: refused", r)
        check(CUE not in r.info, "no tap asked for", r)
        check(any("directory" in l and ("TLS" in l or "certificate" in l)
                  for l in r.log), "says why", r.log)
        # a refusal, not "unreachable": no copy would be used either
        check(not any("cached answer" in l for l in r.log),
              "refused, not unreachable", r.log)
    # over ldaps, a server that is down is unreachable: the copy is used
    tls = service(h, machine(h, "tls", uri=s.uri_ldaps), "vivo-tls")
    check(tap(h, tls, method="u2f").code == "PAM_SUCCESS", "fresh copy")
    s.stop()
    try:
        r = tap(h, tls, method="u2f")
        check(r.code == "PAM_SUCCESS" and
              any("cached answer" in l for l in r.log),
              "ldaps down: the copy", r)
    finally:
        s.start()


def test_directory_05_filter_injection(h):
    ca = machine(h, "a")
    sa = service(h, ca, "vivo-a")
    enroll_dir(h, ca, method="u2f", label="flex")
    check(tap(h, sa, method="u2f").code == "PAM_SUCCESS", "alice herself")
    for name in ("*", "al*", "alice)(uid=*", "*)(|(uid=*", "alice\\2a",
                 "x)(objectClass=*"):
        r = tap(h, sa, user=name, method="u2f")
        check(r.code != "PAM_SUCCESS", f"user {name!r} is nobody", r)
        check(r.code == "PAM_USER_UNKNOWN", f"{name!r}: not found", r)
    # a name nobody has leaves no file behind
    check(sorted(os.listdir(os.path.dirname(local_state("a")))) ==
          [".lock", "alice"], "only alice's state",
          os.listdir(os.path.dirname(local_state("a"))))


def test_directory_06_ipa_passkey(h):
    """A credential known to the directory only as FreeIPA's
    `passkey:<credential id>,<public key>` mapping logs in with fido2."""
    cfg = machine(h, "a")
    # make the credential on the chip with a local enrollment, then keep
    # only its IPA form in the directory
    h.config(name="local.conf", store=f'"{ROOT}/store"',
             methods='[ "fido2" ]', fido2=f'{{ rpid = "{RPID}"; }}')
    rc, out, err = h.enroll_with_tap(
        ["add", "--method", "fido2", "--timeout", "5", "--user", "alice",
         "--label", "tmp"], fido2_chip(), config=f"{ROOT}/etc/local.conf")
    check(rc == 0, "local enrollment", (out, err))
    text = open(h.store_path("alice", public=True)).read()
    cred = bytes.fromhex(re.search(r'credential = "([0-9a-f]+)"', text).group(1))
    pub = bytes.fromhex(re.search(r'pubkey = "([0-9a-f]+)"', text).group(1))
    spki = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), pub).public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    value = (f"passkey:{base64.b64encode(cred).decode()},"
             f"{base64.b64encode(spki).decode()}")
    os.unlink(h.store_path("alice", public=True))
    server().set_values("alice", [value], attribute="ipaPassKey")
    ipa = service(h, machine(h, "ipa", attribute="ipaPassKey"), "vivo-ipa")
    r = tap(h, ipa)
    check(r.code == "PAM_SUCCESS", "the IPA passkey logs in", r)
    check(any("method=fido2" in l and "passkey-" in l for l in r.log),
          "as a fido2 entry", r.log)
    # the same value under our attribute works too; a broken one does not
    # stop the others, and says why
    server().set_values("alice", ["passkey:AAAA,AAAA", value])
    r = tap(h, service(h, cfg, "vivo-a"))
    check(r.code == "PAM_SUCCESS", "good value still used", r)
    check(any("value 1 of alice refused" in l for l in r.log), "bad one logged",
          r.log)


def test_directory_07_hung_server_answers_in_time(h):
    s = server()
    enroll_dir(h, machine(h, "a"), method="u2f", label="flex")
    svcs = [service(h, machine(h, n, uri=u, timeout=2), f"vivo-{n}")
            for n, u in (("i", s.uri_ldapi), ("t", s.uri_ldaps),
                         ("s", s.uri_ldap))]
    # the module's own timeout= is shorter than directory.timeout: the
    # helper fits the lookup in the module's bound and still answers
    short = h.service(name="vivo-short", args="timeout=2 config=" +
                      machine(h, "x", timeout=5))
    s.pause()
    try:
        t0 = time.monotonic()
        r = h.pam("alice", service=short)
        took = time.monotonic() - t0
        check(r.code == "PAM_AUTHINFO_UNAVAIL" and took < 2.5 + 0.5,
              "answered within the module's bound", (took, r))
        check(any("user=alice result=unavailable" in l and "directory" in l
                  for l in r.log), "by the helper, not killed", r.log)
        for svc in svcs:
            t0 = time.monotonic()
            r = h.pam("alice", service=svc)
            took = time.monotonic() - t0
            check(r.code == "PAM_AUTHINFO_UNAVAIL", f"{svc}: unavailable", r)
            check(took < 2 + 1, f"{svc}: within timeout + 1 s", took)
            check(any("no answer within directory.timeout" in l or
                      "Timed out" in l for l in r.log), "says so", r.log)
    finally:
        s.resume()


def test_directory_08_what_may_come_from_a_directory(h):
    ca = machine(h, "a")
    sa = service(h, ca, "vivo-a")
    enroll_dir(h, ca, method="u2f", label="flex")
    good = server().get_values("alice")[0]
    hmac = ("vivo1 label=h method=hmac created=2026-11-30T08:00:00Z hmac.slot=2 "
            "hmac.challenge=" + "00" * 32 + " hmac.sealed=" + "00" * 60)
    server().set_values("alice", [hmac, "garbage", good])
    r = tap(h, sa, method="u2f")
    check(r.code == "PAM_SUCCESS", "the u2f value works", r)
    check(any("value 1 of alice refused" in l and "hmac" in l for l in r.log),
          "hmac refused with its reason", r.log)
    check(any("value 2 of alice refused" in l for l in r.log), "garbage", r.log)
    # vivo-enroll refuses to put one there, before any tap
    r = h.enroll("add", "--method", "hmac", "--slot", "2", "--program",
                 "--yes", "--directory", "--user", "alice", config=ca)
    check(r.returncode != 0 and "only fido2 and u2f" in r.stderr and
          "Hold" not in r.stdout, "no hmac into a directory", r)


def test_directory_09_export_and_local_stays(h):
    # a local u2f enrollment, exported, then put into the directory by hand
    h.config(name="local.conf", store=f'"{ROOT}/store"',
             methods='[ "u2f" ]', u2f=f'{{ appid = "{APPID}"; }}')
    rc, out, err = h.enroll_with_tap(
        ["add", "--method", "u2f", "--timeout", "5", "--user", "alice",
         "--label", "flex local"], u2f_chip(), config=f"{ROOT}/etc/local.conf")
    check(rc == 0, "local u2f", (out, err))
    r = h.enroll("export", "--label", "flex local", "--user", "alice",
                 config=f"{ROOT}/etc/local.conf")
    check(r.returncode == 0 and r.stdout.startswith("vivo1 ") and
          "label=flex%20local" in r.stdout and "method=u2f" in r.stdout,
          "one line", r)
    line = r.stdout.strip()
    server().set_values("bob", [line.replace("flex%20local", "flex")])
    cb = machine(h, "b")
    r = tap(h, service(h, cb, "vivo-b"), user="bob", method="u2f")
    check(r.code == "PAM_SUCCESS", "the exported line works for bob", r)
    # alice's local enrollment still works on a machine with a directory
    r = tap(h, service(h, machine(h, "a"), "vivo-a"), method="u2f")
    check(r.code == "PAM_SUCCESS", "local store still read", r)
    # a directory value may not take a local enrollment's label
    server().set_values("alice", [line])
    r = tap(h, service(h, machine(h, "a"), "vivo-a"), method="u2f")
    check(r.code == "PAM_SUCCESS" and
          any('labelled "flex local" of alice is ignored' in l for l in r.log),
          "the local one is used, the clash said", r)
    # an unknown label, and an hmac enrollment (its state rolls here and
    # holds a sealed secret), are not exported
    r = h.enroll("export", "--label", "nope", "--user", "alice",
                 config=f"{ROOT}/etc/local.conf")
    check(r.returncode != 0 and "no implant labelled" in r.stderr and
          r.stdout == "", "unknown label", r)
    with open(h.store_path("alice"), "w") as f:
        f.write('version = 1;\nimplants = ( { label = "ring"; method = "hmac"; '
                'created = "2026-11-30T08:00:00Z"; hmac = { slot = 2; '
                f'challenge = "{"00" * 63}"; sealed = "{"11" * 48}"; }}; }} );\n')
    os.chmod(h.store_path("alice"), 0o600)
    r = h.enroll("export", "--label", "ring", "--user", "alice",
                 config=f"{ROOT}/etc/local.conf")
    check(r.returncode != 0 and "hmac enrollment" in r.stderr and
          r.stdout == "" and "11" * 48 not in r.stderr,
          "hmac is not exported, nothing of it printed", r)


def test_directory_10_bind_and_screen_locker(h):
    s = server()
    pw = f"{ROOT}/etc/ldap.pw"
    with open(pw, "w") as f:
        f.write(s.admin_password + "\n")
    os.chmod(pw, 0o600)
    ca = machine(h, "a", bind_dn=s.ADMIN_DN, bind_password_file=pw)
    enroll_dir(h, ca, method="u2f", label="flex")
    check(tap(h, service(h, ca, "vivo-a"), method="u2f").code == "PAM_SUCCESS",
          "bound as the configured DN")
    os.chmod(pw, 0o644)
    r = h.pam("alice", service="vivo-a")
    check(r.code == "PAM_AUTHINFO_UNAVAIL" and
          any("readable by others" in l for l in r.log),
          "a password file others can read is not used", r)
    with open(pw, "w") as f:
        f.write("wrong\n")
    os.chmod(pw, 0o600)
    r = h.pam("alice", service="vivo-a")
    check(r.code == "PAM_AUTHINFO_UNAVAIL" and
          any("bind failed" in l for l in r.log), "wrong password", r)
    # a caller that is not root (a screen locker) does not use it
    cb = machine(h, "b")
    os.chmod(cb, 0o644)
    r = h.pam("alice", service=service(h, cb, "vivo-b"), as_user="alice")
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "no directory for a non-root "
          "caller: unavailable, not 'unknown'", r)
    check(any("not root" in l for l in r.log), "says why", r.log)


def test_directory_11_local_state_is_checked(h):
    """This machine's counters tell a clone: a state file others can read
    or write, or one that does not parse, is never read as "no counters"
    and never silently replaced."""
    ca = machine(h, "a")
    sa = service(h, ca, "vivo-a")
    enroll_dir(h, ca, method="u2f", label="flex")
    check(tap(h, sa, method="u2f").code == "PAM_SUCCESS", "state written")
    path = local_state("a")
    before = open(path).read()
    os.chmod(path, 0o644)
    r = h.pam("alice", service=sa)
    check(r.code == "PAM_AUTHINFO_UNAVAIL", "unsafe: nothing from it", r)
    check(any("not usable" in l and "readable by others" in l for l in r.log),
          "says why", r.log)
    check(open(path).read() == before, "and leaves it alone")
    os.chmod(path, 0o600)
    with open(path, "w") as f:
        f.write("version = 1;\nfetched = garbage\n")
    r = h.pam("alice", service=sa)
    check(r.code == "PAM_AUTHINFO_UNAVAIL" and
          any("not usable" in l for l in r.log), "corrupt: the same", r)
    os.unlink(path)
    check(tap(h, sa, method="u2f").code == "PAM_SUCCESS",
          "removed by the admin: starts again")
