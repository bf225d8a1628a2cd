#!/bin/sh
# Install the Debian packages pam_vivo's build, demo and tests need (as
# root), plus any package names given as arguments (bench/install-deps.sh
# adds its own that way). Idempotent: only what is missing is installed.
# Used by `make demo`, `make check`, `make bench` and .ci/run.
set -eu
PKGS="build-essential pkg-config libpam0g-dev libpcsclite-dev libssl-dev \
libconfig-dev pcscd vsmartcard-vpcd pcsc-tools python3 python3-cryptography \
util-linux procps binutils sudo clang libclang-rt-14-dev llvm-14 \
dpkg-dev debhelper lintian groff-base man-db $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
# pcscd's packaging may start a system pcscd; our tests run their own in
# a private namespace and never touch it.
