#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run from anywhere with /usr/bin/python3 (needs python3-cryptography, for
the sealed hmac state); the output is checked in, so this only runs when
the seeds change (`make fuzz-seeds`). Each target's directory is emptied
and rewritten: seeds are named for what they are, and stay small.

The values come from the unit tests: the FIDO U2F raw-message examples
(tests/unit/test_u2f.c), the known UID, salt and hash (test_store.c), the
ykchalresp test key (test_hmac.c). The hmac state sealed here is the same
as the one fuzz_card_hmac.c holds, which checks it at start-up.
"""

import base64
import hashlib
import hmac
import os
import shutil
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

# ---- constants ---------------------------------------------------------

REG_MSG = bytes.fromhex(
    "0504b174bc49c7ca254b70d2e5c207cee9cf174820ebd77ea3c65508c26da51b657c1cc6b9"
    "52f8621697936482da0a6d3d3826a59095daf6cd7c03e2e60385d2f6d9402a552dfdb7477e"
    "d65fd84133f86196010b2215b57da75d315b7b9e8fe2e3925a6019551bab61d16591659cba"
    "f00b4950f7abfe6660e2e006f76868b772d70c253082013c3081e4a003020102020a479012"
    "80001155957352300a06082a8648ce3d0403023017311530130603550403130c476e756262"
    "792050696c6f74301e170d3132303831343138323933325a170d3133303831343138323933"
    "325a3031312f302d0603550403132650696c6f74476e756262792d302e342e312d34373930"
    "313238303030313135353935373335323059301306072a8648ce3d020106082a8648ce3d03"
    "0107034200048d617e65c9508e64bcc5673ac82a6799da3c1446682c258c463fffdf58dfd2"
    "fa3e6c378b53d795c4a4dffb4199edd7862f23abaf0203b4b8911ba0569994e101300a0608"
    "2a8648ce3d0403020347003044022060cdb6061e9c22262d1aac1d96d8c70829b2366531dd"
    "a268832cb836bcd30dfa0220631b1459f09e6330055722c8d89b7f48883b9089b88d60d1d9"
    "795902b30410df304502201471899bcc3987e62e8202c9b39c33c19033f7340352dba80fca"
    "b017db9230e402210082677d673d891933ade6f617e5dbde2e247e70423fd5ad7804a6d3d3"
    "961ef871")
REG_KH = REG_MSG[67:67 + 64]
AUTH_MSG = bytes.fromhex(
    "0100000001304402204b5f0cd17534cedd8c34ee09570ef542a353df4436030ce43d406de8"
    "70b847780220267bb998fac9b7266eb60e7cb0b5eabdfd5ba9614f53c7b22272ec10047a92"
    "3f")
AUTH_PUB = bytes.fromhex(
    "04d368f1b665bade3c33a20f1e429c7750d5033660c019119d29aa4ba7abc04aa7c80a46bb"
    "e11ca8cb5674d74f31f8a903f6bad105fb6ab74aefef4db8b0025e1d")

UID7 = bytes.fromhex("04a1b2c3d4e5f6")
UID_SALT = "000102030405060708090a0b0c0d0e0f"
UID_HASH = "ae94468bb6c82cf4cb483c3ae798dbc1395f4abbfd7034e86de9576bd904b0f1"

# The hmac state of fuzz_card_hmac.c: K sealed for "alice", slot 1.
HMAC_KEY = bytes(range(0x30, 0x44))
HMAC_CHAL = bytes((0x11 * i + 7) & 0xFF for i in range(63))
HMAC_NONCE = bytes(range(0xA0, 0xAC))
HMAC_INFO = b"pam_vivo hmac v1"


def hmac_state(user=b"alice", slot=1):
    resp = hmac.new(HMAC_KEY, HMAC_CHAL, hashlib.sha1).digest()
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=HMAC_CHAL,
             info=HMAC_INFO).derive(resp)
    aad = HMAC_INFO + b"\0" + user + b"\0" + bytes([slot])
    sealed = HMAC_NONCE + AESGCM(k).encrypt(HMAC_NONCE, HMAC_KEY, aad)
    assert len(sealed) == 48
    return resp, sealed


HMAC_RESP, HMAC_SEALED = hmac_state()
assert HMAC_RESP.hex() == "0ca4c412849e8ef0b73813be30cbfc3f5bcf2779"

# ---- helpers -----------------------------------------------------------


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def reset(target):
    shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)


# helper protocol (helper/lib/proto.h)
AUTH, WAIT, RESULT = 1, 2, 3
T_USER, T_CONFIG, T_TIMEOUT, T_FLAGS, T_RESULT = 1, 2, 3, 4, 5
T_TEXT, T_REASON, T_LABEL, T_METHOD = 6, 7, 8, 9


def fld(tag, value):
    if isinstance(value, int):
        value = struct.pack(">I", value)
    elif isinstance(value, str):
        value = value.encode()
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def body(mtype, *fields, version=1):
    return bytes([version, mtype]) + b"".join(fields)


# fake card records (tests/fuzz/fake_card.h)
def rec(data):
    return struct.pack(">H", len(data)) + data


FAIL = b"\xff\xff"
OK = b"\x90\x00"


def chain61(data, piece=250):
    """data as the card returns it over 61 xx: pieces ending 61 xx, the
    last 90 00; xx is what is left (00 for 256 and more)."""
    out = b""
    while True:
        chunk, data = data[:piece], data[piece:]
        if not data:
            return out + rec(chunk + OK)
        left = len(data)
        out += rec(chunk + bytes([0x61, 0 if left > 255 else left]))


# ---- targets -----------------------------------------------------------


def helper_request():
    t = "fuzz_helper_request"
    reset(t)
    write(t, "auth-basic", body(AUTH, fld(T_USER, "alice"), fld(T_CONFIG, ""),
                                fld(T_TIMEOUT, 0), fld(T_FLAGS, 0)))
    write(t, "auth-debug-remote", body(
        AUTH, fld(T_USER, "bob"),
        fld(T_CONFIG, "/etc/security/pam_vivo.conf"), fld(T_TIMEOUT, 30),
        fld(T_FLAGS, 3)))
    write(t, "auth-fields-reordered", body(
        AUTH, fld(T_FLAGS, 1), fld(T_TIMEOUT, 600), fld(T_CONFIG, "/tmp/c"),
        fld(T_USER, "carol")))
    write(t, "auth-odd-user", body(
        AUTH, fld(T_USER, "-../" + "x" * 70), fld(T_CONFIG, ""),
        fld(T_TIMEOUT, 0xFFFFFFFF), fld(T_FLAGS, 0)))
    write(t, "wait", body(WAIT, fld(T_TIMEOUT, 15),
                          fld(T_TEXT, "Hold your implant to the reader")))
    write(t, "result-ok", body(RESULT, fld(T_RESULT, 0), fld(T_REASON, "ok"),
                               fld(T_LABEL, "Left hand"),
                               fld(T_METHOD, "u2f")))
    # refused: bad version, unknown type, duplicate, trailing, bad flags
    write(t, "bad-version", body(AUTH, fld(T_USER, "alice"), version=2))
    write(t, "bad-type", body(9, fld(T_USER, "alice")))
    write(t, "bad-duplicate", body(
        AUTH, fld(T_USER, "a"), fld(T_USER, "b"), fld(T_CONFIG, ""),
        fld(T_TIMEOUT, 0), fld(T_FLAGS, 0)))
    write(t, "bad-trailing", body(
        AUTH, fld(T_USER, "a"), fld(T_CONFIG, ""), fld(T_TIMEOUT, 0),
        fld(T_FLAGS, 0)) + b"\x01\x00")
    write(t, "bad-flags", body(
        AUTH, fld(T_USER, "a"), fld(T_CONFIG, ""), fld(T_TIMEOUT, 0),
        fld(T_FLAGS, 4)))
    write(t, "bad-nul-in-string", body(
        AUTH, fld(T_USER, "al\0ice"), fld(T_CONFIG, ""), fld(T_TIMEOUT, 0),
        fld(T_FLAGS, 0)))


def helper_reply():
    # first byte: even = WAIT, odd = RESULT; then the fields
    t = "fuzz_helper_reply"
    reset(t)
    write(t, "wait", b"\x00" + fld(T_TIMEOUT, 15) +
          fld(T_TEXT, "Hold your implant to the reader"))
    write(t, "wait-no-reader", b"\x00" + fld(T_TEXT, "No reader yet") +
          fld(T_TIMEOUT, 0))
    write(t, "result-ok", b"\x01" + fld(T_RESULT, 0) +
          fld(T_TEXT, "Welcome") + fld(T_REASON, "hmac: state rolled") +
          fld(T_LABEL, "Left hand") + fld(T_METHOD, "hmac"))
    reasons = ["no enrollment for alice", "no reader", "wrong chip",
               "/etc/security/pam_vivo/users/alice: group-writable",
               "config: timeout: expected 1..600 seconds", "out of memory"]
    for r, why in enumerate(reasons, 1):
        write(t, "result-%d" % r, b"\x01" + fld(T_RESULT, r) +
              fld(T_REASON, why))
    write(t, "result-long-text", b"\x01" + fld(T_RESULT, 2) +
          fld(T_TEXT, "t" * 511) + fld(T_REASON, "r"))
    write(t, "bad-result-7", b"\x01" + fld(T_RESULT, 7) + fld(T_REASON, "x"))
    write(t, "bad-text-too-long", b"\x01" + fld(T_RESULT, 2) +
          fld(T_TEXT, "t" * 512) + fld(T_REASON, "r"))
    write(t, "bad-short-int", b"\x00" + fld(T_TIMEOUT, b"\x00\x0f") +
          fld(T_TEXT, "x"))


def config():
    t = "fuzz_config"
    reset(t)
    with open(os.path.join(TOP, "conf", "pam_vivo.conf"), "rb") as f:
        write(t, "pam_vivo.conf", f.read())
    write(t, "empty", "")
    write(t, "minimal", "timeout = 5;\n")
    write(t, "full", """# every key
