#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""bench/ab.py: phase D (last R-APDU -> the caller's exit) of two or more
builds, interleaved run by run, so that they see the same load.

  make all test-tools bench-tools
  unshare --mount --propagation private /usr/bin/env \\
      VIVO_BUILD=$PWD/build python3 bench/ab.py RUNS NAME=CHECKOUT...

Each CHECKOUT is a tree whose build/pam_vivo.so and build/vivo-helper are
compared (for instance a copy of this one with a change applied). Needs
root, like make bench, whose set-up it uses (bench/bench.py, the
integration tests' harness). AB_METHODS picks the methods (default
u2f,hmac). Prints, per method and build, the median D and full.

Timestamps: a build may append lines "S <name> <pid> <CLOCK_MONOTONIC ns>"
to /run/vivotest/stamps (the harness's private /run) at points of its
choice; ab.py prints the median of each, in ms after the last R-APDU, and
"exit" (the caller's exit). docs/performance.md ("What is in D") shows
the stamps that were used and what they found. The product has no such
stamps: they are a throw-away edit in the copy being measured.
"""
import json
import os
import random
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Bench, METHODS, harness, ROOT  # noqa: E402

STAMPS = ROOT + "/stamps"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    runs = int(sys.argv[1])
    builds = dict(a.split("=", 1) for a in sys.argv[2:])
    methods = os.environ.get("AB_METHODS", "u2f,hmac").split(",")
    out = {}
    h = harness.Harness()
    b = None
    try:
        h.start_pcscd()
        b = Bench(h)
        for name, d in builds.items():
            vd = f"{ROOT}/ab/{name}"
            os.makedirs(vd, mode=0o755)
            for f in ("pam_vivo.so", "vivo-helper"):
                shutil.copy2(f"{d}/build/{f}", f"{vd}/{f}")
        for m in methods:
            spec = METHODS[m]
            cfg = b.setup_method(m, spec)
            for name in builds:
                vd = f"{ROOT}/ab/{name}"
                # libpam lowercases service names
                with open(f"{ROOT}/pam.d/ab-{m}-{name.lower()}", "w") as f:
                    f.write(f"auth required {vd}/pam_vivo.so "
                            f"helper={vd}/vivo-helper config={cfg}\n")
            b.start_taps(spec["chip"])
            res = {n: [] for n in builds}
            for i in range(runs + 2):          # 2 warm-up rounds
                order = list(builds)
                random.shuffle(order)
                for name in order:
                    if os.path.exists(STAMPS):
                        os.unlink(STAMPS)
                    tee, cue, _, ev = b.tapped(
                        b.pamtester(f"ab-{m}-{name.lower()}", spec["user"]))
                    x = b.timeline(tee, cue, ev)
                    if x is None:
                        print(f"[{m}] {name}: a failed run", file=sys.stderr)
                        continue
                    last = x["apdus"][-1][3]
                    seg = {}
                    if os.path.exists(STAMPS):
                        for line in open(STAMPS):
                            _, what, _, ns = line.split()
                            seg[what] = (int(ns) - last) / 1e6
                    seg["exit"] = (tee["t1"] - last) / 1e6
                    if i >= 2:
                        res[name].append(dict(D=x["after_last_reply"],
                                              full=x["full"], seg=seg))
            b.stop_taps()
            out[m] = res
            for name, rs in res.items():
                print(f"[{m}] {name}: n={len(rs)} D {med([r['D'] for r in rs]):.3f}"
                      f" full {med([r['full'] for r in rs]):.3f} (medians, ms)")
                keys = {k for r in rs for k in r["seg"]}
                for k in sorted(keys, key=lambda k: med(
                        [r["seg"][k] for r in rs if k in r["seg"]])):
                    print(f"    {k:16s} "
                          f"{med([r['seg'][k] for r in rs if k in r['seg']]):7.3f}")
    finally:
        if b is not None:
            b.stop(b.slot1)
            b.stop(b.taps)
            b.tap_log.stop()
            b.card_log.stop()
        h.close()
    with open(os.environ.get("AB_OUT", "/dev/null"), "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
