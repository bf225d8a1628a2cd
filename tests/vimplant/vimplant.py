#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""vimplant - a virtual NFC implant/card for the vsmartcard vpcd reader driver.

vimplant plays the card side of the vpcd protocol: it connects over TCP to
the port on which pcscd's vpcd driver listens (that is the "tap"), answers
the driver's control messages and C-APDUs like a contactless card seen
through a PC/SC reader would, and closes the connection to model removal.

Wire format (vpcd): every message, in both directions, is a 2-byte
big-endian length followed by that many payload bytes.  A 1-byte payload
from vpcd is a control message: 00 power off, 01 power on, 02 reset (no
reply), 04 "send the ATR" (reply: the ATR).  Any other payload is a C-APDU
and the reply is the R-APDU.

The javacard-like personalities can carry two applets: a YubiKey-compatible
HMAC-SHA1 challenge-response applet and a FIDO U2F (CTAP1) applet.

It is part of pam_vivo's test-suite and is written from the PC/SC, ISO,
Yubico and FIDO specifications only, independently of the product code.
The Python standard library is used, plus python3-cryptography for the U2F
applet (imported only when that applet is installed).  See README.md next
to this file for the CLI.
"""

import argparse
import dataclasses
import hashlib
import hmac
import json
import os
import random
import select
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Callable

EXIT_OK = 0
EXIT_CONNECT_FAILED = 3

# Status words.
SW_OK = b"\x90\x00"
SW_END_OF_DATA = b"\x62\x82"        # fewer bytes available than Le asked for
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY_STATUS = b"\x69\x82"   # security status not satisfied
SW_INVALID_DATA = b"\x69\x84"      # reference data not usable
SW_CONDITIONS = b"\x69\x85"        # conditions of use not satisfied
SW_WRONG_DATA = b"\x6A\x80"        # incorrect parameters in the data field
SW_FUNC_NOT_SUPPORTED = b"\x6A\x81"
SW_FILE_NOT_FOUND = b"\x6A\x82"     # SELECT: no applet with that AID
SW_WRONG_P1P2_SELECT = b"\x6A\x86"  # incorrect P1-P2 (SELECT)
SW_INCORRECT_P1P2 = SW_WRONG_P1P2_SELECT  # same code, for the applets
SW_WRONG_P1P2 = b"\x6B\x00"
SW_INS_NOT_SUPPORTED = b"\x6D\x00"
SW_CLA_NOT_SUPPORTED = b"\x6E\x00"

# vpcd control messages (1-byte payloads sent by the driver).
CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

MAX_FRAME = 0xFFFF  # the 2-byte vpcd length prefix cannot describe more


# --------------------------------------------------------------------------
# APDUs and ATRs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Apdu:
    """A parsed command APDU (ISO 7816-4, short or extended length).

    ``le`` is the raw value of the Le field, or None when absent.  A raw
    value of 0 means "as many bytes as available" (256 resp. 65536).
    ``extended`` tells whether the APDU used the extended-length encoding.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    @classmethod
    def parse(cls, raw: bytes) -> "Apdu":
        """Parse ``raw``; raise ValueError if it is not a well-formed APDU."""
        if len(raw) < 4:
            raise ValueError("APDU shorter than 4 bytes")
        header, body = raw[:4], raw[4:]
        if not body:                                    # case 1
            return cls(*header)
        if len(body) == 1:                              # case 2 short
            return cls(*header, le=body[0])
        if body[0] != 0:                                # cases 3/4 short
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(*header, data=body[1:])
            if len(body) == 2 + lc:
                return cls(*header, data=body[1:-1], le=body[-1])
            raise ValueError("Lc does not match the APDU length")
        if len(body) == 3:                              # case 2 extended
            return cls(*header, le=int.from_bytes(body[1:3], "big"),
                       extended=True)
        lc = int.from_bytes(body[1:3], "big")           # cases 3/4 extended
        if lc and len(body) == 3 + lc:
            return cls(*header, data=body[3:], extended=True)
        if lc and len(body) == 5 + lc:
            return cls(*header, data=body[3:-2],
                       le=int.from_bytes(body[-2:], "big"), extended=True)
        raise ValueError("malformed extended-length APDU")


def contactless_atr(historical: bytes) -> bytes:
    """Build the ATR a PC/SC reader synthesises for a contactless card.

    PC/SC part 3: ``3B 8N 80 01 <N historical bytes> TCK``, where TCK is the
    XOR of every byte after TS (T0 up to the last historical byte).
    """
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes fit in an ATR")
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3B" + body + bytes([tck])


def storage_card_historical(card_name: int) -> bytes:
    """Historical bytes a PC/SC reader reports for a storage card.

    RID A0 00 00 03 06 (PC/SC), standard 03 (ISO 14443 A part 3) and the
    2-byte card name (00 01 MIFARE Classic 1K, 00 03 Ultralight/NTAG).
    """
    return (bytes.fromhex("804F0CA000000306") + b"\x03"
            + card_name.to_bytes(2, "big") + bytes(4))


# --------------------------------------------------------------------------
# Cards (personalities)
# --------------------------------------------------------------------------

class Card:
    """Behaviour shared by every personality.

    Commands with class FF are PC/SC pseudo-APDUs that a real reader answers
    on behalf of the card (only GET DATA is implemented); everything else
    goes to :meth:`card_apdu`, i.e. to the card itself.

    Subclasses set ``historical`` (the ATR historical bytes),
    ``ats_historical`` (what GET DATA P1=01 returns, None if the card has no
    ATS) and the UID rules used to validate ``--uid``.
    """

    historical: bytes = b""
    ats_historical: bytes | None = None
    default_uid: bytes | None = None
    uid_lengths: tuple[int, ...] = (4, 7, 10)  # ISO 14443-3 UID sizes
    uid_prefix: bytes = b""
    # Applets installed on every card of the class / only when an option
    # asks for them (ISO 14443-4 cards only).
    applets: dict[bytes, type["Applet"]] = {}
    optional_applets: dict[bytes, type["Applet"]] = {}

    def __init__(self, uid: bytes | None = None,
                 config: "AppletConfig | None" = None):
        self.uid = self.default_uid if uid is None else uid
        self.config = config or AppletConfig()

    @classmethod
    def check_uid(cls, uid: bytes) -> None:
        """Raise ValueError if ``uid`` is not valid for this personality."""
        if len(uid) not in cls.uid_lengths:
            sizes = " or ".join(str(n) for n in cls.uid_lengths)
            raise ValueError(f"UID must be {sizes} bytes long")
        if not uid.startswith(cls.uid_prefix):
            raise ValueError(f"UID must start with {cls.uid_prefix.hex()}")

    def atr(self) -> bytes:
        """The ATR reported by the reader for this card."""
        return contactless_atr(self.historical)

    def power_up(self) -> None:
        """Called when the card enters the field, is powered on or reset."""

    def process(self, raw: bytes) -> bytes:
        """Answer one C-APDU with the R-APDU (data followed by SW1 SW2)."""
        try:
            apdu = Apdu.parse(raw)
        except ValueError:
            return SW_WRONG_LENGTH
        if apdu.cla == 0xFF:
            if apdu.ins == 0xCA:
                return self.get_data(apdu, raw)
            return SW_INS_NOT_SUPPORTED
        return self.card_apdu(apdu)

    def get_data(self, apdu: Apdu, raw: bytes) -> bytes:
        """PC/SC part 3 GET DATA: ``FF CA 00 00 Le`` (UID) or
        ``FF CA 01 00 Le`` (ATS historical bytes)."""
        if apdu.p1 not in (0x00, 0x01) or apdu.p2 != 0x00:
            return SW_WRONG_P1P2
        if len(raw) != 5:  # GET DATA is a short case 2 command
            return SW_WRONG_LENGTH
        value = self.uid if apdu.p1 == 0x00 else self.ats_historical
        if value is None:
            return SW_FUNC_NOT_SUPPORTED
        if apdu.le == 0 or apdu.le == len(value):
            return value + SW_OK
        if apdu.le < len(value):
            return b"\x6C" + bytes([len(value)])
        return value + SW_END_OF_DATA

    def card_apdu(self, apdu: Apdu) -> bytes:
        """Handle a command meant for the card itself (not the reader)."""
        return SW_CLA_NOT_SUPPORTED