timeout = 600;
readers = [ "ACS ACR122U", "Identiv uTrust 3700 F" ];
methods = [ "uid", "hmac", "u2f" ];
store = "/var/lib/pam_vivo";
user_store = true;
allow_remote = true;
u2f = {
  appid = "pam://host.example";
  check_counter = false;
};
""")
    write(t, "lists-and-comments", """/* C comment */ timeout = 0x1E; // C++ comment
readers = ( "ACS" );
methods = ( "u2f" ); # shell comment
u2f : { appid = "pam://a"; }""")
    write(t, "bad-wrapping-int", "timeout = 4294967311;\n")
    write(t, "bad-int64", "timeout = 15L;\n")
    write(t, "bad-include", 'timeout = 15;\n  @include "/etc/hostname"\n')
    write(t, "bad-unknown-key", "timeout = 15;\nnope = 1;\n")
    write(t, "bad-method", 'methods = [ "u2f", "password" ];\n')
    write(t, "bad-store-relative", 'store = "relative/path";\n')
    write(t, "bad-readers", 'readers = [ "' + "r" * 200 + '" ];\n')


UID_GROUP = ('uid = { kdf = "pbkdf2-sha256"; iterations = 10000; '
             'salt = "%s"; hash = "%s"; };' % (UID_SALT, UID_HASH))
HMAC_GROUP = ('hmac = { slot = 1; challenge = "%s"; sealed = "%s"; };' %
              (HMAC_CHAL.hex(), HMAC_SEALED.hex()))
U2F_GROUP = ('u2f = { appid = "pam://host"; keyhandle = "%s"; pubkey = "%s"; '
             'counter = 1L; };' % (REG_KH.hex(), AUTH_PUB.hex()))


def entry(label, method, group, created="2026-11-27T07:00:00Z"):
    return ('{\n  label = "%s";\n  method = "%s";\n  created = "%s";\n  %s\n}'
            % (label, method, created, group))


def store_text(*entries):
    return "version = 1;\nimplants = (\n" + ",\n".join(entries) + "\n);\n"


def store():
    t = "fuzz_store"
    reset(t)
    write(t, "empty", "version = 1;\nimplants = ( );\n")
    write(t, "uid", store_text(entry("Left hand", "uid", UID_GROUP)))
    write(t, "hmac", store_text(entry("Apex", "hmac", HMAC_GROUP)))
    write(t, "u2f", store_text(entry("FIDO", "u2f", U2F_GROUP)))
    # as vivo_store_format writes it (libconfig's config_write layout)
    write(t, "all-three-as-written", """\
