#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The fido2 peer: what people do today without pam_vivo, for a CTAP2
credential on an NFC implant.

pam_exec runs this script (auth required pam_exec.so quiet /usr/bin/python3
peer_fido2.py PARAMS.json); it exits 0 to let the user in. It is what one
writes with python3-fido2 (Debian's 0.9.1) for "log in with a FIDO2 key over
NFC": fido2.pcsc.CtapPcscDevice on the reader (pyscard underneath: it
SELECTs the FIDO applet and probes CTAP2 with getInfo), fido2.ctap2.Ctap2
(which asks getInfo again), then getAssertion for the enrolled rp id with
the enrolled credential id in the allow list and a fresh client-data hash.
The answer is checked as a relying party would: the rp id hash, the
user-presence flag, and the ES256 signature over authData || clientDataHash
with the enrolled public key (fido2.cose.ES256 on python3-cryptography).
Those are the APDUs pam_vivo's helper sends too (SELECT, getInfo twice,
getAssertion).

It does not wait for a fresh tap, keeps no counter and writes nothing:
that is less than pam_vivo does, on purpose in the peer's favour.
"""

import hashlib
import json
import os
import sys

from fido2.cose import ES256
from fido2.ctap2 import Ctap2
from fido2.pcsc import CtapPcscDevice
from smartcard.System import readers


def main():
    with open(sys.argv[1]) as f:
        p = json.load(f)
    reader = next(r for r in readers() if p["reader"] in str(r))
    dev = CtapPcscDevice(reader.createConnection(), str(reader))
    try:
        ctap = Ctap2(dev)
        client_data = json.dumps({
            "type": "webauthn.get",
            "challenge": os.urandom(32).hex(),
            "origin": p["rpid"]}).encode()
        cdh = hashlib.sha256(client_data).digest()
        cred = bytes.fromhex(p["credential"])
        a = ctap.get_assertion(p["rpid"], cdh,
                               allow_list=[{"type": "public-key", "id": cred}])
    finally:
        dev.close()
    if a.auth_data.rp_id_hash != hashlib.sha256(p["rpid"].encode()).digest():
        return 1
    if not a.auth_data.is_user_present():
        return 1
    if a.credential and a.credential.get("id") != cred:
        return 1
    a.verify(cdh, ES256.from_ctap1(bytes.fromhex(p["pubkey"])))
    return 0   # verify() raises on a bad signature


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:   # a bad signature, no reader, no card, a CTAP error
        sys.exit(1)
