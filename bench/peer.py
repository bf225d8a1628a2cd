#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The peer: what people do today without pam_vivo.

pam_exec runs this script (auth required pam_exec.so quiet /usr/bin/python3
peer.py PARAMS.json); it exits 0 to let the user in. Like the scripts one
finds for "log in with an NFC tag/implant", it uses pyscard to talk to the
reader and python3-cryptography to check the answer, and sends the same
APDUs pam_vivo sends (docs/apdu.md):

  u2f   SELECT the FIDO applet, AUTHENTICATE (P1 03) a fresh random
        challenge with the enrolled key handle, verify the ECDSA signature
        with the enrolled public key and check user presence
  hmac  SELECT the HMAC applet, CHALLENGE slot N with 63 fresh random bytes
        (+ the pad byte pam_vivo uses), compare with HMAC-SHA1(K, challenge)
        computed here
        (the usual scripts keep K on disk; pam_vivo does not)
  uid   GET DATA, compare with the enrolled UID (in clear, as those
        scripts do; pam_vivo compares a PBKDF2 hash)

It does not wait for a fresh tap, keeps no counter and writes nothing:
that is less than pam_vivo does, on purpose in the peer's favour.
"""

import json
import os
import sys

from smartcard.System import readers


def main():
    with open(sys.argv[1]) as f:
        p = json.load(f)
    reader = next(r for r in readers() if p["reader"] in str(r))
    conn = reader.createConnection()
    conn.connect()
    try:
        if p["method"] == "u2f":
            return u2f(conn, p)
        if p["method"] == "hmac":
            return hmac(conn, p)
        return uid(conn, p)
    finally:
        conn.disconnect()


def u2f(conn, p):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    _, sw1, sw2 = conn.transmit(list(bytes.fromhex("00A4040008A0000006472F0001")))
    if (sw1, sw2) != (0x90, 0x00):
        return 1
    kh = bytes.fromhex(p["key_handle"])
    app = bytes.fromhex(p["app_param"])
    chal = os.urandom(32)
    data = chal + app + bytes([len(kh)]) + kh
    apdu = bytes([0x00, 0x02, 0x03, 0x00, len(data)]) + data + b"\x00"
    resp, sw1, sw2 = conn.transmit(list(apdu))
    if (sw1, sw2) != (0x90, 0x00) or len(resp) < 6:
        return 1
    resp = bytes(resp)
    up, counter, sig = resp[0:1], resp[1:5], resp[5:]
    if not up[0] & 1:
        return 1
    pub = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), bytes.fromhex(p["public_key"]))
    pub.verify(sig, app + up + counter + chal, ec.ECDSA(hashes.SHA256()))
    return 0   # verify() raises on a bad signature


def hmac(conn, p):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as crypto_hmac

    _, sw1, sw2 = conn.transmit(list(bytes.fromhex("00A4040007A0000005272001")))
    if (sw1, sw2) != (0x90, 0x00):
        return 1
    chal = os.urandom(63)
    pad = b"\x01" if chal[-1] == 0 else b"\x00"   # as docs/apdu.md
    ins_p1 = 0x38 if p["slot"] == 2 else 0x30
    apdu = bytes([0x00, 0x01, ins_p1, 0x00, 0x40]) + chal + pad
    resp, sw1, sw2 = conn.transmit(list(apdu))
    if (sw1, sw2) != (0x90, 0x00):
        return 1
    h = crypto_hmac.HMAC(bytes.fromhex(p["key"]), hashes.SHA1())
    h.update(chal)
    h.verify(bytes(resp))   # raises on a mismatch
    return 0


def uid(conn, p):
    resp, sw1, sw2 = conn.transmit([0xFF, 0xCA, 0x00, 0x00, 0x00])
    return 0 if (sw1, sw2) == (0x90, 0x00) and bytes(resp) == bytes.fromhex(p["uid"]) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:   # a bad signature or HMAC, no reader, no card
        sys.exit(1)