# pam_vivo enrollments, written by vivo-enroll.
# Format: docs/enrollment-format.md. Edit with vivo-enroll.
version = 1;
implants = ( 
  {
    label = "Left hand";
    method = "uid";
    created = "2026-11-27T07:00:00Z";
    uid = 
    {
      kdf = "pbkdf2-sha256";
      iterations = 10000;
      salt = "%s";
      hash = "%s";
    };
  }, 
  {
    label = "Apex \\"flex\\" \\\\ caf\xc3\xa9";
    method = "hmac";
    created = "2026-11-28T08:30:00Z";
    hmac = 
    {
      slot = 2;
      challenge = "%s";
      sealed = "%s";
    };
  }, 
  {
    label = "FIDO";
    method = "u2f";
    created = "2026-11-29T09:45:59Z";
    u2f = 
    {
      appid = "pam://host";
      keyhandle = "%s";
      pubkey = "%s";
      counter = 4294967295L;
    };
  } );
""" % (UID_SALT, UID_HASH, HMAC_CHAL.hex(), HMAC_SEALED.hex(), REG_KH.hex(),
       AUTH_PUB.hex()))
    write(t, "bad-duplicate-label", store_text(
        entry("x", "uid", UID_GROUP), entry("x", "hmac", HMAC_GROUP)))
    write(t, "bad-version", "version = 2;\nimplants = ( );\n")
    write(t, "bad-group-mismatch", store_text(
        entry("x", "hmac", UID_GROUP)))
    write(t, "bad-counter", store_text(entry(
        "x", "u2f", U2F_GROUP.replace("counter = 1L", "counter = -1L"))))
    write(t, "bad-created", store_text(
        entry("x", "uid", UID_GROUP, created="2026-11-27 07:00:00")))
    # the most entries a file may hold, and one more
    compact = ('{label="%d";method="uid";created="2026-11-27T07:00:00Z";'
               + UID_GROUP.replace(" ", "") + '}')
    write(t, "max-entries", "version=1;implants=(" +
          ",".join(compact % i for i in range(32)) + ");")
    write(t, "bad-33-entries", "version=1;implants=(" + ",".join(["0"] * 33) +
          ");")


def card_uid():
    t = "fuzz_card_uid"
    reset(t)
    write(t, "uid7", rec(UID7 + OK))
    write(t, "uid4-random", rec(bytes.fromhex("08123456") + OK))
    write(t, "wrong-le-then-uid7", rec(b"\x6c\x07") + rec(UID7 + OK))
    write(t, "uid10-warning", rec(bytes(range(1, 11)) + b"\x62\x82"))
    write(t, "refused", rec(b"\x6a\x81"))
    write(t, "uid11-too-long", rec(bytes(range(1, 12)) + OK))
    write(t, "chip-lifted", rec(b""))
    write(t, "transport-failure", FAIL)
    write(t, "one-byte", rec(b"\x90"))


def card_hmac():
    t = "fuzz_card_hmac"
    reset(t)
    status = bytes.fromhex("050403010300")  # 5.4.3, seq 1, both slots
    full, with_status = 63 << 2, 2
    write(t, "slot1-roll", bytes([full | with_status]) +
          rec(status + OK) + rec(HMAC_RESP + OK) + rec(status + OK))
    write(t, "aid8-wrong-response", bytes([full]) +
          rec(b"\x6a\x82") + rec(status + OK) +
          rec(bytes(range(20)) + OK) + rec(b"\x69\x82"))
    write(t, "slot2-not-configured", bytes([full | 1 | with_status]) +
          rec(status[:4] + b"\x01\x00" + OK) + rec(OK) +
          rec(status + OK))
    write(t, "short-challenge", bytes([(9 << 2) | with_status]) +
          rec(status + OK) + rec(bytes(20) + OK) + rec(b"\x90"))
    write(t, "no-applet", bytes([full]) + rec(b"\x6a\x82") +
          rec(b"\x6d\x00"))
    write(t, "short-status", bytes([full | with_status]) +
          rec(b"\x05\x04" + OK) + rec(b"\x05\x04\x03\x01\x03" + OK) +
          rec(HMAC_RESP + b"\x00" + OK) + rec(b"\x05" + OK))


def u2f():
    t = "fuzz_u2f"
    reset(t)
    # 0, 1: the raw messages
    write(t, "0-register", b"\x00" + REG_MSG)
    write(t, "1-authenticate", b"\x01" + AUTH_MSG)
    write(t, "1-authenticate-up-clear", b"\x01\x00" + AUTH_MSG[1:])
    # 2: vivo_apdu_xfer: u16 command length, u16 capacity, records
    write(t, "2-xfer-61xx", b"\x02" + struct.pack(">HH", 1, 2048) +
          chain61(bytes(range(200)) * 3, piece=90))
    write(t, "2-xfer-chained-command", b"\x02" + struct.pack(">HH", 320, 64) +
          rec(OK) + rec(b"0123456789" + OK))
    write(t, "2-xfer-wrong-le", b"\x02" + struct.pack(">HH", 0, 256) +
          rec(b"\x6c\x10") + rec(bytes(16) + OK))
    write(t, "2-xfer-piece-refused", b"\x02" + struct.pack(">HH", 500, 256) +
          rec(b"\x6a\x80"))
    write(t, "2-xfer-over-cap", b"\x02" + struct.pack(">HH", 5, 100) +
          chain61(bytes(150), piece=60))
    write(t, "2-xfer-endless-61xx", b"\x02" + struct.pack(">HH", 0, 8192) +
          rec(b"\x61\x01") * 42)
    # 3: select + authenticate
    select = rec(b"U2F_V2" + OK)
    write(t, "3-authenticate", b"\x03" + select + rec(b"\x69\x85") +
          rec(AUTH_MSG + OK))
    write(t, "3-authenticate-61xx", b"\x03" + select +
          chain61(AUTH_MSG, piece=40))
    write(t, "3-wrong-keyhandle", b"\x03" + select + rec(b"\x6a\x80"))
    write(t, "3-fido2-only", b"\x03" + rec(b"FIDO_2_0" + OK) +
          rec(b"\x67\x00"))
    write(t, "3-presence-forever", b"\x03" + select +
          rec(b"\x69\x85") * 5)
    # 4: register, the reply chained over 61 xx
    write(t, "4-register", b"\x04" + chain61(REG_MSG))
    write(t, "4-register-presence", b"\x04" + rec(b"\x69\x85") +
          chain61(REG_MSG, piece=256))


def ctap():
    """fuzz_ctap: CTAP over ISO 7816, and libfido2 over our transport.
    The CBOR comes from python3-fido2's encoder (a test dependency)."""
    from fido2 import cbor  # pylint: disable=import-outside-toplevel
    t = "fuzz_ctap"
    reset(t)
    # 0: vivo_ctap_msg: u16 request length, u8 flags, u16 capacity, records
    write(t, "0-short", b"\x00" + struct.pack(">HBH", 1, 0, 64) +
          rec(b"\x00\xa0" + OK))
    write(t, "0-extended", b"\x00" + struct.pack(">HBH", 600, 0, 64) +
          rec(b"\x00" + OK))
    write(t, "0-extended-refused-then-chained", b"\x00" +
          struct.pack(">HBH", 600, 0, 64) + rec(b"\x67\x00") + rec(OK) +
          rec(OK) + rec(b"\x00" + OK))
    write(t, "0-chained", b"\x00" + struct.pack(">HBH", 300, 1, 64) +
          rec(OK) + rec(b"\x00" + OK))
    write(t, "0-keepalive-61xx", b"\x00" + struct.pack(">HBH", 2, 0, 1024) +
          rec(b"\x01\x91\x00") * 3 + chain61(bytes(600), piece=200))
    write(t, "0-status-word", b"\x00" + struct.pack(">HBH", 2, 0, 64) +
          rec(b"\x6d\x00"))
    write(t, "0-lost", b"\x00" + struct.pack(">HBH", 2, 0, 64) + FAIL)
    # 1: vivo_ctap_apdu
    write(t, "1-apdu", b"\x01" + chain61(bytes(range(100)), piece=30))
    # 2, 3: open (SELECT, getInfo), then getAssertion / makeCredential
    info = b"\x00" + cbor.encode({
        1: ["FIDO_2_0", "FIDO_2_1"], 2: ["credProtect", "hmac-secret"],
        3: bytes(range(16)),
        4: {"rk": True, "up": True, "clientPin": True,
            "makeCredUvNotRqd": True},
        5: 1024, 6: [2, 1]})
    cred = bytes(range(0x40, 0x40 + 52))
    authdata = (bytes(32) + b"\x05" + struct.pack(">I", 7))
    assertion = b"\x00" + cbor.encode({
        1: {"type": "public-key", "id": cred}, 2: authdata,
        3: bytes.fromhex("3044022060cdb6061e9c22262d1aac1d96d8c70829b2366531dd"
                         "a268832cb836bcd30dfa0220631b1459f09e6330055722c8d89b"
                         "7f48883b9089b88d60d1d9")})
    opened = rec(b"FIDO_2_0" + OK) + rec(info + OK) + rec(info + OK)
    write(t, "2-assert", b"\x02\x00" + opened + rec(assertion + OK))
    write(t, "2-assert-no-cred", b"\x02\x00" + opened + rec(b"\x2e" + OK))
    write(t, "2-assert-pin-wrong", b"\x02\x01" + opened +
          rec(b"\x00" + cbor.encode({1: {1: 2, 3: -25, -1: 1,
                                          -2: bytes(32), -3: bytes(32)}}) + OK)
          + rec(b"\x31" + OK) + rec(b"\x00" + cbor.encode({3: 7}) + OK))
    write(t, "2-u2f-only", b"\x02\x00" + rec(b"U2F_V2" + OK) +
          rec(b"\x6d\x00"))
    write(t, "3-make", b"\x03\x00" + opened + rec(info + OK) +
          rec(b"\x00" + cbor.encode({1: "none", 2: authdata, 3: {}}) + OK))