class StorageCard(Card):
    """A memory card without ISO 14443-4: no ATS and no ISO 7816-4 command
    set, so every non-FF class is rejected."""

    card_name = 0x0000

    def __init__(self, uid: bytes | None = None,
                 config: "AppletConfig | None" = None):
        super().__init__(uid, config)
        self.historical = storage_card_historical(self.card_name)


class Ntag216(StorageCard):
    """NXP NTAG216 (the usual "NFC implant"): 7-byte NXP UID."""

    card_name = 0x0003
    default_uid = bytes.fromhex("04A224F23A5E80")
    uid_lengths = (7,)
    uid_prefix = b"\x04"


class Mifare1k(StorageCard):
    """MIFARE Classic 1K: 4-byte UID by default."""

    card_name = 0x0001
    default_uid = bytes.fromhex("A1B2C3D4")


@dataclass
class AppletConfig:
    """How the applets are set up (from the command line)."""

    applets_requested: bool = False    # install JavaCard.optional_applets
    no_extended: bool = False          # refuse extended-length APDUs
    # HMAC-SHA1 challenge-response applet
    hmac_aid: str = "both"             # "7", "8" or "both"
    hmac_slots: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)
    hmac_state: str | None = None
    hmac_serial: int = 12345678
    hmac_replay: str | None = None     # fault: record exchanges here
    hmac_replay_use: str | None = None  # fault: replay the last one
    hmac_replay_last: bytes = b""      # its last response, read at start
    # U2F applet
    u2f_version: str = "u2f"           # "u2f" or "fido2"
    u2f_kh_len: int | None = None      # None: 64, other lengths are not ours
    u2f_counter_step: str = "1"        # a positive integer or "odd-random"
    u2f_chunk: int | None = None
    u2f_state: str | None = None
    faults: frozenset[str] = frozenset()  # u2f-* and ctap2-* faults
    # CTAP2 (same applet, NFCCTAP_MSG)
    ctap2: bool = False                # --ctap2 (or --u2f-version fido2)
    ctap2_pin: str | None = None
    ctap2_state: str | None = None
    ctap2_always_uv: bool = False
    ctap2_max_msg: int = 1024
    ctap2_algs: tuple[str, ...] = ("es256",)
    ctap2_counter_step: str = "1"      # N >= 1, "zero" or "odd-random"
    ctap2_keepalive: int = 0
    ctap2_chunk: int | None = None
    ctap2_error: int | None = None     # fault ctap2-error=HEX
    log: Callable[[str], None] = lambda line: None  # the --log writer


def save_json(path: str, value: dict) -> None:
    """Write ``value`` to ``path`` atomically (temporary file + rename).

    A failure is reported on stderr but does not stop the card: a real
    applet that cannot persist something still answers."""
    try:
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".vimplant-", dir=directory)
        os.fchmod(fd, 0o644)  # like a plain open(); these are test keys
        with os.fdopen(fd, "w", encoding="ascii") as file:
            json.dump(value, file, indent=1, sort_keys=True)
            file.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        print(f"vimplant: cannot save state to {path}: {exc}", file=sys.stderr)


def load_json(path: str | None) -> dict | None:
    """Read a state file; None if there is none.  Raise ValueError if it
    cannot be read or parsed (reported as a bad argument at start-up)."""
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="ascii") as file:
            value = json.load(file)
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot load state file {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"state file {path} does not hold a JSON object")
    return value


_CRYPTO: SimpleNamespace | None = None


def crypto() -> SimpleNamespace:
    """python3-cryptography, imported on first use (it costs ~80 ms)."""
    global _CRYPTO
    if _CRYPTO is None:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        _CRYPTO = SimpleNamespace(x509=x509, hashes=hashes, ec=ec,
                                  serialization=serialization,
                                  NameOID=NameOID,
                                  InvalidSignature=InvalidSignature)
    return _CRYPTO


class Applet:
    """Interface of an on-card application, selected by AID.

    Register subclasses in a card class's ``applets`` dict (AID bytes ->
    Applet subclass; ``optional_applets`` for those installed only when an
    option asks for them).  One instance per card lives for the whole run,
    so its attributes behave like persistent applet state across taps; an
    applet registered under several AIDs is one instance reachable by each.
    """

    def __init__(self, config: AppletConfig | None = None):
        self.config = config or AppletConfig()

    @classmethod
    def installed_at(cls, aid: bytes, config: AppletConfig) -> bool:
        """Whether the applet is reachable by ``aid`` with this config."""
        return True

    def reset(self) -> None:
        """Forget transient state (power-up, reset, removal, SELECT)."""

    def power_up(self) -> None:
        """The card was powered up (tap, vpcd power on or reset); called
        before reset().  Unlike reset(), not called at SELECT."""

    def select(self, apdu: Apdu) -> bytes:
        """Answer the SELECT command that made this applet current."""
        return SW_OK

    def process(self, apdu: Apdu) -> bytes:
        """Answer a command sent while this applet is selected."""
        return SW_INS_NOT_SUPPORTED


class Iso14443Card(Card):
    """An ISO 14443-4 (T=CL) card that speaks ISO 7816-4 APDUs.

    The card accepts the interindustry classes 00-1F and the proprietary
    classes 80-9F (as used by Java Card / GlobalPlatform).  It implements
    SELECT by AID (``00 A4 04 xx Lc AID [Le]``) over ``applets`` and routes
    every other command to the selected applet.  SELECT of an unknown AID
    answers 6A 82 and leaves the current selection unchanged.  With
    ``--no-extended`` every extended-length APDU answers 67 00.
    """

    def __init__(self, uid: bytes | None = None,
                 config: AppletConfig | None = None):
        super().__init__(uid, config)
        self.ats_historical = self.historical
        table = dict(self.applets)
        if self.config.applets_requested:
            table.update(self.optional_applets)
        self.instances: dict[bytes, Applet] = {}
        shared: dict[type[Applet], Applet] = {}
        for aid, cls in table.items():
            if not cls.installed_at(aid, self.config):
                continue
            if cls not in shared:
                shared[cls] = cls(self.config)
            self.instances[aid] = shared[cls]
        self.selected: Applet | None = None

    def power_up(self) -> None:
        """A fresh activation starts with no applet selected."""
        self.selected = None
        for applet in set(self.instances.values()):
            applet.power_up()
            applet.reset()

    def card_apdu(self, apdu: Apdu) -> bytes:
        if apdu.cla & 0x60:
            return SW_CLA_NOT_SUPPORTED
        if apdu.extended and self.config.no_extended:
            return SW_WRONG_LENGTH
        if apdu.ins == 0xA4:
            return self.select(apdu)
        if self.selected is None:
            return SW_INS_NOT_SUPPORTED
        return self.selected.process(apdu)

    def select(self, apdu: Apdu) -> bytes:
        """SELECT by DF name (AID), exact match only."""
        if apdu.p1 != 0x04:
            return SW_WRONG_P1P2_SELECT
        applet = self.instances.get(apdu.data)
        if applet is None:
            return SW_FILE_NOT_FOUND
        if self.selected is not None:
            self.selected.reset()
        applet.reset()
        self.selected = applet
        return applet.select(apdu)


# --------------------------------------------------------------------------
# Applet: YubiKey-compatible HMAC-SHA1 challenge-response ("ykhmac")
# --------------------------------------------------------------------------

HMAC_AID = bytes.fromhex("A0000005272001")
HMAC_AID_INSTANCE = HMAC_AID + b"\x01"

YK_INS_API_REQ = 0x01
YK_INS_STATUS = 0x03
YK_SLOT_CONFIG = {0x01: 1, 0x03: 2}       # P1 of PROGRAM -> slot
YK_SLOT_CHAL_HMAC = {0x30: 1, 0x38: 2}    # P1 of CHALLENGE -> slot
YK_SLOT_SERIAL = 0x10
YK_CONFIG_SIZE = 52
YK_ACC_CODE_SIZE = 6
YK_CHALLENGE_SIZE = 64
YK_TKTFLAG_CHAL_RESP = 0x40
YK_CFGFLAG_CHAL_HMAC = 0x22
YK_CFGFLAG_HMAC_LT64 = 0x04
YK_CRC_OK_RESIDUAL = 0xF0B8


