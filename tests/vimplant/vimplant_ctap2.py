# SPDX-License-Identifier: BSD-2-Clause
"""The CTAP 2.1 authenticator behind vimplant's FIDO applet.

Written from the CTAP 2.1 specification (Proposed Standard, 2021-06-15):
§6 authenticator API (makeCredential, getAssertion, getNextAssertion,
getInfo, clientPin, reset, selection), §6.5 PIN/UV auth protocols 1 and 2,
§12 extensions hmac-secret and credProtect.  It knows nothing of APDUs:
:meth:`Ctap2Authenticator.handle` takes ``command byte ‖ CBOR`` and returns
``status byte ‖ CBOR``; the NFC framing (NFCCTAP_MSG, chaining, 61 xx,
keep-alive) lives in vimplant.py's U2fApplet.

Only python3-cryptography and python3-fido2's CBOR codec (``fido2.cbor``,
whose encoder emits the CTAP2 canonical form) are used.
"""

import hashlib
import hmac
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID, ObjectIdentifier
from fido2 import cbor

# Command bytes (§6) and the names used in the log.
CMD_MAKE_CREDENTIAL = 0x01
CMD_GET_ASSERTION = 0x02
CMD_GET_INFO = 0x04
CMD_CLIENT_PIN = 0x06
CMD_RESET = 0x07
CMD_GET_NEXT_ASSERTION = 0x08
CMD_SELECTION = 0x0B
COMMAND_NAMES = {CMD_MAKE_CREDENTIAL: "makeCredential",
                 CMD_GET_ASSERTION: "getAssertion", CMD_GET_INFO: "getInfo",
                 CMD_CLIENT_PIN: "clientPin", CMD_RESET: "reset",
                 CMD_GET_NEXT_ASSERTION: "getNextAssertion",
                 CMD_SELECTION: "selection"}
PIN_SUBCOMMANDS = {0x01: "getPINRetries", 0x02: "getKeyAgreement",
                   0x03: "setPIN", 0x04: "changePIN", 0x05: "getPinToken",
                   0x09: "getPinUvAuthTokenUsingPinWithPermissions"}

# Status codes (§8.2).
OK = 0x00
ERR_INVALID_COMMAND = 0x01
ERR_INVALID_PARAMETER = 0x02
ERR_INVALID_LENGTH = 0x03
ERR_INVALID_CBOR = 0x12
ERR_CBOR_UNEXPECTED_TYPE = 0x11
ERR_MISSING_PARAMETER = 0x14
ERR_CREDENTIAL_EXCLUDED = 0x19
ERR_UNSUPPORTED_ALGORITHM = 0x26
ERR_KEY_STORE_FULL = 0x28
ERR_UNSUPPORTED_OPTION = 0x2B
ERR_INVALID_OPTION = 0x2C
ERR_NO_CREDENTIALS = 0x2E
ERR_NOT_ALLOWED = 0x30
ERR_PIN_INVALID = 0x31
ERR_PIN_BLOCKED = 0x32
ERR_PIN_AUTH_INVALID = 0x33
ERR_PIN_AUTH_BLOCKED = 0x34
ERR_PIN_NOT_SET = 0x35
ERR_PUAT_REQUIRED = 0x36
ERR_PIN_POLICY_VIOLATION = 0x37
ERR_REQUEST_TOO_LARGE = 0x39
ERR_UNAUTHORIZED_PERMISSION = 0x40

# "vimplant-ctap2-1" in ASCII: 76696d70-6c61-6e74-2d63-746170322d31
AAGUID = b"vimplant-ctap2-1"
ALG_ES256 = -7
ALG_EDDSA = -8
ALGORITHMS = {"es256": ALG_ES256, "eddsa": ALG_EDDSA}
PIN_RETRIES_MAX = 8
PIN_CONSECUTIVE_MAX = 3          # wrong PINs per power-up before 0x34
MAX_RESIDENT = 25
PERM_MC = 0x01
PERM_GA = 0x02
PERM_LBW = 0x10
SUPPORTED_PERMISSIONS = PERM_MC | PERM_GA
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
FLAG_ED = 0x80
CRED_ID_WRAPPED = 0x01           # first byte of a non-resident credential id
CRED_ID_RESIDENT = 0x02
CRED_ID_LEN = 52                 # type alg protect hmac ‖ nonce 32 ‖ tag 16
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


class CtapError(Exception):
    """End the command with this CTAP status byte."""

    def __init__(self, status: int):
        super().__init__(f"CTAP status {status:02X}")
        self.status = status


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(int(timestamp), timezone.utc)


def _hmac256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# --------------------------------------------------------------------------
# PIN/UV auth protocols (§6.5.6, §6.5.7)
# --------------------------------------------------------------------------

