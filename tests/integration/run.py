#!/usr/bin/python3
"""Run the integration tests (see harness.py); started by
tests/run-integration.sh inside a private mount namespace.

Usage: run.py [-k SUBSTRING]...   (only tests whose name contains one)
Prints one line per test and ends with "N passed, N failed".
"""

import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MODULES = ["test_network", "test_foundation", "test_hmac", "test_u2f", "test_faults",
           "test_security", "test_sudo", "test_package", "test_valgrind"]


# Under ASan/UBSan (make check SANITIZE=1) the real sudo cannot load a
# sanitized module (the runtime must come first in a program's libraries)
# and valgrind cannot run sanitized programs: those two run in the plain
# build's `make check`.
if os.environ.get("VIVO_SANITIZE") == "1":
    MODULES = [m for m in MODULES if m not in ("test_sudo", "test_valgrind",
                                               "test_package")]


def main():
    wanted = [a for i, a in enumerate(sys.argv[1:]) if sys.argv[i] == "-k"]
    h = harness.Harness()
    passed = failed = 0
    failures = []
    t_all = time.time()
    try:
        h.start_pcscd()
        for modname in MODULES:
            mod = importlib.import_module(modname)
            names = sorted(n for n, f in vars(mod).items()
                           if n.startswith("test_") and callable(f)
                           and getattr(f, "__module__", None) == modname)
            for name in names:
                if wanted and not any(w in name for w in wanted):
                    continue
                fn = getattr(mod, name)
                t0 = time.time()
                try:
                    mod.setup(h)
                    fn(h)
                    passed += 1
                    print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
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
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