def yubikey_crc16(data: bytes) -> int:
    """CRC-16 as used by YubiKey configurations: polynomial 0x8408
    (reflected CCITT), initial value 0xFFFF, no final XOR.  A block that
    ends with its own ~CRC (little-endian) leaves the residual 0xF0B8."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def last_replay_record(path: str) -> bytes:
    """The response of the last line of an ``hmac-replay`` recording;
    raise ValueError if there is none."""
    try:
        with open(path, encoding="ascii") as file:
            lines = [line for line in file if line.strip()]
        if not lines:
            raise ValueError(f"{path} holds no recorded exchange")
        response = bytes.fromhex(json.loads(lines[-1])["response"])
    except (OSError, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"hmac-replay-use: {exc}") from exc
    return response


@dataclass
class HmacSlot:
    """One programmed configuration slot."""

    key: bytes                  # 20-byte HMAC-SHA1 key
    access_code: bytes = bytes(YK_ACC_CODE_SIZE)


class YkHmacApplet(Applet):
    """The challenge-response part of the YubiKey OTP applet.

    Commands (CLA 00; any other class answers 6E 00):

    * ``00 03 xx xx`` STATUS -> version(3) pgmSeq touchLevel(2, LE) 90 00
      (the same 6 bytes answer SELECT);
    * ``00 01 10 00`` SERIAL -> 4-byte big-endian serial 90 00;
    * ``00 01 30|38 00 40 <64>`` HMAC-SHA1 challenge for slot 1|2, padding
      stripped per HMAC_LT64 (the trailing run of bytes equal to the last
      byte);
    * ``00 01 01|03 00 3A <config 52> <access code 6>`` PROGRAM slot 1|2.

    Status words: 67 00 wrong Lc; 69 84 challenge made of padding only;
    6A 80 configuration CRC wrong; 69 82 access code mismatch; 6A 81
    configuration is not HMAC-SHA1 challenge-response; 6A 86 other P1;
    6D 00 other INS.  An unprogrammed slot answers a challenge with 90 00
    and no data.
    """

    version = bytes([3, 4, 0])

    def __init__(self, config: AppletConfig | None = None):
        super().__init__(config)
        self.pgm_seq = 0
        self.slots: dict[int, HmacSlot | None] = {1: None, 2: None}
        self.replay_last = self.config.hmac_replay_last
        state = load_json(self.config.hmac_state)
        if state is None:
            for slot, (key, access) in sorted(self.config.hmac_slots.items()):
                self.slots[slot] = HmacSlot(key, access)
                self.pgm_seq += 1
        else:
            self._load(state)
            if self.config.hmac_slots:
                print("vimplant: --hmac-slot ignored: the state file "
                      f"{self.config.hmac_state} exists", file=sys.stderr)

    def _load(self, state: dict) -> None:
        try:
            self.pgm_seq = int(state.get("pgm_seq", 0)) & 0xFF
            for name, slot in (state.get("slots") or {}).items():
                if int(name) not in self.slots:
                    raise ValueError(f"no slot {name}")
                if slot is None:
                    continue
                key = bytes.fromhex(slot["key"])
                access = bytes.fromhex(slot.get("access_code", "00" * 6))
                if len(key) != 20 or len(access) != YK_ACC_CODE_SIZE:
                    raise ValueError("bad key or access code size")
                self.slots[int(name)] = HmacSlot(key, access)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad HMAC state file "
                             f"{self.config.hmac_state}: {exc}") from exc

    def _save(self) -> None:
        if not self.config.hmac_state:
            return
        slots = {str(n): (None if s is None else
                          {"key": s.key.hex(),
                           "access_code": s.access_code.hex()})
                 for n, s in self.slots.items()}
        save_json(self.config.hmac_state,
                  {"format": "vimplant-hmac-1", "pgm_seq": self.pgm_seq,
                   "slots": slots})

    @classmethod
    def installed_at(cls, aid: bytes, config: AppletConfig) -> bool:
        if config.hmac_aid == "7":
            return aid == HMAC_AID
        if config.hmac_aid == "8":
            return aid == HMAC_AID_INSTANCE
        return True

    def status(self) -> bytes:
        """version(3) ‖ pgmSeq ‖ touchLevel (LE; bit n-1 = slot n set)."""
        touch = sum(1 << (n - 1) for n, s in self.slots.items() if s)
        return self.version + bytes([self.pgm_seq]) + touch.to_bytes(2,
                                                                    "little")

    def select(self, apdu: Apdu) -> bytes:
        return self.status() + SW_OK

    def process(self, apdu: Apdu) -> bytes:
        if apdu.cla != 0x00:
            return SW_CLA_NOT_SUPPORTED
        if apdu.ins == YK_INS_STATUS:
            return self.status() + SW_OK
        if apdu.ins != YK_INS_API_REQ:
            return SW_INS_NOT_SUPPORTED
        if apdu.p1 == YK_SLOT_SERIAL:
            return self.config.hmac_serial.to_bytes(4, "big") + SW_OK
        if apdu.p1 in YK_SLOT_CHAL_HMAC:
            return self.challenge(YK_SLOT_CHAL_HMAC[apdu.p1], apdu.data)
        if apdu.p1 in YK_SLOT_CONFIG:
            return self.program(YK_SLOT_CONFIG[apdu.p1], apdu.data)
        return SW_INCORRECT_P1P2

    def challenge(self, slot_no: int, challenge: bytes) -> bytes:
        """HMAC-SHA1 challenge-response (HMAC_LT64 padding)."""
        if len(challenge) != YK_CHALLENGE_SIZE:
            return SW_WRONG_LENGTH
        if self.config.hmac_replay_use:
            return self._replayed() + SW_OK
        slot = self.slots[slot_no]
        if slot is None:
            return SW_OK
        message = challenge.rstrip(challenge[-1:])
        if not message:
            return SW_INVALID_DATA
        response = hmac.new(slot.key, message, hashlib.sha1).digest()
        if self.config.hmac_replay:
            self._record(slot_no, challenge, response)
        return response + SW_OK

    def _replayed(self) -> bytes:
        try:
            self.replay_last = last_replay_record(self.config.hmac_replay_use)
        except ValueError as exc:
            print(f"vimplant: {exc}; replaying the previous record",
                  file=sys.stderr)
        return self.replay_last

    def _record(self, slot_no: int, challenge: bytes, response: bytes
                ) -> None:
        line = json.dumps({"slot": slot_no, "challenge": challenge.hex(),
                           "response": response.hex()})
        try:
            with open(self.config.hmac_replay, "a", encoding="ascii") as file:
                file.write(line + "\n")
        except OSError as exc:
            print(f"vimplant: hmac-replay: {exc}", file=sys.stderr)

    def program(self, slot_no: int, data: bytes) -> bytes:
        """Write a slot configuration (only HMAC challenge-response)."""
        if len(data) != YK_CONFIG_SIZE + YK_ACC_CODE_SIZE:
            return SW_WRONG_LENGTH
        config, current_access = data[:YK_CONFIG_SIZE], data[YK_CONFIG_SIZE:]
        if yubikey_crc16(config) != YK_CRC_OK_RESIDUAL:
            return SW_WRONG_DATA
        slot = self.slots[slot_no]
        if slot is not None and any(slot.access_code) \
                and current_access != slot.access_code:
            return SW_SECURITY_STATUS
        uid, key, access = config[16:22], config[22:38], config[38:44]
        tkt_flags, cfg_flags = config[46], config[47]
        wanted = YK_CFGFLAG_CHAL_HMAC | YK_CFGFLAG_HMAC_LT64
        if tkt_flags != YK_TKTFLAG_CHAL_RESP or cfg_flags & wanted != wanted:
            return SW_FUNC_NOT_SUPPORTED
        self.slots[slot_no] = HmacSlot(key + uid[:4], access)
        self.pgm_seq = (self.pgm_seq + 1) & 0xFF
        self._save()
        return self.status() + SW_OK


# --------------------------------------------------------------------------
# Applet: FIDO U2F (CTAP1) over ISO 7816-4
# --------------------------------------------------------------------------

U2F_AID = bytes.fromhex("A0000006472F0001")
U2F_INS_REGISTER = 0x01
U2F_INS_AUTHENTICATE = 0x02
U2F_INS_VERSION = 0x03
ISO_INS_GET_RESPONSE = 0xC0
U2F_AUTH_CHECK_ONLY = 0x07
U2F_AUTH_ENFORCE = 0x03
U2F_AUTH_DONT_ENFORCE = 0x08
U2F_DEFAULT_KH_LEN = 64
U2F_KH_MAC_LEN = 32            # key handle = nonce ‖ HMAC-SHA256 tag
U2F_MIN_KH_LEN = U2F_KH_MAC_LEN + 16
U2F_VERSIONS = {"u2f": b"U2F_V2", "fido2": b"FIDO_2_0"}
# CTAP 2.1 §11.3 (NFC): NFCCTAP_MSG and NFCCTAP_GETRESPONSE, class 80
CTAP_CLA = 0x80
CTAP_INS_MSG = 0x10
CTAP_INS_GET_RESPONSE = 0x11
CTAP_P1_GETRESPONSE_OK = 0x80     # the host can poll with NFCCTAP_GETRESPONSE
CTAP_STATUS_PROCESSING = 0x01
SW_STATUS_UPDATE = b"\x91\x00"


def flip_last_bit(signature: bytes) -> bytes:
    """Corrupt a DER ECDSA signature but keep it well-formed DER: flip the
    lowest bit of the last byte (the last byte of the integer s)."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


