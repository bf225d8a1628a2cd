#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages `make bench` needs (as root): those of
# tests/install-deps.sh (build, pcscd + vpcd, python3-cryptography, ...)
# plus the bench's own. Idempotent: only what is missing is installed.
#   pamtester         the PAM caller of every timed run (baseline, full, peer)
#   python3-pyscard   the peer: pam_exec running a pyscard script
#   python3-fido2     the fido2 peer: python3-fido2's CtapPcscDevice + Ctap2
#   libpam-modules    pam_permit (baseline) and pam_exec (peer)
set -eu
cd "$(dirname "$0")/.."
exec sh tests/install-deps.sh pamtester python3-pyscard python3-fido2 libpam-modules