class PinProtocol:
    """PIN/UV auth protocol 1: SHA-256(Z) as shared secret, AES-256-CBC
    with a zero IV, HMAC-SHA-256 truncated to 16 bytes."""

    version = 1

    def kdf(self, z: bytes) -> bytes:
        return hashlib.sha256(z).digest()

    def _cipher(self, key: bytes, iv: bytes) -> Cipher:
        return Cipher(algorithms.AES(key), modes.CBC(iv))

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        enc = self._cipher(key[-32:], bytes(16)).encryptor()
        return enc.update(plaintext) + enc.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        if not ciphertext or len(ciphertext) % 16:
            raise CtapError(ERR_INVALID_PARAMETER)
        dec = self._cipher(key[-32:], bytes(16)).decryptor()
        return dec.update(ciphertext) + dec.finalize()

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        return _hmac256(key[:32], message)[:16]

    def verify(self, key: bytes, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.authenticate(key, message), signature)


class PinProtocolTwo(PinProtocol):
    """PIN/UV auth protocol 2: HKDF-SHA-256 (salt 32 zero bytes, info
    "CTAP2 HMAC key" / "CTAP2 AES key") gives a 64-byte shared secret
    (HMAC key ‖ AES key); AES-256-CBC with a random IV prepended; full
    32-byte HMAC-SHA-256."""

    version = 2

    def kdf(self, z: bytes) -> bytes:
        def hkdf(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32,
                        salt=bytes(32), info=info).derive(z)
        return hkdf(b"CTAP2 HMAC key") + hkdf(b"CTAP2 AES key")

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        iv = os.urandom(16)
        enc = self._cipher(key[-32:], iv).encryptor()
        return iv + enc.update(plaintext) + enc.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        if len(ciphertext) < 32 or len(ciphertext) % 16:
            raise CtapError(ERR_INVALID_PARAMETER)
        dec = self._cipher(key[-32:], ciphertext[:16]).decryptor()
        return dec.update(ciphertext[16:]) + dec.finalize()

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        # a 64-byte shared secret: its first half is the HMAC key; the
        # 32-byte pinUvAuthToken is used whole
        return _hmac256(key[:32], message)


PROTOCOLS: dict[int, PinProtocol] = {1: PinProtocol(), 2: PinProtocolTwo()}


# --------------------------------------------------------------------------
# Configuration and credentials
# --------------------------------------------------------------------------

@dataclass
class Ctap2Config:
    """The CTAP2 settings taken from vimplant's command line."""

    u2f_enabled: bool = True          # versions lists U2F_V2
    pin: str | None = None            # --ctap2-pin
    always_uv: bool = False
    max_msg: int = 1024
    algorithms: tuple[int, ...] = (ALG_ES256,)
    counter_step: str = "1"           # N, "zero" or "odd-random"
    error_status: int | None = None   # fault ctap2-error=HEX
    faults: frozenset[str] = frozenset()


@dataclass
class Credential:
    """A credential found for an rp: its id, how it was made, and for
    discoverable ones the user it belongs to."""

    cred_id: bytes
    alg: int
    protect: int                      # credProtect level 1-3
    hmac_secret: bool
    resident: bool = False
    rp_id: str = ""
    user: dict = field(default_factory=dict)
    seq: int = 0                      # creation order (newest first)


def cose_key(public) -> dict:
    """The COSE_Key of a credential public key (§6.5.6 / RFC 8152)."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw,
                                  serialization.PublicFormat.Raw)
        return {1: 1, 3: ALG_EDDSA, -1: 6, -2: raw}
    numbers = public.public_numbers()
    return {1: 2, 3: ALG_ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big")}


def sign(key, message: bytes) -> bytes:
    """ECDSA P-256 SHA-256 (DER) or Ed25519 signature."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _want(params: dict, key: int, kind: type | tuple, required: bool = True
          ) -> Any:
    """A request parameter of the right CBOR type (or None if optional)."""
    value = params.get(key)
    if value is None:
        if required:
            raise CtapError(ERR_MISSING_PARAMETER)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value,
                                                                  bool)):
        raise CtapError(ERR_CBOR_UNEXPECTED_TYPE)
    return value


# --------------------------------------------------------------------------
# The authenticator
# --------------------------------------------------------------------------