class U2fApplet(Applet):
    """FIDO U2F raw messages (REGISTER, AUTHENTICATE, VERSION) over
    ISO 7816-4 short and extended APDUs, with ISO command chaining (CLA 10)
    and response chaining (61 xx + GET RESPONSE).

    Key handle (length L, default 64): ``nonce (L-32 random bytes) ‖
    HMAC-SHA256(master, "vimplant-u2f-kh" ‖ application ‖ nonce)``; the
    user private key is derived as ``HMAC-SHA256(master, "vimplant-u2f-key"
    ‖ application ‖ nonce)`` reduced into [1, n-1].  A handle presented
    with another application parameter fails the tag check.
    """

    def __init__(self, config: AppletConfig | None = None):
        super().__init__(config)
        c = crypto()
        self.pending: bytes | None = None     # response data not yet sent
        self.pending_sw = SW_OK
        self.chain: bytearray | None = None   # command chaining buffer
        self.chain_ins = 0
        self.keepalive_left = 0               # 91 00 still to send
        self.keepalive_reply: tuple[bytes, bytes] | None = None
        self.pending_chunk: int | None = None
        self.ctap2 = self._make_ctap2() if self.ctap2_enabled else None
        state = load_json(self.config.u2f_state)
        if state is None:
            self.master = os.urandom(32)
            self.att_key = c.ec.generate_private_key(c.ec.SECP256R1())
            self.att_cert = self._make_certificate(self.att_key)
            self.counter = 0
        else:
            self._load(state)

    # --- state -----------------------------------------------------------

    @staticmethod
    def _make_certificate(key):
        """A self-signed P-256 attestation certificate."""
        c = crypto()
        name = c.x509.Name([
            c.x509.NameAttribute(c.NameOID.COMMON_NAME,
                                 "vimplant U2F attestation"),
            c.x509.NameAttribute(c.NameOID.ORGANIZATION_NAME,
                                 "pam_vivo test-suite")])
        now = time.time()
        return (c.x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(c.x509.random_serial_number())
                .not_valid_before(_utc(now - 86400))
                .not_valid_after(_utc(now + 20 * 365 * 86400))
                .sign(key, c.hashes.SHA256()))

    def _load(self, state: dict) -> None:
        c = crypto()
        try:
            self.master = bytes.fromhex(state["master_secret"])
            self.att_key = c.serialization.load_pem_private_key(
                state["attestation_key"].encode("ascii"), password=None)
            self.att_cert = c.x509.load_pem_x509_certificate(
                state["attestation_cert"].encode("ascii"))
            self.counter = int(state.get("counter", 0)) & 0xFFFFFFFF
            if len(self.master) != 32:
                raise ValueError("master_secret must be 32 bytes")
            if not isinstance(self.att_key, c.ec.EllipticCurvePrivateKey):
                raise ValueError("attestation key is not an EC key")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad U2F state file {self.config.u2f_state}: "
                             f"{exc}") from exc

    def _save(self) -> None:
        if not self.config.u2f_state:
            return
        c = crypto()
        key_pem = self.att_key.private_bytes(
            c.serialization.Encoding.PEM, c.serialization.PrivateFormat.PKCS8,
            c.serialization.NoEncryption()).decode("ascii")
        cert_pem = self.att_cert.public_bytes(
            c.serialization.Encoding.PEM).decode("ascii")
        save_json(self.config.u2f_state,
                  {"format": "vimplant-u2f-1", "master_secret": self.master.hex(),
                   "attestation_key": key_pem, "attestation_cert": cert_pem,
                   "counter": self.counter})

    # --- key handles -------------------------------------------------------

    @property
    def kh_len(self) -> int:
        return self.config.u2f_kh_len or U2F_DEFAULT_KH_LEN

    def _tag(self, application: bytes, nonce: bytes) -> bytes:
        return hmac.new(self.master, b"vimplant-u2f-kh" + application + nonce,
                        hashlib.sha256).digest()

    def _private_key(self, application: bytes, nonce: bytes):
        c = crypto()
        seed = hmac.new(self.master, b"vimplant-u2f-key" + application + nonce,
                        hashlib.sha256).digest()
        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        scalar = int.from_bytes(seed, "big") % (order - 1) + 1
        return c.ec.derive_private_key(scalar, c.ec.SECP256R1())

    def new_key(self, application: bytes):
        """A fresh user key pair for ``application``: (key handle, key)."""
        nonce = os.urandom(self.kh_len - U2F_KH_MAC_LEN)
        handle = nonce + self._tag(application, nonce)
        return handle, self._private_key(application, nonce)

    def recover_key(self, application: bytes, handle: bytes):
        """The user key if ``handle`` is ours for ``application``, or None."""
        if len(handle) != self.kh_len:
            return None
        nonce, tag = handle[:-U2F_KH_MAC_LEN], handle[-U2F_KH_MAC_LEN:]
        if not hmac.compare_digest(tag, self._tag(application, nonce)):
            return None
        return self._private_key(application, nonce)

    # --- CTAP2 ------------------------------------------------------------

    @property
    def ctap2_enabled(self) -> bool:
        return self.config.ctap2 or self.config.u2f_version == "fido2"

    @property
    def u2f_enabled(self) -> bool:
        """U2F (CTAP1) commands work: not with FIDO_2_0, not under
        alwaysUv."""
        return (self.config.u2f_version == "u2f"
                and not self.config.ctap2_always_uv)

    def _make_ctap2(self):
        """The CTAP2 authenticator (vimplant_ctap2.py, next to this file)."""
        import vimplant_ctap2 as ctap2      # pylint: disable=import-outside-toplevel
        cfg = self.config
        settings = ctap2.Ctap2Config(
            u2f_enabled=cfg.u2f_version == "u2f", pin=cfg.ctap2_pin,
            always_uv=cfg.ctap2_always_uv, max_msg=cfg.ctap2_max_msg,
            algorithms=tuple(ctap2.ALGORITHMS[a] for a in cfg.ctap2_algs),
            counter_step=cfg.ctap2_counter_step,
            error_status=cfg.ctap2_error, faults=cfg.faults)
        state = load_json(cfg.ctap2_state)
        if state is not None and cfg.ctap2_pin is not None:
            print("vimplant: --ctap2-pin ignored: the state file "
                  f"{cfg.ctap2_state} exists", file=sys.stderr)

        def save(value: dict) -> None:
            if cfg.ctap2_state:
                save_json(cfg.ctap2_state, value)

        try:
            authenticator = ctap2.Ctap2Authenticator(
                settings, state, save, lambda line: self.config.log(line))
        except ValueError as exc:
            raise ValueError(f"{cfg.ctap2_state}: {exc}") from exc
        if state is None:
            authenticator.save()
        return authenticator

    def ctap2_message(self, apdu: Apdu) -> bytes:
        """NFCCTAP_MSG: answer the whole reply, or start the keep-alive
        sequence (91 00 with STATUS_PROCESSING) when P1 allows polling."""
        if self.ctap2 is None:
            return SW_INS_NOT_SUPPORTED
        data = self.ctap2.handle(apdu.data)
        if self.config.ctap2_keepalive and apdu.p1 & CTAP_P1_GETRESPONSE_OK:
            self.keepalive_left = self.config.ctap2_keepalive - 1
            self.keepalive_reply = (data, SW_OK)
            return bytes([CTAP_STATUS_PROCESSING]) + SW_STATUS_UPDATE
        return self._answer(data, SW_OK, apdu, self._ctap2_chunk())

    def ctap2_get_response(self, apdu: Apdu) -> bytes:
        """NFCCTAP_GETRESPONSE: the next 91 00, then the real reply."""
        if self.keepalive_reply is None:
            return SW_CONDITIONS
        if self.keepalive_left > 0:
            self.keepalive_left -= 1
            return bytes([CTAP_STATUS_PROCESSING]) + SW_STATUS_UPDATE
        data, sw = self.keepalive_reply
        self.keepalive_reply = None
        return self._answer(data, sw, apdu, self._ctap2_chunk())

    def _ctap2_chunk(self) -> int | None:
        return self.config.ctap2_chunk or self.config.u2f_chunk

    # --- APDU plumbing --------------------------------------------------

    def power_up(self) -> None:
        if self.ctap2 is not None:
            self.ctap2.power_up()

    def reset(self) -> None:
        self.pending = None
        self.chain = None
        self.keepalive_reply = None

    def select(self, apdu: Apdu) -> bytes:
        version = "u2f" if self.u2f_enabled else "fido2"
        return U2F_VERSIONS[version] + SW_OK

    def process(self, apdu: Apdu) -> bytes:
        if apdu.cla not in (0x00, 0x10, CTAP_CLA, CTAP_CLA | 0x10):
            return SW_CLA_NOT_SUPPORTED
        if apdu.cla & CTAP_CLA and apdu.ins not in (CTAP_INS_MSG,
                                                    CTAP_INS_GET_RESPONSE):
            return SW_CLA_NOT_SUPPORTED
        if apdu.ins == ISO_INS_GET_RESPONSE and apdu.cla == 0x00:
            return self.get_response(apdu)
        if apdu.ins == CTAP_INS_GET_RESPONSE and apdu.cla == CTAP_CLA:
            self.pending = None
            if self.ctap2 is None:
                return SW_INS_NOT_SUPPORTED
            return self.ctap2_get_response(apdu)
        self.pending = None
        self.keepalive_reply = None
        if apdu.cla & 0x10:                   # a non-final chained piece
            if self.chain is None or self.chain_ins != apdu.ins:
                self.chain = bytearray()
                self.chain_ins = apdu.ins
            self.chain += apdu.data
            return SW_OK
        if self.chain is not None:
            if self.chain_ins == apdu.ins:
                apdu = dataclasses.replace(
                    apdu, data=bytes(self.chain) + apdu.data)
            self.chain = None
        if apdu.cla == CTAP_CLA and apdu.ins == CTAP_INS_MSG:
            return self.ctap2_message(apdu)
        data, sw = self.command(apdu)
        return self._answer(data, sw, apdu, self.config.u2f_chunk)

    def _answer(self, data: bytes, sw: bytes, apdu: Apdu,
                chunk: int | None) -> bytes:
        """The whole reply to an extended APDU, else the first piece."""
        if not data or apdu.extended:
            return data + sw
        return self._piece(data, sw, apdu.le, chunk)

    def _piece(self, data: bytes, sw: bytes, le: int | None,
               chunk: int | None = None) -> bytes:
        """Send what fits (Le, 256, --u2f-chunk / --ctap2-chunk); keep the
        rest for GET RESPONSE and announce it with 61 xx (00 means 256 or
        more)."""
        size = 256 if not le else le
        if chunk:
            size = min(size, chunk)
        self.pending_chunk = chunk
        if len(data) <= size:
            self.pending = None
            return data + sw
        self.pending, self.pending_sw = data[size:], sw
        return data[:size] + bytes([0x61, min(len(self.pending), 256) & 0xFF])

    def get_response(self, apdu: Apdu) -> bytes:
        """ISO 7816-4 GET RESPONSE: the next piece of a long reply."""
        if self.pending is None:
            return SW_CONDITIONS
        if apdu.p1 or apdu.p2:
            return SW_INCORRECT_P1P2
        data, self.pending = self.pending, None
        if apdu.extended:
            return data + self.pending_sw
        return self._piece(data, self.pending_sw, apdu.le,
                           self.pending_chunk)

    # --- U2F commands -----------------------------------------------------

    def command(self, apdu: Apdu) -> tuple[bytes, bytes]:
        """Run a complete (reassembled) command: (data, status word)."""
        if not self.u2f_enabled:      # FIDO_2_0 or alwaysUv: no CTAP1
            return b"", SW_INS_NOT_SUPPORTED
        if apdu.ins == U2F_INS_REGISTER:
            return self.register(apdu)
        if apdu.ins == U2F_INS_AUTHENTICATE:
            return self.authenticate(apdu)
        if apdu.ins == U2F_INS_VERSION:
            return U2F_VERSIONS["u2f"], SW_OK
        return b"", SW_INS_NOT_SUPPORTED

    def _sign(self, key, message: bytes) -> bytes:
        c = crypto()
        return key.sign(message, c.ec.ECDSA(c.hashes.SHA256()))

    def register(self, apdu: Apdu) -> tuple[bytes, bytes]:
        """U2F_REGISTER: ``challenge(32) ‖ application(32)``."""
        c = crypto()
        if len(apdu.data) != 64:
            return b"", SW_WRONG_LENGTH
        challenge, application = apdu.data[:32], apdu.data[32:]
        handle, key = self.new_key(application)
        public = key.public_key().public_bytes(
            c.serialization.Encoding.X962,
            c.serialization.PublicFormat.UncompressedPoint)
        signature = self._sign(self.att_key, b"\x00" + application + challenge
                               + handle + public)
        if "u2f-bad-reg-sig" in self.config.faults:
            signature = flip_last_bit(signature)
        certificate = self.att_cert.public_bytes(c.serialization.Encoding.DER)
        self._save()
        return (b"\x05" + public + bytes([len(handle)]) + handle
                + certificate + signature), SW_OK

    def authenticate(self, apdu: Apdu) -> tuple[bytes, bytes]:
        """U2F_AUTHENTICATE: ``challenge(32) ‖ application(32) ‖ L ‖ KH``."""
        faults = self.config.faults
        data = apdu.data
        if "u2f-wrong-kh-len" in faults:
            return b"", SW_WRONG_LENGTH
        if len(data) < 65 or len(data) != 65 + data[64]:
            return b"", SW_WRONG_LENGTH
        if apdu.p1 not in (U2F_AUTH_CHECK_ONLY, U2F_AUTH_ENFORCE,
                           U2F_AUTH_DONT_ENFORCE):
            return b"", SW_INCORRECT_P1P2
        challenge, application, handle = data[:32], data[32:64], data[65:]
        if self.config.u2f_kh_len and len(handle) != self.config.u2f_kh_len:
            return b"", SW_WRONG_LENGTH
        key = self.recover_key(application, handle)
        if key is None:
            return b"", SW_WRONG_DATA
        if apdu.p1 == U2F_AUTH_CHECK_ONLY:
            return b"", SW_CONDITIONS
        presence = b"\x00" if "u2f-up-clear" in faults else b"\x01"
        if "u2f-counter-stuck" not in faults:
            self.counter = (self.counter + self._step()) & 0xFFFFFFFF
        counter = self.counter.to_bytes(4, "big")
        signature = self._sign(key, application + presence + counter
                               + challenge)
        if "u2f-bad-sig" in faults:
            signature = flip_last_bit(signature)
        self._save()
        return presence + counter + signature, SW_OK

    def _step(self) -> int:
        if self.config.u2f_counter_step == "odd-random":
            return random.choice(range(1, 16, 2))
        return int(self.config.u2f_counter_step)


