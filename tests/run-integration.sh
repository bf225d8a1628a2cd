#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Integration tests: a private pcscd with vpcd, virtual implants, the real
# libpam. Needs root (a private mount namespace hides pcscd's /run/pcscd
# and our test users from the rest of the machine; a private network
# namespace, with only its own loopback, keeps vpcd's ports away from
# every other host and from the machine itself).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "integration tests need root (private mount namespace and pcscd);" \
	     "run 'make check' as root" >&2
	exit 1
fi
vpcd=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/integration")
import harness; print(harness.VPCD_DRIVER)' 2>/dev/null) || vpcd=harness.VPCD_DRIVER
for t in pcscd unshare nsenter ip setpriv pcsc_scan /usr/bin/python3 "$vpcd"; do
	command -v "$t" >/dev/null 2>&1 || [ -e "$t" ] || {
		echo "missing $t: run 'sh tests/install-deps.sh' (as root)" >&2
		exit 1
	}
done
# never test stale binaries when run on its own
if [ "${VIVO_SANITIZE:-}" = 1 ]; then
	make -s test-tools SANITIZE=1 >/dev/null || exit 1
else
	make -s test-tools >/dev/null || exit 1
fi
exec unshare --mount --net --propagation private /usr/bin/python3 \
    tests/integration/run.py "$@"
