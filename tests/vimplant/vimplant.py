#!/usr/bin/python3
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

It is part of pam_vivo's test-suite and is written from the PC/SC and ISO
specifications only, independently of the product code.  Only the Python
standard library is used.  See README.md next to this file for the CLI.
"""

import argparse
import os
import random
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass

EXIT_OK = 0
EXIT_CONNECT_FAILED = 3

# Status words.
SW_OK = b"\x90\x00"
SW_END_OF_DATA = b"\x62\x82"        # fewer bytes available than Le asked for
SW_WRONG_LENGTH = b"\x67\x00"
SW_FUNC_NOT_SUPPORTED = b"\x6A\x81"
SW_FILE_NOT_FOUND = b"\x6A\x82"     # SELECT: no applet with that AID
SW_WRONG_P1P2_SELECT = b"\x6A\x86"  # incorrect P1-P2 (SELECT)
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
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

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
            return cls(*header, le=int.from_bytes(body[1:3], "big"))
        lc = int.from_bytes(body[1:3], "big")           # cases 3/4 extended
        if lc and len(body) == 3 + lc:
            return cls(*header, data=body[3:])
        if lc and len(body) == 5 + lc:
            return cls(*header, data=body[3:-2],
                       le=int.from_bytes(body[-2:], "big"))
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

    def __init__(self, uid: bytes | None = None):
        self.uid = self.default_uid if uid is None else uid

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

    def __init__(self, uid: bytes | None = None):
        super().__init__(uid)
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


class Applet:
    """Interface of an on-card application, selected by AID.

    Register subclasses in an ``Iso14443Card.applets`` dict (AID bytes ->
    Applet subclass).  One instance per card lives for the whole run, so
    its attributes behave like persistent applet state across taps.
    """

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
    answers 6A 82 and leaves the current selection unchanged.
    """

    applets: dict[bytes, type[Applet]] = {}

    def __init__(self, uid: bytes | None = None):
        super().__init__(uid)
        self.ats_historical = self.historical
        self.instances = {aid: cls() for aid, cls in self.applets.items()}
        self.selected: Applet | None = None

    def power_up(self) -> None:
        """A fresh activation starts with no applet selected."""
        self.selected = None

    def card_apdu(self, apdu: Apdu) -> bytes:
        if apdu.cla & 0x60:
            return SW_CLA_NOT_SUPPORTED
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
        self.selected = applet
        return applet.select(apdu)


class JavaCard(Iso14443Card):
    """A JCOP-like Java Card implant.

    No applets are installed yet; the HMAC-SHA1 challenge-response and FIDO
    U2F applets will be added to ``applets`` (AID -> Applet subclass).
    """

    historical = b"JCOP31V232"
    default_uid = bytes.fromhex("045A1C629E3180")
    applets: dict[bytes, type[Applet]] = {}


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

    def __init__(self, uid: bytes | None = None):
        super().__init__(uid)
        self.ats_historical = None


PERSONALITIES: dict[str, type[Card]] = {
    "ntag216": Ntag216,
    "mifare1k": Mifare1k,
    "random-uid": RandomUidCard,
    "javacard": JavaCard,
    "no-uid": NoUidCard,
}


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------

# Faults that decide what is sent back for a C-APDU; at most one may be used.
REPLY_FAULTS = ("garbage", "short", "wrong-sw", "oversized", "silent",
                "endless-61")
FAULTS_WITH_ARG = ("wrong-sw", "slow")

# The spec'd "oversized" reply is 70000 bytes, but the vpcd length prefix
# tops out at 65535: send the largest frame possible, ending in 90 00.
OVERSIZED_REPLY = bytes(MAX_FRAME - 2) + SW_OK


@dataclass
class Faults:
    """The misbehaviour applied to R-APDUs (never to control replies)."""

    reply: str | None = None       # one of REPLY_FAULTS
    wrong_sw: bytes = b""          # argument of wrong-sw
    slow: float = 0.0              # delay before each R-APDU

    def shape(self, genuine: bytes) -> bytes | None:
        """Turn the genuine R-APDU into what is sent; None: send nothing."""
        if self.reply is None:
            return genuine
        if self.reply == "silent":
            return None
        if self.reply == "garbage":
            return os.urandom(random.randint(0, 10))
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
    if name not in REPLY_FAULTS + ("slow",):
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

    def __init__(self, args: argparse.Namespace, card: Card, faults: Faults):
        self.args = args
        self.card = card
        self.faults = faults
        self.log = EventLog(args.log)
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
                             "silent, endless-61, slow=S (repeatable)")
    args = parser.parse_args(argv)
    card_class = PERSONALITIES[args.personality]
    try:
        args.faults = build_faults(args.fault)
        if args.uid is not None:
            if not card_class.uid_lengths:
                raise ValueError(f"{args.personality} does not take --uid")
            args.uid = bytes.fromhex(args.uid)
            card_class.check_uid(args.uid)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    card = PERSONALITIES[args.personality](args.uid)
    return Implant(args, card, args.faults).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