def _utc(timestamp: float) -> datetime:
    """A timezone-aware datetime (what x509 validity wants)."""
    return datetime.fromtimestamp(int(timestamp), timezone.utc)


STANDARD_APPLETS: dict[bytes, type[Applet]] = {
    HMAC_AID: YkHmacApplet,
    HMAC_AID_INSTANCE: YkHmacApplet,
    U2F_AID: U2fApplet,
}


class JavaCard(Iso14443Card):
    """A JCOP-like Java Card implant.

    No applets by default; the HMAC and U2F applets are installed when an
    ``--hmac-*``/``--u2f-*`` option (or applet fault) is given.
    """

    historical = b"JCOP31V232"
    default_uid = bytes.fromhex("045A1C629E3180")
    applets: dict[bytes, type[Applet]] = {}
    optional_applets = STANDARD_APPLETS


class ApexCard(JavaCard):
    """A VivoKey-Apex-like implant (JCOP4, 7-byte UID) with the HMAC and
    U2F applets installed."""

    historical = b"JCOP4 P71"
    default_uid = bytes.fromhex("04A9E35B216C80")
    uid_lengths = (7,)
    applets = STANDARD_APPLETS


class YubiKeyCard(JavaCard):
    """A YubiKey-5-NFC-like token with the HMAC and U2F applets."""

    historical = bytes.fromhex("8073C021C057597562694B6579")  # ...YubiKey
    default_uid = bytes.fromhex("0437A1B2C3D480")
    applets = STANDARD_APPLETS