class Ctap2Authenticator:
    """A CTAP 2.1 authenticator without built-in UV: the tap is the user
    presence, the PIN (clientPin) the only user verification.

    Persistent state (``state()`` / the ``--ctap2-state`` file): master
    secret, attestation key and certificate, discoverable credentials,
    PIN hash, PIN retries and the global signature counter.  Transient
    state (per power-up): key-agreement key, pinUvAuthToken and its
    permissions, consecutive wrong PINs, the getNextAssertion queue.
    """

    def __init__(self, config: Ctap2Config, state: dict | None,
                 save: Callable[[dict], None],
                 log: Callable[[str], None] = lambda line: None):
        self.config = config
        self.save_callback = save
        self.log = log
        self.credentials: list[Credential] = []
        self.pin_hash: bytes | None = None
        self.pin_retries = PIN_RETRIES_MAX
        self.counter = 0
        self.seq = 0
        if state is None:
            self.master = os.urandom(32)
            self.att_key = ec.generate_private_key(ec.SECP256R1())
            self.att_cert = self._make_certificate(self.att_key)
            if config.pin is not None:
                self.pin_hash = hashlib.sha256(
                    config.pin.encode("utf-8")).digest()[:16]
        else:
            self._load(state)
        self.power_up()

    # --- state ---------------------------------------------------------------

    @staticmethod
    def _make_certificate(key) -> x509.Certificate:
        """A self-signed packed-attestation certificate (WebAuthn §8.2.1:
        version 3, OU "Authenticator Attestation", not a CA, the AAGUID
        in extension 1.3.6.1.4.1.45724.1.1.4)."""
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                               "pam_vivo test-suite"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                               "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME,
                               "vimplant CTAP2 attestation")])
        now = time.time()
        return (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_utc(now - 86400))
                .not_valid_after(_utc(now + 20 * 365 * 86400))
                .add_extension(x509.BasicConstraints(ca=False,
                                                     path_length=None),
                               critical=True)
                .add_extension(x509.UnrecognizedExtension(
                    AAGUID_OID, b"\x04\x10" + AAGUID), critical=False)
                .sign(key, hashes.SHA256()))

    def _load(self, state: dict) -> None:
        try:
            self.master = bytes.fromhex(state["master_secret"])
            self.att_key = serialization.load_pem_private_key(
                state["attestation_key"].encode("ascii"), password=None)
            self.att_cert = x509.load_pem_x509_certificate(
                state["attestation_cert"].encode("ascii"))
            pin_hash = state.get("pin_hash")
            self.pin_hash = bytes.fromhex(pin_hash) if pin_hash else None
            self.pin_retries = int(state.get("pin_retries", PIN_RETRIES_MAX))
            self.counter = int(state.get("counter", 0)) & 0xFFFFFFFF
            for entry in state.get("credentials", []):
                user = {"id": bytes.fromhex(entry["user_id"])}
                for key in ("name", "displayName"):
                    if entry.get(key) is not None:
                        user[key] = entry[key]
                cred = self._parse_id(bytes.fromhex(entry["id"]),
                                      hashlib.sha256(entry["rp_id"].encode(
                                          "utf-8")).digest())
                if cred is None:
                    raise ValueError("a credential id does not match the "
                                     "master secret")
                cred.resident, cred.rp_id, cred.user = True, entry["rp_id"], user
                cred.seq = int(entry.get("seq", 0))
                self.credentials.append(cred)
            self.seq = max((c.seq for c in self.credentials), default=0)
            if len(self.master) != 32:
                raise ValueError("master_secret must be 32 bytes")
            if not isinstance(self.att_key, ec.EllipticCurvePrivateKey):
                raise ValueError("attestation key is not an EC key")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad CTAP2 state: {exc}") from exc

    def state(self) -> dict:
        """The persistent state as the JSON object of ``--ctap2-state``."""
        key_pem = self.att_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        cert_pem = self.att_cert.public_bytes(
            serialization.Encoding.PEM).decode("ascii")
        creds = [{"id": c.cred_id.hex(), "rp_id": c.rp_id,
                  "user_id": c.user["id"].hex(),
                  "name": c.user.get("name"),
                  "displayName": c.user.get("displayName"),
                  "cred_protect": c.protect, "hmac_secret": c.hmac_secret,
                  "alg": c.alg, "seq": c.seq} for c in self.credentials]
        return {"format": "vimplant-ctap2-1", "master_secret": self.master.hex(),
                "attestation_key": key_pem, "attestation_cert": cert_pem,
                "aaguid": AAGUID.hex(),
                "pin_hash": self.pin_hash.hex() if self.pin_hash else None,
                "pin_retries": self.pin_retries, "counter": self.counter,
                "credentials": creds}

    def save(self) -> None:
        self.save_callback(self.state())

    def power_up(self) -> None:
        """A new power-up: fresh key agreement key and pinUvAuthToken, no
        permissions, the consecutive-wrong-PIN count back to 0."""
        self.ka_key = ec.generate_private_key(ec.SECP256R1())
        self.token = os.urandom(32)
        self.token_permissions = 0
        self.token_rp_id: str | None = None
        self.token_valid = False
        self.consecutive_wrong = 0
        self.next_assertions: list | None = None

    # --- credential ids and keys ---------------------------------------------

    def _tag(self, rp_id_hash: bytes, body: bytes) -> bytes:
        return _hmac256(self.master, b"vimplant-ctap2-id" + rp_id_hash
                        + body)[:16]

    def _new_id(self, rp_id_hash: bytes, alg: int, protect: int,
                hmac_secret: bool, resident: bool) -> bytes:
        """``type alg+128 protect hmac ‖ nonce(32) ‖ tag(16)``; the tag is
        HMAC-SHA256(master, "vimplant-ctap2-id" ‖ rpIdHash ‖ the rest)."""
        body = bytes([CRED_ID_RESIDENT if resident else CRED_ID_WRAPPED,
                      alg + 128, protect, int(hmac_secret)]) + os.urandom(32)
        return body + self._tag(rp_id_hash, body)

    def _parse_id(self, cred_id: bytes, rp_id_hash: bytes
                  ) -> Credential | None:
        """The credential if ``cred_id`` is ours for that rp, else None."""
        if len(cred_id) != CRED_ID_LEN or cred_id[0] not in (
                CRED_ID_WRAPPED, CRED_ID_RESIDENT):
            return None
        body, tag = cred_id[:-16], cred_id[-16:]
        if not hmac.compare_digest(tag, self._tag(rp_id_hash, body)):
            return None
        return Credential(cred_id, body[1] - 128, body[2], bool(body[3]),
                          body[0] == CRED_ID_RESIDENT)

    def _private_key(self, cred: Credential):
        seed = _hmac256(self.master, b"vimplant-ctap2-key" + cred.cred_id)
        if cred.alg == ALG_EDDSA:
            return ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        scalar = int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1
        return ec.derive_private_key(scalar, ec.SECP256R1())

    def _cred_random(self, cred: Credential, uv: bool) -> bytes:
        """CredRandomWithUV / CredRandomWithoutUV of hmac-secret."""
        label = b"vimplant-ctap2-hmac-uv" if uv else b"vimplant-ctap2-hmac"
        return _hmac256(self.master, label + cred.cred_id)

    def _signature_counter(self) -> int:
        """Advance the global counter for one signature and return it."""
        step = self.config.counter_step
        if "ctap2-counter-stuck" in self.config.faults:
            if self.counter == 0:
                self.counter = 1
            return self.counter
        if step == "zero":
            return 0
        if step == "odd-random":
            increment = random.choice(range(1, 16, 2))
        else:
            increment = int(step)
        self.counter = (self.counter + increment) & 0xFFFFFFFF
        return self.counter

    # --- dispatch ---------------------------------------------------------------

    def handle(self, request: bytes) -> bytes:
        """Answer one CTAP2 request (command byte ‖ CBOR)."""
        if not request:
            return bytes([ERR_INVALID_LENGTH])
        command = request[0]
        name = COMMAND_NAMES.get(command, f"0x{command:02X}")
        if command not in (CMD_GET_ASSERTION, CMD_GET_NEXT_ASSERTION):
            self.next_assertions = None
        try:
            if len(request) > self.config.max_msg:
                raise CtapError(ERR_REQUEST_TOO_LARGE)
            params = {}
            if len(request) > 1:
                try:
                    params = cbor.decode(request[1:])
                except Exception as exc:
                    raise CtapError(ERR_INVALID_CBOR) from exc
                if not isinstance(params, dict):
                    raise CtapError(ERR_CBOR_UNEXPECTED_TYPE)
            if command == CMD_CLIENT_PIN:
                name += "." + PIN_SUBCOMMANDS.get(params.get(2), "?")
            reply = self._dispatch(command, params)
        except CtapError as exc:
            self.log(f"ctap2 {name} {exc.status:02X}")
            return bytes([exc.status])
        self.log(f"ctap2 {name} {reply[0]:02X}")
        return reply

    def _dispatch(self, command: int, params: dict) -> bytes:
        if command == CMD_GET_INFO:
            return bytes([OK]) + cbor.encode(self.get_info())
        if command == CMD_MAKE_CREDENTIAL:
            return bytes([OK]) + cbor.encode(self.make_credential(params))
        if command == CMD_GET_ASSERTION:
            if self.config.error_status is not None:
                return bytes([self.config.error_status])
            answer = cbor.encode(self.get_assertion(params))
            if "ctap2-malformed-cbor" in self.config.faults:
                # cut in the middle of the map, then bytes that are no CBOR
                answer = answer[:len(answer) // 2] + b"\xFF\xFF"
            return bytes([OK]) + answer
        if command == CMD_GET_NEXT_ASSERTION:
            return bytes([OK]) + cbor.encode(self.get_next_assertion())
        if command == CMD_CLIENT_PIN:
            answer = self.client_pin(params)
            return bytes([OK]) + (cbor.encode(answer) if answer else b"")
        if command == CMD_RESET:
            self.reset()
            return bytes([OK])
        if command == CMD_SELECTION:
            return bytes([OK])
        raise CtapError(ERR_INVALID_COMMAND)

    # --- getInfo (§6.4) -------------------------------------------------------

    def versions(self) -> list[str]:
        u2f = self.config.u2f_enabled and not self.config.always_uv
        return (["U2F_V2"] if u2f else []) + ["FIDO_2_0", "FIDO_2_1"]

    def get_info(self) -> dict:
        options = {"rk": True, "up": True, "plat": False,
                   "clientPin": self.pin_hash is not None,
                   "pinUvAuthToken": True, "makeCredUvNotRqd": True}
        if self.config.always_uv:
            options["alwaysUv"] = True
        return {1: self.versions(), 2: ["credProtect", "hmac-secret"],
                3: AAGUID, 4: options, 5: self.config.max_msg, 6: [2, 1],
                7: 8, 8: CRED_ID_LEN, 9: ["nfc"],
                0x0A: [{"alg": alg, "type": "public-key"}
                       for alg in self.config.algorithms],
                0x0D: 4}

    # --- pinUvAuthParam checks (§6.1.2 / §6.2.2 steps 1-4) ---------------------

    def _check_pin_uv_param(self, params: dict, param_key: int,
                            proto_key: int) -> tuple[bytes | None,
                                                     PinProtocol | None]:
        """Type checks of pinUvAuthParam / pinUvAuthProtocol, and the
        zero-length "touch" probe."""
        param = _want(params, param_key, bytes, required=False)
        proto_no = _want(params, proto_key, int, required=False)
        if param is not None and len(param) == 0:
            raise CtapError(ERR_PIN_INVALID if self.pin_hash
                            else ERR_PIN_NOT_SET)
        if param is None:
            return None, None
        if proto_no is None:
            raise CtapError(ERR_MISSING_PARAMETER)
        if proto_no not in PROTOCOLS:
            raise CtapError(ERR_INVALID_PARAMETER)
        return param, PROTOCOLS[proto_no]

    def _verify_token(self, protocol: PinProtocol, param: bytes,
                      client_data_hash: bytes, permission: int,
                      rp_id: str) -> None:
        """pinUvAuthParam = authenticate(pinUvAuthToken, clientDataHash),
        with the permission and rp binding of the token."""
        if not self.token_valid or not protocol.verify(
                self.token, client_data_hash, param):
            raise CtapError(ERR_PIN_AUTH_INVALID)
        if not self.token_permissions & permission:
            raise CtapError(ERR_PIN_AUTH_INVALID)
        if self.token_rp_id is not None and self.token_rp_id != rp_id:
            raise CtapError(ERR_PIN_AUTH_INVALID)
        self.token_rp_id = rp_id

    def _uv_required_error(self) -> CtapError:
        return CtapError(ERR_PUAT_REQUIRED if self.pin_hash
                         else ERR_PIN_NOT_SET)

    def _used_token(self) -> None:
        """After a use with user presence: clear all permissions but lbw."""
        self.token_permissions &= PERM_LBW

    # --- makeCredential (§6.1) ------------------------------------------------

    def make_credential(self, params: dict) -> dict:
        client_data_hash = _want(params, 1, bytes)
        rp = _want(params, 2, dict)
        user = _want(params, 3, dict)
        cred_params = _want(params, 4, list)
        exclude = _want(params, 5, list, required=False) or []
        extensions = _want(params, 6, dict, required=False) or {}
        options = _want(params, 7, dict, required=False) or {}
        param, protocol = self._check_pin_uv_param(params, 8, 9)
        rp_id = rp.get("id")
        if not isinstance(rp_id, str) or not isinstance(user.get("id"),
                                                         bytes):
            raise CtapError(ERR_MISSING_PARAMETER)
        alg = None
        for entry in cred_params:
            if not isinstance(entry, dict):
                raise CtapError(ERR_CBOR_UNEXPECTED_TYPE)
            if entry.get("type") == "public-key" \
                    and entry.get("alg") in self.config.algorithms:
                alg = entry["alg"]
                break
        if alg is None:
            raise CtapError(ERR_UNSUPPORTED_ALGORITHM)
        resident = options.get("rk") is True
        if options.get("uv") is True:
            raise CtapError(ERR_INVALID_OPTION)     # no built-in UV
        if options.get("up") is False:
            raise CtapError(ERR_INVALID_OPTION)
        uv = False
        if param is None:
            if self.config.always_uv or (self.pin_hash and resident):
                raise self._uv_required_error()
        else:
            self._verify_token(protocol, param, client_data_hash, PERM_MC,
                               rp_id)
            uv = True
        rp_id_hash = hashlib.sha256(rp_id.encode("utf-8")).digest()
        for descriptor in exclude:
            if not isinstance(descriptor, dict) or not isinstance(
                    descriptor.get("id"), bytes):
                continue
            found = self._parse_id(descriptor["id"], rp_id_hash)
            if found and (found.protect < 3 or uv):
                raise CtapError(ERR_CREDENTIAL_EXCLUDED)
        protect = extensions.get("credProtect")
        if protect not in (1, 2, 3):
            protect = None
        hmac_secret = extensions.get("hmac-secret") is True
        cred = Credential(self._new_id(rp_id_hash, alg, protect or 1,
                                       hmac_secret, resident),
                          alg, protect or 1, hmac_secret, resident)
        if resident:
            self.credentials = [c for c in self.credentials
                                if not (c.rp_id == rp_id
                                        and c.user["id"] == user["id"])]
            if len(self.credentials) >= MAX_RESIDENT:
                raise CtapError(ERR_KEY_STORE_FULL)
            self.seq += 1
            cred.rp_id, cred.seq = rp_id, self.seq
            cred.user = {k: v for k, v in user.items()
                         if k in ("id", "name", "displayName")}
            self.credentials.append(cred)
        ext_out = {}
        if protect is not None:
            ext_out["credProtect"] = protect
        if hmac_secret:
            ext_out["hmac-secret"] = True
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if uv else 0) \
            | (FLAG_ED if ext_out else 0)
        public = cose_key(self._private_key(cred).public_key())
        attested = (AAGUID + len(cred.cred_id).to_bytes(2, "big")
                    + cred.cred_id + cbor.encode(public))
        auth_data = (rp_id_hash + bytes([flags])
                     + self._signature_counter().to_bytes(4, "big")
                     + attested + (cbor.encode(ext_out) if ext_out else b""))
        if uv:
            self._used_token()
        self.save()
        signature = sign(self.att_key, auth_data + client_data_hash)
        certificate = self.att_cert.public_bytes(serialization.Encoding.DER)
        return {1: "packed", 2: auth_data,
                3: {"alg": ALG_ES256, "sig": signature, "x5c": [certificate]}}

    # --- getAssertion / getNextAssertion (§6.2, §6.3) ---------------------------

    def get_assertion(self, params: dict) -> dict:
        self.next_assertions = None
        rp_id = _want(params, 1, str)
        client_data_hash = _want(params, 2, bytes)
        allow = _want(params, 3, list, required=False)
        extensions = _want(params, 4, dict, required=False) or {}
        options = _want(params, 5, dict, required=False) or {}
        param, protocol = self._check_pin_uv_param(params, 6, 7)
        if "rk" in options:
            raise CtapError(ERR_UNSUPPORTED_OPTION)
        if options.get("uv") is True:
            raise CtapError(ERR_INVALID_OPTION)     # no built-in UV
        up = options.get("up", True) is not False
        uv = False
        if param is None:
            if self.config.always_uv:
                raise self._uv_required_error()
        else:
            self._verify_token(protocol, param, client_data_hash, PERM_GA,
                               rp_id)
            uv = True
        rp_id_hash = hashlib.sha256(rp_id.encode("utf-8")).digest()
        if allow:
            found = []
            for descriptor in allow:
                if not isinstance(descriptor, dict) or not isinstance(
                        descriptor.get("id"), bytes):
                    continue
                cred = self._parse_id(descriptor["id"], rp_id_hash)
                if cred is None:
                    continue
                stored = [c for c in self.credentials
                          if c.cred_id == cred.cred_id]
                if cred.resident and not stored:
                    continue                  # deleted (reset / replaced)
                cred = stored[0] if stored else cred
                if cred.protect == 3 and not uv:
                    continue
                found.append(cred)
            found = found[:1]
        else:
            found = sorted((c for c in self.credentials
                            if c.rp_id == rp_id and (c.protect == 1 or uv)),
                           key=lambda c: -c.seq)
        if not found:
            raise CtapError(ERR_NO_CREDENTIALS)
        hmac_input = extensions.get("hmac-secret")
        context = (rp_id_hash, client_data_hash, up, uv, hmac_input,
                   not allow)
        first = self._assertion(found[0], *context)
        if not allow:
            first[5] = len(found)
            self.next_assertions = [(c, context) for c in found[1:]]
        if uv and up:
            self._used_token()
        self.save()
        return first

    def get_next_assertion(self) -> dict:
        if not self.next_assertions:
            self.next_assertions = None
            raise CtapError(ERR_NOT_ALLOWED)
        cred, context = self.next_assertions.pop(0)
        answer = self._assertion(cred, *context)
        self.save()
        return answer

    def _hmac_secret(self, cred: Credential, hmac_input: Any, uv: bool
                     ) -> bytes | None:
        """hmac-secret (§12.5): ``{1: keyAgreement, 2: saltEnc, 3: saltAuth,
        4: pinUvAuthProtocol (default 1)}`` -> encrypted output(s)."""
        if not cred.hmac_secret or hmac_input is None:
            return None
        if not isinstance(hmac_input, dict):
            raise CtapError(ERR_CBOR_UNEXPECTED_TYPE)
        for key in (1, 2, 3):
            if key not in hmac_input:
                raise CtapError(ERR_MISSING_PARAMETER)
        protocol = PROTOCOLS.get(hmac_input.get(4, 1))
        if protocol is None:
            raise CtapError(ERR_INVALID_PARAMETER)
        shared = self._decapsulate(protocol, hmac_input[1])
        salt_enc, salt_auth = hmac_input[2], hmac_input[3]
        if not protocol.verify(shared, salt_enc, salt_auth):
            raise CtapError(ERR_PIN_AUTH_INVALID)
        salts = protocol.decrypt(shared, salt_enc)
        if len(salts) not in (32, 64):
            raise CtapError(ERR_INVALID_LENGTH)
        cred_random = self._cred_random(cred, uv)
        output = b"".join(_hmac256(cred_random, salts[i:i + 32])
                          for i in range(0, len(salts), 32))
        return protocol.encrypt(shared, output)

    def _assertion(self, cred: Credential, rp_id_hash: bytes,
                   client_data_hash: bytes, up: bool, uv: bool,
                   hmac_input: Any, discoverable: bool) -> dict:
        faults = self.config.faults
        ext_out = {}
        secret = self._hmac_secret(cred, hmac_input, uv)
        if secret is not None:
            ext_out["hmac-secret"] = secret
        flags = (FLAG_UP if up else 0) | (FLAG_ED if ext_out else 0)
        if uv and "ctap2-no-uv" not in faults:
            flags |= FLAG_UV
        if "ctap2-wrong-rpid-hash" in faults:
            rp_id_hash = hashlib.sha256(b"evil.example").digest()
        auth_data = (rp_id_hash + bytes([flags])
                     + self._signature_counter().to_bytes(4, "big")
                     + (cbor.encode(ext_out) if ext_out else b""))
        signature = sign(self._private_key(cred), auth_data + client_data_hash)
        if "ctap2-bad-signature" in faults:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        answer = {1: {"type": "public-key", "id": cred.cred_id},
                  2: auth_data, 3: signature}
        if cred.resident and cred.user:
            if discoverable and not uv:
                answer[4] = {"id": cred.user["id"]}
            else:
                answer[4] = dict(cred.user)
        return answer

    # --- clientPin (§6.5.5) ------------------------------------------------------

    def _ka_cose(self) -> dict:
        numbers = self.ka_key.public_key().public_numbers()
        return {1: 2, 3: -25, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big")}

    def _decapsulate(self, protocol: PinProtocol, peer: Any) -> bytes:
        """ECDH with the platform's COSE key, then the protocol's KDF."""
        if not isinstance(peer, dict):
            raise CtapError(ERR_CBOR_UNEXPECTED_TYPE)
        try:
            if peer.get(1) != 2 or peer.get(-1) != 1:
                raise ValueError("not a P-256 EC2 key")
            x = int.from_bytes(peer[-2], "big")
            y = int.from_bytes(peer[-3], "big")
            public = ec.EllipticCurvePublicNumbers(
                x, y, ec.SECP256R1()).public_key()
            z = self.ka_key.exchange(ec.ECDH(), public)
        except (ValueError, KeyError, TypeError) as exc:
            raise CtapError(ERR_INVALID_PARAMETER) from exc
        return protocol.kdf(z)

    def client_pin(self, params: dict) -> dict | None:
        proto_no = _want(params, 1, int)
        sub = _want(params, 2, int)
        protocol = PROTOCOLS.get(proto_no)
        if protocol is None:
            raise CtapError(ERR_INVALID_PARAMETER)
        if sub == 0x01:
            return {3: self.pin_retries,
                    4: self.consecutive_wrong >= PIN_CONSECUTIVE_MAX}
        if sub == 0x02:
            return {1: self._ka_cose()}
        if sub == 0x03:
            return self._set_pin(protocol, params)
        if sub == 0x04:
            return self._change_pin(protocol, params)
        if sub in (0x05, 0x09):
            return self._get_token(protocol, params, sub)
        raise CtapError(ERR_INVALID_PARAMETER)

    def _new_pin(self, protocol: PinProtocol, shared: bytes,
                 new_pin_enc: bytes) -> bytes:
        """Decrypt and check newPinEnc (64 bytes of padded PIN); return
        LEFT(SHA-256(newPin), 16)."""
        padded = protocol.decrypt(shared, new_pin_enc)
        if len(padded) != 64:
            raise CtapError(ERR_INVALID_PARAMETER)
        pin = padded.rstrip(b"\x00")
        try:
            length = len(pin.decode("utf-8"))
        except UnicodeError as exc:
            raise CtapError(ERR_PIN_POLICY_VIOLATION) from exc
        if length < 4:
            raise CtapError(ERR_PIN_POLICY_VIOLATION)
        return hashlib.sha256(pin).digest()[:16]

    def _set_pin(self, protocol: PinProtocol, params: dict) -> None:
        key_agreement = _want(params, 3, dict)
        auth = _want(params, 4, bytes)
        new_pin_enc = _want(params, 5, bytes)
        if self.pin_hash is not None:
            raise CtapError(ERR_PIN_AUTH_INVALID)
        shared = self._decapsulate(protocol, key_agreement)
        if not protocol.verify(shared, new_pin_enc, auth):
            raise CtapError(ERR_PIN_AUTH_INVALID)
        self.pin_hash = self._new_pin(protocol, shared, new_pin_enc)
        self.pin_retries = PIN_RETRIES_MAX
        self.save()
        return None

    def _check_pin_hash(self, protocol: PinProtocol, shared: bytes,
                        pin_hash_enc: bytes) -> None:
        """§6.5.5.5 steps: retries 0 -> blocked; decrement (and persist)
        BEFORE comparing; a mismatch regenerates the key agreement key and
        answers PIN_INVALID, PIN_AUTH_BLOCKED (3rd in a row) or
        PIN_BLOCKED (no retries left); a match resets the retries."""
        self.pin_retries -= 1
        self.save()
        given = protocol.decrypt(shared, pin_hash_enc)
        if not hmac.compare_digest(given[:16], self.pin_hash) \
                or len(given) != 16:
            self.ka_key = ec.generate_private_key(ec.SECP256R1())
            self.consecutive_wrong += 1
            if self.pin_retries <= 0:
                raise CtapError(ERR_PIN_BLOCKED)
            if self.consecutive_wrong >= PIN_CONSECUTIVE_MAX:
                raise CtapError(ERR_PIN_AUTH_BLOCKED)
            raise CtapError(ERR_PIN_INVALID)
        self.pin_retries = PIN_RETRIES_MAX
        self.consecutive_wrong = 0
        self.save()

    def _pin_usable(self) -> None:
        if self.pin_hash is None:
            raise CtapError(ERR_PIN_NOT_SET)
        if self.pin_retries <= 0:
            raise CtapError(ERR_PIN_BLOCKED)
        if self.consecutive_wrong >= PIN_CONSECUTIVE_MAX:
            raise CtapError(ERR_PIN_AUTH_BLOCKED)

    def _change_pin(self, protocol: PinProtocol, params: dict) -> None:
        key_agreement = _want(params, 3, dict)
        auth = _want(params, 4, bytes)
        new_pin_enc = _want(params, 5, bytes)
        pin_hash_enc = _want(params, 6, bytes)
        self._pin_usable()
        shared = self._decapsulate(protocol, key_agreement)
        if not protocol.verify(shared, new_pin_enc + pin_hash_enc, auth):
            raise CtapError(ERR_PIN_AUTH_INVALID)
        self._check_pin_hash(protocol, shared, pin_hash_enc)
        self.pin_hash = self._new_pin(protocol, shared, new_pin_enc)
        self.token = os.urandom(32)
        self.token_valid = False
        self.save()
        return None

    def _get_token(self, protocol: PinProtocol, params: dict, sub: int
                   ) -> dict:
        key_agreement = _want(params, 3, dict)
        pin_hash_enc = _want(params, 6, bytes)
        permissions = _want(params, 9, int, required=False)
        rp_id = _want(params, 0x0A, str, required=False)
        if sub == 0x05:
            if permissions is not None or rp_id is not None:
                raise CtapError(ERR_INVALID_PARAMETER)
            permissions = PERM_MC | PERM_GA
        else:
            if permissions is None:
                raise CtapError(ERR_MISSING_PARAMETER)
            if permissions == 0:
                raise CtapError(ERR_INVALID_PARAMETER)
            if permissions & ~SUPPORTED_PERMISSIONS:
                raise CtapError(ERR_UNAUTHORIZED_PERMISSION)
        self._pin_usable()
        shared = self._decapsulate(protocol, key_agreement)
        self._check_pin_hash(protocol, shared, pin_hash_enc)
        self.token = os.urandom(32)
        self.token_valid = True
        self.token_permissions = permissions
        self.token_rp_id = rp_id
        return {2: protocol.encrypt(shared, self.token)}

    # --- reset (§6.6) -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every credential and the PIN (new master secret)."""
        self.master = os.urandom(32)
        self.credentials = []
        self.pin_hash = None
        self.pin_retries = PIN_RETRIES_MAX
        self.seq = 0
        self.power_up()
        self.save()
