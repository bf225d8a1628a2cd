#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A misbehaving stand-in for vivo-helper, for the module's fault tests.
Usage: fakehelper.py MODE (the module runs a wrapper script per mode)."""

import os
import signal
import sys
import time


def msg(mtype, fields, version=1):
    body = bytes([version, mtype])
    for tag, val in fields:
        if isinstance(val, int):
            val = val.to_bytes(4, "big")
        elif isinstance(val, str):
            val = val.encode()
        body += bytes([tag]) + len(val).to_bytes(2, "big") + val
    return len(body).to_bytes(4, "big") + body


WAIT = msg(2, [(3, 2), (6, "Hold your implant to the reader...")])
OK = msg(3, [(5, 0), (7, "fake success"), (8, "fake"), (9, "uid")])


def out(b):
    os.write(1, b)


def main():
    mode = sys.argv[1]
    if mode != "exit-early":
        os.read(0, 65536)  # the request
    if mode == "segv":
        out(WAIT)
        os.kill(os.getpid(), signal.SIGSEGV)
    elif mode == "exit-early":
        sys.exit(0)
    elif mode == "truncated":
        out(OK[:len(OK) - 5])
    elif mode == "oversized":
        out((1 << 20).to_bytes(4, "big") + b"\x01\x03" + b"\0" * 4096)
    elif mode == "wrong-version":
        out(msg(3, [(5, 0), (7, "x")], version=2))
    elif mode == "ok-exit1":
        out(OK)
        sys.exit(1)
    elif mode == "ok-then-hang":
        out(OK)
        time.sleep(60)
    elif mode == "wait-twice":
        out(WAIT + WAIT + OK)
    elif mode == "never-answer":
        time.sleep(60)
    elif mode == "garbage":
        out(os.urandom(200))
    elif mode == "result-unknown":
        out(msg(3, [(5, 99), (7, "x")]))
    elif mode == "ok-then-killed":
        out(OK)
        os.kill(os.getpid(), signal.SIGTERM)
    elif mode == "ok-missing-reason":
        out(msg(3, [(5, 0)]))
    elif mode == "ok-extra-field":
        out(msg(3, [(5, 0), (7, "x"), (1, "alice")]))
    sys.exit(0)


if __name__ == "__main__":
    main()