class RandomUidCard(Iso14443Card):
    """An ISO 14443-4 card with a random 4-byte UID (first byte 08) that is
    drawn afresh at every activation (tap, power on, reset)."""

    historical = bytes(8)
    uid_lengths = ()

    def power_up(self) -> None:
        super().power_up()
        self.uid = b"\x08" + os.urandom(3)


class NoUidCard(Iso14443Card):
    """An ISO 14443-4 card for which the reader cannot report a UID: every
    GET DATA (P1 00 or 01) answers 6A 81."""

    historical = bytes(8)
    uid_lengths = ()

    def __init__(self, uid: bytes | None = None,
                 config: "AppletConfig | None" = None):
        super().__init__(uid, config)
        self.ats_historical = None


PERSONALITIES: dict[str, type[Card]] = {
    "ntag216": Ntag216,
    "mifare1k": Mifare1k,
    "random-uid": RandomUidCard,
    "javacard": JavaCard,
    "no-uid": NoUidCard,
    "apex": ApexCard,
    "yubikey": YubiKeyCard,
}


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------

# Faults that decide what is sent back for a C-APDU; at most one may be used.
REPLY_FAULTS = ("garbage", "short", "wrong-sw", "oversized", "silent",
                "endless-61")
# Faults of the applets' behaviour; they combine with everything else.
U2F_FAULTS = ("u2f-up-clear", "u2f-counter-stuck", "u2f-bad-sig",
              "u2f-bad-reg-sig", "u2f-wrong-kh-len")
HMAC_FAULTS = ("hmac-replay", "hmac-replay-use")
CTAP2_FAULTS = ("ctap2-malformed-cbor", "ctap2-wrong-rpid-hash",
                "ctap2-no-uv", "ctap2-counter-stuck", "ctap2-bad-signature",
                "ctap2-error", "ctap2-short-only")
APPLET_FAULTS = U2F_FAULTS + HMAC_FAULTS + CTAP2_FAULTS
FAULTS_WITH_ARG = ("wrong-sw", "slow", "hmac-replay", "hmac-replay-use",
                   "ctap2-error")

# The spec'd "oversized" reply is 70000 bytes, but the vpcd length prefix
# tops out at 65535: send the largest frame possible, ending in 90 00.
OVERSIZED_REPLY = bytes(MAX_FRAME - 2) + SW_OK


@dataclass
class Faults:
    """The misbehaviour applied to R-APDUs (never to control replies)."""

    reply: str | None = None       # one of REPLY_FAULTS
    wrong_sw: bytes = b""          # argument of wrong-sw
    slow: float = 0.0              # delay before each R-APDU
    # applet faults (applied by the applets, see AppletConfig)
    u2f: frozenset[str] = frozenset()
    hmac_replay: str | None = None
    hmac_replay_use: str | None = None
    ctap2_error: int | None = None   # argument of ctap2-error

    def shape(self, genuine: bytes) -> bytes | None:
        """Turn the genuine R-APDU into what is sent; None: send nothing."""
        if self.reply is None:
            return genuine
        if self.reply == "silent":
            return None
        if self.reply == "garbage":
            # never empty: an empty reply is how vpcd reports removal
            return os.urandom(random.randint(1, 10))
        if self.reply == "short":
            return genuine[:1]
        if self.reply == "wrong-sw":
            return self.wrong_sw
        if self.reply == "oversized":
            return OVERSIZED_REPLY
        return b"\x61\xFF"  # endless-61


def parse_fault(text: str) -> tuple[str, str | None]:
    """argparse type for ``--fault NAME[=ARG]``."""
    name, sep, arg = text.partition("=")
    if name not in REPLY_FAULTS + APPLET_FAULTS + ("slow",):
        raise argparse.ArgumentTypeError(f"unknown fault {name!r}")
    if (name in FAULTS_WITH_ARG) != bool(sep):
        need = "needs" if name in FAULTS_WITH_ARG else "takes no"
        raise argparse.ArgumentTypeError(f"fault {name} {need} =ARG")
    return name, (arg if sep else None)


def build_faults(specs: list[tuple[str, str | None]]) -> Faults:
    """Combine the ``--fault`` options; raise ValueError on conflicts."""
    faults = Faults()
    for name, arg in specs:
        if name == "slow":
            faults.slow = float(arg)
            if faults.slow < 0:
                raise ValueError("slow=S needs S >= 0")
            continue
        if name in U2F_FAULTS or name in CTAP2_FAULTS:
            faults.u2f |= {name}
            if name == "ctap2-error":
                try:
                    status = bytes.fromhex(arg)
                except ValueError:
                    status = b""
                if len(status) != 1:
                    raise ValueError("ctap2-error=HEX needs 2 hex digits")
                faults.ctap2_error = status[0]
            continue
        if name in HMAC_FAULTS:
            if not arg:
                raise ValueError(f"fault {name} needs a FILE")
            if faults.hmac_replay or faults.hmac_replay_use:
                raise ValueError("hmac-replay and hmac-replay-use can each "
                                 "be given once and not together")
            if name == "hmac-replay":
                faults.hmac_replay = arg
            else:
                faults.hmac_replay_use = arg
            continue
        if faults.reply is not None:
            raise ValueError(f"faults {faults.reply} and {name} "
                             "cannot be combined")
        faults.reply = name
        if name == "wrong-sw":
            faults.wrong_sw = bytes.fromhex(arg)
            if len(faults.wrong_sw) != 2:
                raise ValueError("wrong-sw=XXXX needs 4 hex digits")
    return faults


# --------------------------------------------------------------------------
# Plumbing: event log, signals, vpcd link
# --------------------------------------------------------------------------

class EventLog:
    """Appends one flushed line per event to ``--log`` (or does nothing)."""

    def __init__(self, path: str | None):
        self.file = open(path, "a", encoding="ascii") if path else None

    def write(self, line: str) -> None:
        """Log one event."""
        if self.file:
            self.file.write(line + "\n")
            self.file.flush()


class Stop(Exception):
    """SIGTERM or SIGINT arrived: close cleanly and exit 0."""


class Waker:
    """Turns SIGTERM/SIGINT into a readable socket so that every wait in
    the program (select on vpcd, sleeps) is interrupted deterministically."""

    def __init__(self):
        self.reader, writer = socket.socketpair()
        self.reader.setblocking(False)
        writer.setblocking(False)
        self._writer = writer  # keep the wakeup fd open
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)

    def wait(self, seconds: float | None, sock: socket.socket | None = None
             ) -> bool:
        """Wait up to ``seconds`` (None: forever) for ``sock`` to become
        readable.  Return True if it did; raise Stop on a signal."""
        ready, _, _ = select.select(
            [self.reader] + ([sock] if sock else []), [], [], seconds)
        if self.reader in ready:
            raise Stop
        return bool(ready)

    def sleep(self, seconds: float) -> None:
        """Sleep, but raise Stop as soon as a signal arrives."""
        if seconds > 0:
            self.wait(seconds)