def dirval():
    """fuzz_dirval: directory values (the one-line form, FreeIPA's
    passkey form), which are also tried as user names in the filter."""
    t = "fuzz_dirval"
    reset(t)
    kh = "11" * 64
    pub = "04" + "22" * 64
    write(t, "u2f", "vivo1 label=flex method=u2f created=2026-11-30T08:00:00Z "
          f"u2f.appid=pam://site u2f.keyhandle={kh} u2f.pubkey={pub}")
    write(t, "fido2", "vivo1 label=Apex%20%22left%22%20%C3%A9 method=fido2 "
          "created=2026-11-30T08:00:00Z fido2.rpid=pam://site "
          "fido2.credential=" + "ab" * 48 + " fido2.type=es256 "
          f"fido2.pubkey={pub} fido2.user_id=" + "cd" * 32 +
          " fido2.require_pin=true fido2.resident=false "
          "fido2.cred_protect=2 fido2.hmac_secret=true")
    write(t, "uid", "vivo1 label=u method=uid created=2026-11-30T08:00:00Z "
          "uid.kdf=pbkdf2-sha256 uid.iterations=10000 uid.salt=" + "00" * 16 +
          " uid.hash=" + "11" * 32)
    # a P-256 SubjectPublicKeyInfo (the point 04 || 22..22 need not be on
    # the curve for a seed: the parser must refuse it then)
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200"
                         ) + bytes.fromhex(pub)
    write(t, "passkey", "passkey:" + base64.b64encode(bytes(range(48))).decode()
          + "," + base64.b64encode(spki).decode())
    write(t, "bad-hmac", "vivo1 label=h method=hmac hmac.slot=2")
    write(t, "bad-injection-name", "*)(|(uid=*")
    write(t, "bad-escape", "vivo1 label=%zz method=u2f")


def main():
    dirval()
    helper_request()
    helper_reply()
    config()
    store()
    card_uid()
    card_hmac()
    u2f()
    ctap()
    total = 0
    for t in sorted(os.listdir(CORPUS)):
        d = os.path.join(CORPUS, t)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        total += size
        print("%-22s %3d seeds, %6d bytes" % (t, len(files), size))
    print("%-22s %14d bytes" % ("total", total))


if __name__ == "__main__":
    main()
