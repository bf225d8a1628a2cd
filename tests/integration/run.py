#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Run the integration tests (see harness.py); started by
tests/run-integration.sh inside a private mount namespace.

Usage: run.py [-k SUBSTRING]...   (only tests whose name contains one)
Prints one line per test ("ok", "FAIL" or "skip NAME: reason") and ends
with "N passed, N failed, N skipped".

What may be a skip, and what must be a failure:
- a test raises harness.Skip(reason) only for a reason that is nobody's
  fault and that tests/install-deps.sh could not have prevented; it is
  counted as skipped, never as passed;
- a program or package that tests/install-deps.sh installs (valgrind,
  sudo, ...) being missing is a FAILURE: tests call harness.require(),
  which fails the test with a message saying so. On a machine prepared by
  install-deps.sh (make check, make demo, .ci/run) nothing skips;
- modules left out on purpose (under SANITIZE=1, below) are not run at
  all: each of their tests is listed as "skip NAME: <why>" and counted as
  skipped, so the closing line says what did not run. Tests deselected
  with -k are not counted.
Exit status 1 if anything failed or nothing passed.
"""

import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MODULES = ["test_network", "test_foundation", "test_hmac", "test_u2f", "test_fido2", "test_identify", "test_authtok",
           "test_directory",
           "test_faults",
           "test_security", "test_shared", "test_hardening", "test_sudo",
           "test_package", "test_valgrind"]


# Under ASan/UBSan (make check SANITIZE=1) the real sudo cannot load a
# sanitized module (the runtime must come first in a program's libraries)
# and valgrind cannot run sanitized programs: those run in the plain
# build's `make check`, as does test_package.
EXCLUDED = {}
if os.environ.get("VIVO_SANITIZE") == "1":
    EXCLUDED = {m: "not run under SANITIZE=1 (the plain make check runs it)"
                for m in ("test_sudo", "test_valgrind", "test_package")}


def test_names(mod):
    return sorted(n for n, f in vars(mod).items()
                  if n.startswith("test_") and callable(f)
                  and getattr(f, "__module__", None) == mod.__name__)


def main():
    wanted = [a for i, a in enumerate(sys.argv[1:]) if sys.argv[i] == "-k"]
    h = harness.Harness()
    passed = failed = skipped = 0
    failures = []
    t_all = time.time()
    try:
        h.start_pcscd()
        for modname in MODULES:
            mod = importlib.import_module(modname)
            for name in test_names(mod):
                if wanted and not any(w in name for w in wanted):
                    continue
                if modname in EXCLUDED:
                    skipped += 1
                    print(f"skip {name}: {EXCLUDED[modname]}", flush=True)
                    continue
                fn = getattr(mod, name)
                t0 = time.time()
                try:
                    mod.setup(h)
                    fn(h)
                    passed += 1
                    print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
                except harness.Skip as e:
                    skipped += 1
                    print(f"skip {name}: {e}", flush=True)
                except Exception:
                    failed += 1
                    failures.append(name)
                    print(f"FAIL {name} ({time.time() - t0:.1f}s)", flush=True)
                    traceback.print_exc(file=sys.stdout)
                    sys.stdout.flush()
    finally:
        h.close()
    print(f"integration: {time.time() - t_all:.0f}s"
          + (f"; failed: {', '.join(failures)}" if failures else ""))
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