class VpcdLink:
    """A TCP connection to vpcd carrying length-prefixed messages."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._quickack()

    def _quickack(self) -> None:
        # Linux drops out of quick-ACK mode on its own; without re-arming it
        # after every read, delayed ACKs stall each exchange by ~40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def receive(self) -> list[bytes] | None:
        """Read what is available; return the complete messages, or None
        once vpcd has closed the connection."""
        try:
            chunk = self.sock.recv(65536)
        except ConnectionError:
            return None
        if not chunk:
            return None
        self._quickack()
        self.buffer += chunk
        messages = []
        while len(self.buffer) >= 2:
            size = int.from_bytes(self.buffer[:2], "big")
            if len(self.buffer) < 2 + size:
                break
            messages.append(bytes(self.buffer[2:2 + size]))
            del self.buffer[:2 + size]
        return messages

    def send(self, payload: bytes) -> None:
        """Send one message (raises ConnectionError if vpcd went away)."""
        self.sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def close(self) -> None:
        """Close the connection: the card leaves the reader."""
        self.sock.close()


# --------------------------------------------------------------------------
# The implant
# --------------------------------------------------------------------------

class Implant:
    """Drives one card through ``--taps`` presentations to vpcd."""

    def __init__(self, args: argparse.Namespace, card: Card, faults: Faults,
                 log: EventLog | None = None):
        self.args = args
        self.card = card
        self.faults = faults
        self.log = log or EventLog(args.log)
        self.waker = Waker()

    def run(self) -> int:
        """Perform all taps; return the exit status."""
        try:
            for tap in range(self.args.taps):
                self.waker.sleep(self.args.delay if tap == 0 else self.args.gap)
                link = self.connect()
                if link is None:
                    return EXIT_CONNECT_FAILED
                try:
                    self.serve(link)
                finally:
                    link.close()
                    self.log.write("close")
        except Stop:
            pass
        return EXIT_OK

    def connect(self) -> VpcdLink | None:
        """Tap: connect to vpcd, retrying refused connections for up to
        ``--connect-timeout`` seconds.  Return None (after saying why on
        stderr) on failure."""
        deadline = time.monotonic() + self.args.connect_timeout
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.connect((self.args.host, self.args.port))
            except ConnectionRefusedError:
                sock.close()
                if time.monotonic() >= deadline:
                    return self._fail("connection refused")
                self.waker.sleep(0.05)
                continue
            except OSError as exc:
                sock.close()
                return self._fail(exc.strerror or str(exc))
            return self._connected(sock)

    def _fail(self, error: str) -> None:
        """Report a failed tap."""
        print(f"vimplant: cannot connect to vpcd at {self.args.host}:"
              f"{self.args.port}: {error}", file=sys.stderr)
        return None

    def _connected(self, sock: socket.socket) -> VpcdLink:
        """The card is on the reader: log, signal readiness, power up."""
        link = VpcdLink(sock)
        self.log.write("connect")
        if self.args.ready_file:
            with open(self.args.ready_file, "w", encoding="ascii"):
                pass
        self.card.power_up()
        return link

    def serve(self, link: VpcdLink) -> None:
        """Answer vpcd until removal: ``--hold`` expiry, ``--remove-after``
        or vpcd closing the connection."""
        hold = self.args.hold
        deadline = None if hold is None else time.monotonic() + hold
        apdus = 0
        while True:
            timeout = None
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return
            if not self.waker.wait(timeout, link.sock):
                continue
            messages = link.receive()
            if messages is None:
                return
            for message in messages:
                if len(message) == 1:
                    reply = self.control(message[0])
                else:
                    apdus += 1
                    self.log.write(f"> {message.hex().upper()}")
                    if apdus == self.args.remove_after:
                        return
                    reply = self.faults.shape(self.card.process(message))
                    if reply is not None:
                        self.waker.sleep(self.faults.slow)
                        self.log.write(f"< {reply.hex().upper()}")
                if reply is not None:
                    try:
                        link.send(reply)
                    except ConnectionError:
                        return

    def control(self, code: int) -> bytes | None:
        """Handle a vpcd control message; return the reply, if any."""
        self.log.write(f"ctrl {code:02X}")
        if code in (CTRL_POWER_ON, CTRL_RESET):
            self.card.power_up()
        elif code == CTRL_GET_ATR:
            return self.card.atr()
        return None


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def non_negative(text: str) -> float:
    """argparse type: a number of seconds >= 0."""
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def hmac_slot_key(text: str) -> tuple[bytes, bytes]:
    """argparse type for ``--hmac-slotN KEY[:ACCESSCODE]`` (hex)."""
    key_hex, _, access_hex = text.partition(":")
    try:
        key = bytes.fromhex(key_hex)
        access = bytes.fromhex(access_hex) if access_hex else bytes(6)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("not hex") from exc
    if len(key) != 20:
        raise argparse.ArgumentTypeError("the HMAC key must be 20 bytes")
    if len(access) != YK_ACC_CODE_SIZE:
        raise argparse.ArgumentTypeError("the access code must be 6 bytes")
    return key, access


def kh_length(text: str) -> int:
    """argparse type for ``--u2f-kh-len``."""
    value = int(text)
    if not U2F_MIN_KH_LEN <= value <= 255:
        raise argparse.ArgumentTypeError(
            f"must be between {U2F_MIN_KH_LEN} and 255")
    return value


def counter_step(text: str) -> str:
    """argparse type for ``--u2f-counter-step N|odd-random``."""
    if text != "odd-random" and not (text.isdigit()
                                     and 1 <= int(text) <= 0xFFFFFFFF):
        raise argparse.ArgumentTypeError("must be N >= 1 or odd-random")
    return text


def chunk_size(text: str) -> int:
    """argparse type for ``--u2f-chunk``."""
    value = int(text)
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return value


def max_msg_size(text: str) -> int:
    """argparse type for ``--ctap2-max-msg`` (the spec's minimum is 1024;
    smaller values are allowed to test hosts)."""
    value = int(text)
    if not 64 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 64 and 65535")
    return value


def algorithm_list(text: str) -> tuple[str, ...]:
    """argparse type for ``--ctap2-algs es256,eddsa``."""
    names = tuple(name.strip().lower() for name in text.split(","))
    if not names or any(name not in ("es256", "eddsa") for name in names) \
            or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("a list of es256 and eddsa")
    return names


def ctap2_counter_step(text: str) -> str:
    """argparse type for ``--ctap2-counter-step N|zero|odd-random``."""
    if text == "zero":
        return text
    return counter_step(text)


APPLET_OPTIONS = ("hmac_aid", "hmac_slot1", "hmac_slot2", "hmac_state",
                  "hmac_serial", "u2f_version", "u2f_kh_len",
                  "u2f_counter_step", "u2f_chunk", "u2f_state")
CTAP2_OPTIONS = ("ctap2", "ctap2_pin", "ctap2_state", "ctap2_always_uv",
                 "ctap2_max_msg", "ctap2_algs", "ctap2_counter_step",
                 "ctap2_keepalive", "ctap2_chunk")


def applet_config(args: argparse.Namespace) -> AppletConfig:
    """The applet settings from the parsed options; raise ValueError on
    inconsistencies."""
    faults: Faults = args.faults
    card_class = PERSONALITIES[args.personality]
    ctap2 = (any(getattr(args, name) is not None for name in CTAP2_OPTIONS)
             or any(name.startswith("ctap2-") for name in faults.u2f))
    requested = (ctap2 or any(getattr(args, name) is not None
                              for name in APPLET_OPTIONS)
                 or bool(faults.u2f or faults.hmac_replay
                         or faults.hmac_replay_use))
    if requested and not (card_class.applets or card_class.optional_applets):
        raise ValueError(f"{args.personality} has no applets: the --hmac-*/"
                         "--u2f-*/--ctap2* options and applet faults need "
                         "--personality javacard, apex or yubikey")
    slots = {n: key for n, key in ((1, args.hmac_slot1), (2, args.hmac_slot2))
             if key is not None}
    config = AppletConfig(
        applets_requested=requested, no_extended=args.no_extended,
        hmac_aid=args.hmac_aid or "both", hmac_slots=slots,
        hmac_state=args.hmac_state,
        hmac_serial=(12345678 if args.hmac_serial is None
                     else args.hmac_serial),
        hmac_replay=faults.hmac_replay, hmac_replay_use=faults.hmac_replay_use,
        u2f_version=args.u2f_version or "u2f", u2f_kh_len=args.u2f_kh_len,
        u2f_counter_step=args.u2f_counter_step or "1",
        u2f_chunk=args.u2f_chunk, u2f_state=args.u2f_state,
        faults=faults.u2f, ctap2=ctap2, ctap2_pin=args.ctap2_pin,
        ctap2_state=args.ctap2_state,
        ctap2_always_uv=bool(args.ctap2_always_uv),
        ctap2_max_msg=args.ctap2_max_msg or 1024,
        ctap2_algs=args.ctap2_algs or ("es256",),
        ctap2_counter_step=args.ctap2_counter_step or "1",
        ctap2_keepalive=args.ctap2_keepalive or 0,
        ctap2_chunk=args.ctap2_chunk, ctap2_error=faults.ctap2_error)
    if "ctap2-short-only" in faults.u2f:
        config.no_extended = True
    if args.ctap2_pin is not None and len(args.ctap2_pin) < 4:
        raise ValueError("--ctap2-pin needs at least 4 characters")
    if config.hmac_replay_use:
        config.hmac_replay_last = last_replay_record(config.hmac_replay_use)
    return config


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Virtual NFC implant for the vsmartcard vpcd driver.")
    parser.add_argument("--port", type=int, required=True,
                        help="vpcd port (the reader's CHANNELID)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--personality", choices=PERSONALITIES,
                        default="ntag216")
    parser.add_argument("--uid", help="override the UID (hex)")
    parser.add_argument("--delay", type=non_negative, default=0.0,
                        help="seconds to wait before the first tap")
    parser.add_argument("--connect-timeout", type=non_negative, default=5.0,
                        help="keep retrying a refused connection this long")
    parser.add_argument("--hold", type=non_negative,
                        help="seconds to stay on the reader (default: until "
                             "killed or vpcd closes)")
    parser.add_argument("--remove-after", type=positive_int, metavar="N",
                        help="vanish on receiving the Nth C-APDU of a tap")
    parser.add_argument("--log", metavar="FILE", help="append events here")
    parser.add_argument("--ready-file", metavar="FILE",
                        help="create FILE when connected to vpcd")
    parser.add_argument("--taps", type=positive_int, default=1)
    parser.add_argument("--gap", type=non_negative, default=1.0,
                        help="seconds between taps")
    parser.add_argument("--fault", type=parse_fault, action="append",
                        default=[], metavar="NAME[=ARG]",
                        help="garbage, short, wrong-sw=XXXX, oversized, "
                             "silent, endless-61, slow=S, u2f-up-clear, "
                             "u2f-counter-stuck, u2f-bad-sig, "
                             "u2f-bad-reg-sig, u2f-wrong-kh-len, "
                             "hmac-replay=FILE, hmac-replay-use=FILE, "
                             "ctap2-malformed-cbor, ctap2-wrong-rpid-hash, "
                             "ctap2-no-uv, ctap2-counter-stuck, "
                             "ctap2-bad-signature, ctap2-error=HEX, "
                             "ctap2-short-only (repeatable)")
    parser.add_argument("--no-extended", action="store_true",
                        help="answer 67 00 to extended-length APDUs")
    hmac_group = parser.add_argument_group(
        "HMAC-SHA1 challenge-response applet")
    hmac_group.add_argument("--hmac-aid", choices=("7", "8", "both"),
                            help="AIDs that select it (default both)")
    hmac_group.add_argument("--hmac-slot1", type=hmac_slot_key,
                            metavar="KEY[:ACC]",
                            help="slot 1 programmed with this 20-byte key "
                                 "(and 6-byte access code)")
    hmac_group.add_argument("--hmac-slot2", type=hmac_slot_key,
                            metavar="KEY[:ACC]", help="the same for slot 2")
    hmac_group.add_argument("--hmac-state", metavar="FILE",
                            help="JSON file keeping the slots across runs")
    hmac_group.add_argument("--hmac-serial", type=int, metavar="N",
                            help="serial number (default 12345678)")
    u2f_group = parser.add_argument_group("FIDO U2F applet")
    u2f_group.add_argument("--u2f-version", choices=("u2f", "fido2"),
                           help="SELECT answer U2F_V2 (default) or FIDO_2_0 "
                                "(CTAP2 only: no U2F commands)")
    u2f_group.add_argument("--u2f-kh-len", type=kh_length, metavar="N",
                           help="fixed key handle length (others: 67 00); "
                                "default 64 (others: 6A 80)")
    u2f_group.add_argument("--u2f-counter-step", type=counter_step,
                           metavar="N|odd-random",
                           help="counter increment per signature (default 1)")
    u2f_group.add_argument("--u2f-chunk", type=chunk_size, metavar="N",
                           help="send long replies in pieces of N bytes")
    u2f_group.add_argument("--u2f-state", metavar="FILE",
                           help="JSON file keeping master secret, attestation "
                                "key/cert and counter across runs")
    ctap2_group = parser.add_argument_group(
        "CTAP2 (FIDO2) over NFC, in the FIDO applet")
    ctap2_group.add_argument("--ctap2", action="store_true", default=None,
                             help="CTAP2 next to U2F (SELECT still answers "
                                  "U2F_V2); implied by --u2f-version fido2 "
                                  "and by every other --ctap2-* option")
    ctap2_group.add_argument("--ctap2-pin", metavar="PIN",
                             help="PIN set from the start (not if the "
                                  "--ctap2-state file exists)")
    ctap2_group.add_argument("--ctap2-state", metavar="FILE",
                             help="JSON file keeping master secret, "
                                  "attestation key, resident credentials, "
                                  "PIN hash, PIN retries and counter")
    ctap2_group.add_argument("--ctap2-always-uv", action="store_true",
                             default=None,
                             help="alwaysUv: no makeCredential/getAssertion "
                                  "without pinUvAuthParam; U2F off")
    ctap2_group.add_argument("--ctap2-max-msg", type=max_msg_size,
                             metavar="N", help="maxMsgSize (default 1024)")
    ctap2_group.add_argument("--ctap2-algs", type=algorithm_list,
                             metavar="es256[,eddsa]",
                             help="supported algorithms (default es256)")
    ctap2_group.add_argument("--ctap2-counter-step", metavar="N|zero|odd-random",
                             type=ctap2_counter_step,
                             help="signature counter increment (default 1)")
    ctap2_group.add_argument("--ctap2-keepalive", type=positive_int,
                             metavar="N",
                             help="answer NFCCTAP_MSG with P1 80 by N times "
                                  "91 00 before the reply")
    ctap2_group.add_argument("--ctap2-chunk", type=chunk_size, metavar="N",
                             help="CTAP2 replies to short APDUs in pieces of "
                                  "N bytes (default: --u2f-chunk)")
    args = parser.parse_args(argv)
    card_class = PERSONALITIES[args.personality]
    try:
        args.faults = build_faults(args.fault)
        if args.uid is not None:
            if not card_class.uid_lengths:
                raise ValueError(f"{args.personality} does not take --uid")
            args.uid = bytes.fromhex(args.uid)
            card_class.check_uid(args.uid)
        if args.hmac_serial is not None \
                and not 0 <= args.hmac_serial <= 0xFFFFFFFF:
            raise ValueError("--hmac-serial must fit in 32 bits")
        args.applet_config = applet_config(args)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    log = EventLog(args.log)
    args.applet_config.log = log.write      # "ctap2 <name> <status>" lines
    try:
        card = PERSONALITIES[args.personality](args.uid, args.applet_config)
    except ValueError as exc:  # unusable state file
        print(f"vimplant: {exc}", file=sys.stderr)
        return 2
    return Implant(args, card, args.faults, log).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
