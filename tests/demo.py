#!/usr/bin/python3
"""make demo: the main job, end to end, on a built-in virtual implant.

In a private mount namespace (nothing on this machine is changed): a private
pcscd with a virtual reader, a virtual NTAG216 implant, a private config and
PAM service. Enrolls the implant for the current user with vivo-enroll, then
runs real PAM authentications (libpam -> pam_vivo.so -> vivo-helper -> pcscd
-> virtual implant): the enrolled implant is accepted, another chip is not.
"""

import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import ROOT  # noqa: E402

IMPLANT = "04A1B2C3D4E5F6"
OTHER = "04112233445566"


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(out):
    for line in out.rstrip().splitlines():
        print("   " + line)
    sys.stdout.flush()


def main():
    user = pwd.getpwuid(os.getuid()).pw_name
    h = harness.Harness()
    try:
        say("Starting a private pcscd with a virtual reader (vpcd)")
        h.start_pcscd()
        print(f"   reader on 127.0.0.1:{h.port}")
        cfg = h.config(methods='[ "uid" ]', timeout="10")
        h.service()
        print(f"   config {cfg}:")
        show(open(cfg).read())
        print(f"   PAM service {ROOT}/pam.d/vivo:")
        show(open(f"{ROOT}/pam.d/vivo").read())

        say("vivo-enroll probe: what is this chip?")
        imp = h.implant(uid=IMPLANT)
        show(h.enroll("probe").stdout)
        h.clear_readers()

        say(f"vivo-enroll add --method uid --label demo-implant (for {user})")
        p = subprocess.Popen([h.enroll_bin, "--config", cfg, "add", "--method",
                              "uid", "--label", "demo-implant"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        show(p.stdout.readline() + p.stdout.readline())
        print("   [the virtual implant taps the reader]")
        imp = h.implant(uid=IMPLANT, hold=2, wait_present=False)
        show(p.communicate(timeout=30)[0])
        imp.stop()
        h.clear_readers()
        show(h.enroll("list").stdout)

        say(f"PAM authentication of {user}; the enrolled implant taps after "
            "the prompt")
        cmd, _ = h.tap_command(uid=IMPLANT, delay=0.3, hold=2)
        r = h.pam(user, on_info=cmd)
        show(r.stdout)
        ok1 = r.code == "PAM_SUCCESS"

        say(f"PAM authentication of {user}; another chip taps")
        h.clear_readers()
        cmd, _ = h.tap_command(uid=OTHER, delay=0.3, hold=2)
        r = h.pam(user, on_info=cmd)
        show(r.stdout)
        ok2 = r.code == "PAM_AUTH_ERR"

        say("What was logged (syslog, LOG_AUTHPRIV)")
        show("\n".join(l.split(": ", 1)[-1] if "]: " not in l else
                       l.split("]: ", 1)[-1] for l in h.syslog.lines
                       if "vivo" in l))
        print()
        if ok1 and ok2:
            print("demo: OK - the enrolled implant was accepted, the other "
                  "chip refused")
            return 0
        print("demo: FAILED")
        return 1
    finally:
        h.close()


if __name__ == "__main__":
    sys.exit(main())
