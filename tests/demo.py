#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make demo: the main job, end to end, on a built-in virtual implant.

In private mount and network namespaces (nothing on this machine is
changed; the virtual reader is reachable from this namespace's loopback
only): a private pcscd with a virtual reader, a virtual VivoKey-Apex-like
implant with a FIDO U2F applet and an HMAC-SHA1 applet, a private config and PAM service. It
enrolls the implant for the current user with vivo-enroll (u2f, the
recommended method, then hmac), and runs real PAM authentications (libpam ->
pam_vivo.so -> vivo-helper -> pcscd -> virtual implant): the enrolled implant
is accepted, another implant is not.
"""

import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import ROOT  # noqa: E402


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(out):
    for line in out.rstrip().splitlines():
        print("   " + line)
    sys.stdout.flush()


def implant(name):
    """A virtual Apex: its keys live in its own state files."""
    return dict(personality="apex", uid="04A9E35B216C80",
                extra=["--u2f-state", f"{ROOT}/tmp/demo-{name}-u2f.json",
                       "--hmac-state", f"{ROOT}/tmp/demo-{name}-hmac.json"])


def enroll(h, cfg, args, chip, stdin=""):
    p = subprocess.Popen([h.enroll_bin, "--config", cfg, "add"] + args,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    p.stdin.write(stdin)
    p.stdin.close()
    show(p.stdout.readline() + p.stdout.readline())
    print("   [the virtual implant taps the reader]")
    imp = h.implant(hold=3, wait_present=False, **chip)
    show(p.stdout.read())
    p.wait(30)
    imp.stop()
    h.clear_readers()
    return p.returncode == 0


def login(h, user, chip, what):
    say(f"PAM authentication of {user}: {what} taps after the prompt")
    cmd, _ = h.tap_command(delay=0.3, hold=2.5, **chip)
    r = h.pam(user, on_info=cmd)
    show(r.stdout)
    h.clear_readers()
    return r.code


def main():
    user = pwd.getpwuid(os.getuid()).pw_name
    h = harness.Harness()
    ok = []
    try:
        say("Starting a private pcscd with a virtual reader (vpcd)")
        h.start_pcscd()
        print(f"   reader on 127.0.0.1:{h.port} (in a private network namespace:"
              " no other host can reach it)")
        cfg = h.config(methods='[ "u2f", "hmac" ]', timeout="10",
                       u2f='{ appid = "pam://demo"; }')
        h.service()
        print(f"   config {cfg}:")
        show(open(cfg).read())
        print(f"   PAM service {ROOT}/pam.d/vivo:")
        show(open(f"{ROOT}/pam.d/vivo").read())

        say("vivo-enroll probe: what is this implant, what can it do?")
        h.implant(**implant("mine"))
        show(h.enroll("probe", config=cfg).stdout)
        h.clear_readers()

        say(f"vivo-enroll add --method u2f --label apex (for {user})")
        ok.append(enroll(h, cfg, ["--method", "u2f", "--label", "apex"],
                         implant("mine")))
        ok.append(login(h, user, implant("mine"), "the enrolled implant")
                  == "PAM_SUCCESS")
        ok.append(login(h, user, implant("stranger"), "another implant")
                  == "PAM_AUTH_ERR")

        say(f"vivo-enroll add --method hmac --slot 2 --program --yes "
            f"--label apex-hmac (for {user})")
        ok.append(enroll(h, cfg, ["--method", "hmac", "--slot", "2",
                                  "--program", "--yes", "--label",
                                  "apex-hmac"], implant("mine")))
        show(h.enroll("list", config=cfg).stdout)
        print(f"   the enrollment file, {h.store_path(user)}:")
        show(open(h.store_path(user)).read())
        cfg = h.config(methods='[ "hmac" ]', timeout="10")
        print("   (config now accepts hmac only)")
        ok.append(login(h, user, implant("mine"), "the enrolled implant")
                  == "PAM_SUCCESS")

        say("What was logged (syslog, LOG_AUTHPRIV)")
        show("\n".join(l.split("]: ", 1)[-1] if "]: " in l else
                       l.split(": ", 1)[-1] for l in h.syslog.lines
                       if "vivo" in l))
        print()
        if all(ok):
            print("demo: OK - the enrolled implant was accepted (u2f and "
                  "hmac), another implant refused")
            return 0
        print("demo: FAILED")
        return 1
    finally:
        h.close()


if __name__ == "__main__":
    sys.exit(main())
