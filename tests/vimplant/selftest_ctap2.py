#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""CTAP2 checks of selftest.sh: python3-fido2's own client (CtapPcscDevice,
Ctap2, ClientPin) talks to vimplant through the private pcscd.

Never imports vimplant: every signature is checked with fido2.cose /
python3-cryptography and the PIN/hmac-secret platform side is fido2's.

    selftest_ctap2.py READER WORKDIR SCENARIO

prints one line per check, "ok NAME" or "FAIL NAME: detail" (other lines
are comments); selftest.sh counts them.  Scenarios share WORKDIR/ctap2.json
(credential ids and public keys made by earlier scenarios) and read the
vimplant state file WORKDIR/ctap2-state.json.
"""

import hashlib
import json
import os
import sys
import traceback

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography import x509
from fido2 import cbor
from fido2.attestation import Attestation
from fido2.cose import CoseKey
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2, ClientPin, PinProtocolV1, PinProtocolV2
from fido2.pcsc import CtapPcscDevice
from smartcard.System import readers

RP = "pam-vivo.example"
PIN = "1234"
MC_GA = ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION
ES256 = [{"type": "public-key", "alg": -7}]
FLAG_UP, FLAG_UV, FLAG_AT, FLAG_ED = 0x01, 0x04, 0x40, 0x80
AAGUID = b"vimplant-ctap2-1"


class Checks:
    """Prints ok/FAIL lines."""

    def __init__(self):
        self.failed = 0

    def check(self, name: str, expected, actual) -> None:
        if expected == actual:
            print(f"ok {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: expected {expected!r}, got {actual!r}")


class Session:
    """One CtapPcscDevice on the reader plus the shared scenario data."""

    def __init__(self, reader: str, work: str):
        self.work = work
        self.data_file = os.path.join(work, "ctap2.json")
        self.state_file = os.path.join(work, "ctap2-state.json")
        self.data = {}
        if os.path.exists(self.data_file):
            with open(self.data_file, encoding="ascii") as file:
                self.data = json.load(file)
        match = [r for r in readers() if str(r) == reader]
        if not match:
            raise RuntimeError(f"no reader {reader!r}")
        self.device = CtapPcscDevice(match[0].createConnection(), reader)
        self.ctap = Ctap2(self.device)
        self.cdh = hashlib.sha256(b"vimplant selftest client data").digest()

    def save(self) -> None:
        with open(self.data_file, "w", encoding="ascii") as file:
            json.dump(self.data, file)

    def state(self) -> dict:
        with open(self.state_file, encoding="ascii") as file:
            return json.load(file)

    def token(self, protocol, pin: str = PIN, permissions: int = MC_GA,
              rp_id: str | None = RP) -> bytes:
        return ClientPin(self.ctap, protocol).get_pin_token(
            pin, permissions, rp_id)

    def make(self, pin_protocol=None, rk=False, extensions=None,
             user=b"alice", rp_id=RP, exclude=None, name="alice"):
        """makeCredential; with pin_protocol, with a fresh PIN token."""
        param = proto = None
        if pin_protocol is not None:
            token = self.token(pin_protocol, rp_id=rp_id)
            param = pin_protocol.authenticate(token, self.cdh)
            proto = pin_protocol.VERSION
        return self.ctap.make_credential(
            self.cdh, {"id": rp_id, "name": "pam_vivo"},
            {"id": user, "name": name, "displayName": name.title()}, ES256,
            exclude_list=exclude, extensions=extensions,
            options={"rk": True} if rk else None, pin_uv_param=param,
            pin_uv_protocol=proto)

    def assertion(self, ids=None, pin_protocol=None, extensions=None,
                  rp_id=RP, on_keepalive=None):
        param = proto = None
        if pin_protocol is not None:
            token = self.token(pin_protocol, rp_id=rp_id)
            param = pin_protocol.authenticate(token, self.cdh)
            proto = pin_protocol.VERSION
        allow = None if ids is None else [
            {"type": "public-key", "id": i} for i in ids]
        return self.ctap.get_assertion(
            rp_id, self.cdh, allow, extensions=extensions,
            pin_uv_param=param, pin_uv_protocol=proto,
            on_keepalive=on_keepalive)

    def error(self, call) -> int | None:
        """The CTAP status a call fails with, None if it succeeds."""
        try:
            call()
        except CtapError as exc:
            return int(exc.code)
        return None

    def hmac_secret(self, protocol, cred_id: bytes, salt: bytes,
                    uv: bool = False) -> bytes:
        """hmac-secret output1 for one salt (platform side by hand)."""
        client = ClientPin(self.ctap, protocol)
        key_agreement, shared = client._get_shared_secret()
        salt_enc = protocol.encrypt(shared, salt)
        ext = {"hmac-secret": {1: key_agreement, 2: salt_enc,
                               3: protocol.authenticate(shared, salt_enc),
                               4: protocol.VERSION}}
        result = self.assertion([cred_id], protocol if uv else None, ext)
        return protocol.decrypt(shared,
                                result.auth_data.extensions["hmac-secret"])


def verify(key_cbor: bytes, auth_data: bytes, cdh: bytes,
           signature: bytes) -> bool:
    try:
        CoseKey.parse(cbor.decode(key_cbor)).verify(auth_data + cdh,
                                                    signature)
        return True
    except InvalidSignature:
        return False


def remember(s: Session, name: str, att) -> bytes:
    cred = att.auth_data.credential_data
    s.data[name] = {"id": cred.credential_id.hex(),
                    "key": cbor.encode(dict(cred.public_key)).hex()}
    s.save()
    return cred.credential_id


def cred(s: Session, name: str) -> tuple[bytes, bytes]:
    return (bytes.fromhex(s.data[name]["id"]),
            bytes.fromhex(s.data[name]["key"]))


# --------------------------------------------------------------------------

def scenario_basic(s: Session, c: Checks) -> None:
    """--ctap2 --ctap2-pin 1234 --ctap2-state: getInfo, PIN tokens with
    protocols 1 and 2, makeCredential/getAssertion verified."""
    info = s.ctap.info
    c.check("ctap2 getInfo versions, aaguid, protocols, maxMsgSize",
            (["U2F_V2", "FIDO_2_0", "FIDO_2_1"], AAGUID, [2, 1], 1024),
            (info.versions, info.aaguid, info.pin_uv_protocols,
             info.max_msg_size))
    c.check("ctap2 getInfo options and extensions",
            ({"rk": True, "up": True, "plat": False, "clientPin": True,
              "pinUvAuthToken": True, "makeCredUvNotRqd": True},
             ["credProtect", "hmac-secret"]),
            (info.options, info.extensions))
    c.check("ctap2 SELECT U2F_V2: U2F and CTAP2 both on",
            (True, True), (bool(s.device.capabilities & 0x04),
                           s.device.version == 2))
    # non-resident credential without PIN (makeCredUvNotRqd)
    att = s.make(extensions={"hmac-secret": True})
    ad = att.auth_data
    result = Attestation.for_type("packed")().verify(att.att_statement, ad,
                                                     s.cdh)
    cert = x509.load_der_x509_certificate(att.att_statement["x5c"][0])
    try:
        cert.public_key().verify(att.att_statement["sig"], bytes(ad) + s.cdh,
                                 ec.ECDSA(hashes.SHA256()))
        own = "ok"
    except InvalidSignature:
        own = "bad"
    c.check("ctap2 makeCredential: packed x5c attestation verifies (fido2 "
            "and cryptography), flags UP|AT|ED, aaguid, rpIdHash",
            ("BASIC", "ok", FLAG_UP | FLAG_AT | FLAG_ED, AAGUID,
             hashlib.sha256(RP.encode()).digest(), {"hmac-secret": True}),
            (result.attestation_type.name, own, ad.flags,
             ad.credential_data.aaguid, ad.rp_id_hash, ad.extensions))
    cid = remember(s, "plain", att)
    key = cred(s, "plain")[1]
    a1 = s.assertion([cid])
    a2 = s.assertion([os.urandom(52), cid])
    c.check("ctap2 getAssertion (allowList): UP, no UV, signature verifies, "
            "counter +1, credential id",
            (FLAG_UP, True, True, 1, cid),
            (a1.auth_data.flags, verify(key, a1.auth_data, s.cdh,
                                        a1.signature),
             verify(key, a2.auth_data, s.cdh, a2.signature),
             a2.auth_data.counter - a1.auth_data.counter,
             a2.credential["id"]))
    for protocol in (PinProtocolV1(), PinProtocolV2()):
        a = s.assertion([cid], protocol)
        c.check(f"ctap2 getPinUvAuthToken protocol {protocol.VERSION}: "
                "assertion with UV, verifies",
                (FLAG_UP | FLAG_UV, True),
                (a.auth_data.flags, verify(key, a.auth_data, s.cdh,
                                           a.signature)))
    legacy = ClientPin(s.ctap, PinProtocolV1())
    legacy._supports_permissions = False   # getPinToken (0x05)
    token = legacy.get_pin_token(PIN)
    a = s.ctap.get_assertion(RP, s.cdh, [{"type": "public-key", "id": cid}],
                             pin_uv_param=PinProtocolV1().authenticate(
                                 token, s.cdh), pin_uv_protocol=1)
    c.check("ctap2 getPinToken (0x05, protocol 1): UV", FLAG_UP | FLAG_UV,
            a.auth_data.flags)
    c.check("ctap2 token used up: second getAssertion with it 33",
            0x33, s.error(lambda: s.ctap.get_assertion(
                RP, s.cdh, [{"type": "public-key", "id": cid}],
                pin_uv_param=PinProtocolV1().authenticate(token, s.cdh),
                pin_uv_protocol=1)))
    c.check("ctap2 uv option 2C, rk without PIN token 36, other rp 2E, "
            "excludeList 19",
            (0x2C, 0x36, 0x2E, 0x19),
            (s.error(lambda: s.ctap.get_assertion(
                RP, s.cdh, [{"type": "public-key", "id": cid}],
                options={"uv": True})),
             s.error(lambda: s.make(rk=True)),
             s.error(lambda: s.assertion([cid], rp_id="other.example")),
             s.error(lambda: s.make(exclude=[{"type": "public-key",
                                              "id": cid}]))))
    client = ClientPin(s.ctap, PinProtocolV2())
    c.check("ctap2 wrong PIN: 31, retries 7 (getPINRetries and state file "
            "pin_retries)", (0x31, 7, 7),
            (s.error(lambda: client.get_pin_token("9999", MC_GA)),
             client.get_pin_retries()[0], s.state()["pin_retries"]))
    s.token(PinProtocolV2())
    c.check("ctap2 correct PIN resets retries to 8", (8, 8),
            (client.get_pin_retries()[0], s.state()["pin_retries"]))


def scenario_resident(s: Session, c: Checks) -> None:
    """Discoverable credentials, credProtect, hmac-secret (first tap)."""
    v1, v2 = PinProtocolV1(), PinProtocolV2()
    att1 = s.make(v2, rk=True, user=b"u-one", name="one",
                  extensions={"credProtect": 1, "hmac-secret": True})
    att2 = s.make(v1, rk=True, user=b"u-two", name="two",
                  extensions={"credProtect": 2})
    att3 = s.make(v2, rk=True, user=b"u-three", name="three",
                  extensions={"credProtect": 3})
    c.check("ctap2 rk makeCredential with PIN token: UV, credProtect "
            "output", (FLAG_UP | FLAG_UV | FLAG_AT | FLAG_ED,
                       {"credProtect": 3}),
            (att3.auth_data.flags, att3.auth_data.extensions))
    ids = [remember(s, n, a) for n, a in (("rk1", att1), ("rk2", att2),
                                           ("rk3", att3))]
    c.check("ctap2 credProtect 3: allowList without UV 2E, with UV ok",
            (0x2E, None),
            (s.error(lambda: s.assertion([ids[2]])),
             s.error(lambda: s.assertion([ids[2]], v1))))
    first = s.assertion()
    c.check("ctap2 discoverable without UV: only credProtect 1, user id only",
            (1, ids[0], {"id": b"u-one"}),
            (first.number_of_credentials, first.credential["id"],
             first.user))
    first = s.assertion(pin_protocol=v2)
    rest = [s.ctap.get_next_assertion() for _ in range(2)]
    got = [first] + rest
    keys = [cred(s, n)[1] for n in ("rk3", "rk2", "rk1")]
    c.check("ctap2 discoverable with UV: 3, newest first, users, "
            "getNextAssertion, signatures verify",
            (3, ids[::-1], [b"u-three", b"u-two", b"u-one"], "three",
             [True] * 3),
            (first.number_of_credentials, [a.credential["id"] for a in got],
             [a.user["id"] for a in got], first.user.get("name"),
             [verify(k, a.auth_data, s.cdh, a.signature)
              for k, a in zip(keys, got)]))
    c.check("ctap2 getNextAssertion past the end 30", 0x30,
            s.error(s.ctap.get_next_assertion))
    salt = hashlib.sha256(b"salt").digest()
    out1 = s.hmac_secret(v1, ids[0], salt)
    out2 = s.hmac_secret(v2, ids[0], salt)
    out_uv = s.hmac_secret(v2, ids[0], salt, uv=True)
    other = s.hmac_secret(v2, ids[0], hashlib.sha256(b"pepper").digest())
    s.data["hmac"] = out1.hex()
    s.save()
    c.check("ctap2 hmac-secret: 32 bytes, same through protocols 1 and 2, "
            "other with UV, other for another salt",
            (32, True, False, False),
            (len(out1), out1 == out2, out_uv == out1, other == out1))
    c.check("ctap2 state file holds 3 resident credentials",
            ["u-one", "u-two", "u-three"],
            [bytes.fromhex(e["user_id"]).decode()
             for e in sorted(s.state()["credentials"],
                             key=lambda e: e["seq"])])


def scenario_resident2(s: Session, c: Checks) -> None:
    """Second tap on the same state file."""
    salt = hashlib.sha256(b"salt").digest()
    out = s.hmac_secret(PinProtocolV2(), cred(s, "rk1")[0], salt)
    c.check("ctap2 hmac-secret: same output on the next tap",
            s.data["hmac"], out.hex())


def scenario_wrong3(s: Session, c: Checks) -> None:
    """3 wrong PINs in one power-up: 31 31 34, then 34 even for the right
    PIN; retries 5 in the state file."""
    client = ClientPin(s.ctap, PinProtocolV1())
    codes = [s.error(lambda: client.get_pin_token("0000", MC_GA))
             for _ in range(3)]
    codes.append(s.error(lambda: client.get_pin_token(PIN, MC_GA)))
    c.check("ctap2 3 wrong PINs: 31 31 34, right PIN 34 until re-tap, "
            "retries 5, powerCycleState",
            ([0x31, 0x31, 0x34, 0x34], (5, True), 5),
            (codes, client.get_pin_retries(), s.state()["pin_retries"]))


def scenario_retap(s: Session, c: Checks) -> None:
    client = ClientPin(s.ctap, PinProtocolV2())
    c.check("ctap2 after re-tap: right PIN works, retries back to 8",
            (None, 8), (s.error(lambda: client.get_pin_token(PIN, MC_GA)),
                        client.get_pin_retries()[0]))


def scenario_blocked(s: Session, c: Checks) -> None:
    """State file edited to pin_retries 1 before the tap."""
    client = ClientPin(s.ctap, PinProtocolV2())
    c.check("ctap2 last retry wrong: 32, retries 0, right PIN 32 too",
            (0x32, 0, 0x32, 0),
            (s.error(lambda: client.get_pin_token("0000", MC_GA)),
             client.get_pin_retries()[0],
             s.error(lambda: client.get_pin_token(PIN, MC_GA)),
             s.state()["pin_retries"]))


def scenario_always_uv(s: Session, c: Checks) -> None:
    info = s.ctap.info
    c.check("ctap2 alwaysUv: getInfo, no U2F_V2, SELECT FIDO_2_0",
            (True, ["FIDO_2_0", "FIDO_2_1"], 0),
            (info.options.get("alwaysUv"), info.versions,
             s.device.capabilities & 0x08))
    att = s.make(PinProtocolV2())
    cid = att.auth_data.credential_data.credential_id
    c.check("ctap2 alwaysUv: makeCredential/getAssertion without token 36, "
            "with token ok",
            (0x36, 0x36, FLAG_UP | FLAG_UV),
            (s.error(lambda: s.make()), s.error(lambda: s.assertion([cid])),
             s.assertion([cid], PinProtocolV1()).auth_data.flags))
    r, sw1, sw2 = s.device.apdu_exchange(bytes.fromhex(
        "0001000040" + "00" * 64))
    c.check("ctap2 alwaysUv: U2F REGISTER 6D 00", (0x6D, 0x00), (sw1, sw2))


def scenario_chain(s: Session, c: Checks) -> None:
    """--no-extended --ctap2-chunk 64: CLA 90 command chaining, 61 xx."""
    cid, key = cred(s, "plain")
    ids = [os.urandom(52) for _ in range(6)] + [cid]   # > 250 bytes
    a = s.assertion(ids)
    c.check("ctap2 chained getAssertion (7-entry allowList), verifies",
            (cid, True), (a.credential["id"],
                          verify(key, a.auth_data, s.cdh, a.signature)))
    att = s.make()
    c.check("ctap2 makeCredential reply through 61 xx pieces of 64",
            "packed", att.fmt)
    s.device.use_ext_apdu = True
    c.check("ctap2 --no-extended: extended NFCCTAP_MSG fails", 0x7F,
            s.error(lambda: s.assertion([cid])))


def scenario_extended(s: Session, c: Checks) -> None:
    cid, key = cred(s, "plain")
    s.device.use_ext_apdu = True
    a = s.assertion([os.urandom(52) for _ in range(6)] + [cid])
    c.check("ctap2 extended APDU, whole reply",
            True, verify(key, a.auth_data, s.cdh, a.signature))


def scenario_keepalive(s: Session, c: Checks) -> None:
    cid, key = cred(s, "plain")
    seen = []
    a = s.assertion([cid], on_keepalive=seen.append)
    c.check("ctap2 keep-alive: 91 00 PROCESSING seen, then the assertion",
            ([1], True), ([int(x) for x in seen],
                          verify(key, a.auth_data, s.cdh, a.signature)))
    r, sw1, sw2 = s.device.apdu_exchange(bytes.fromhex("80100000010400"))
    c.check("ctap2 keep-alive: P1 00 answered directly (no 91 00)",
            (0x00, True), (r[0] if r else None, sw1 in (0x90, 0x61)))


def scenario_faults_signed(s: Session, c: Checks) -> None:
    """ctap2-wrong-rpid-hash, ctap2-no-uv, ctap2-counter-stuck."""
    cid, key = cred(s, "plain")
    a1 = s.assertion([cid], PinProtocolV2())
    a2 = s.assertion([cid])
    c.check("ctap2 faults wrong-rpid-hash + no-uv + counter-stuck: "
            "signed, other rpIdHash, no UV, same non-zero counter",
            (True, True, False, FLAG_UP, True),
            (verify(key, a1.auth_data, s.cdh, a1.signature),
             verify(key, a2.auth_data, s.cdh, a2.signature),
             a1.auth_data.rp_id_hash == hashlib.sha256(RP.encode()).digest(),
             a1.auth_data.flags,
             a1.auth_data.counter == a2.auth_data.counter != 0))


def scenario_fault_bad_sig(s: Session, c: Checks) -> None:
    cid, key = cred(s, "plain")
    a = s.assertion([cid])
    c.check("ctap2 fault bad-signature", False,
            verify(key, a.auth_data, s.cdh, a.signature))


def scenario_fault_error(s: Session, c: Checks) -> None:
    cid, _ = cred(s, "plain")
    c.check("ctap2 fault error=2E", 0x2E, s.error(lambda: s.assertion([cid])))


def scenario_fault_cbor(s: Session, c: Checks) -> None:
    cid, _ = cred(s, "plain")
    try:
        s.assertion([cid])
        outcome = "accepted"
    except CtapError as exc:
        outcome = f"ctap {int(exc.code):02X}"
    except Exception:       # what fido2's CBOR decoder raises
        outcome = "rejected"
    c.check("ctap2 fault malformed-cbor: fido2 rejects the reply",
            "rejected", outcome)


def scenario_eddsa(s: Session, c: Checks) -> None:
    """--ctap2-algs es256,eddsa --ctap2-counter-step zero"""
    att = s.ctap.make_credential(
        s.cdh, {"id": RP}, {"id": b"ed"},
        [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}])
    cred_data = att.auth_data.credential_data
    key = cbor.encode(dict(cred_data.public_key))
    a = s.assertion([cred_data.credential_id])
    c.check("ctap2 EdDSA credential (first of the host's list), Ed25519 "
            "signature verifies, counter-step zero",
            ([-7, -8], -8, True, 0, 0),
            ([x["alg"] for x in s.ctap.info.algorithms],
             cred_data.public_key[3],
             verify(key, a.auth_data, s.cdh, a.signature),
             att.auth_data.counter, a.auth_data.counter))


SCENARIOS = {name[len("scenario_"):]: value for name, value in globals().items()
             if name.startswith("scenario_")}


def main(argv: list[str]) -> int:
    reader, work, name = argv
    checks = Checks()
    try:
        session = Session(reader, work)
        SCENARIOS[name](session, checks)
    except Exception:       # report, so that selftest counts a failure
        print(f"FAIL ctap2 scenario {name} crashed: "
              + traceback.format_exc().strip().splitlines()[-1])
        for line in traceback.format_exc().splitlines():
            print("#", line)
        return 1
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
