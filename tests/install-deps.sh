#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages pam_vivo's build, demo and tests need (as
# root), plus any package names given as arguments (bench/install-deps.sh
# adds its own that way). Idempotent: only what is missing is installed.
# Used by `make demo`, `make check`, `make bench` and .ci/run.
#
# vsmartcard's virtual reader driver (vpcd) is NOT installed: the Debian
# package vsmartcard-vpcd ships /etc/reader.conf.d/vpcd, and with it the
# system's pcscd listens for virtual cards on every address of the machine
# (ports 35963/35964), so anyone on the network could present a "chip".
# Instead the package is downloaded (`apt-get download`) and unpacked with
# `dpkg-deb -x` into the build tree, build/deps/vsmartcard-vpcd (the path is
# defined once, in tests/integration/harness.py: VPCD_PKG); only the tests'
# own pcscd loads the driver from there, in a private network namespace.
# The driver needs libc only. `make clean` removes it; the next run of this
# script unpacks it again.
#
# An older version of this script did install vsmartcard-vpcd. If its
# /etc/reader.conf.d/vpcd is still the package's default (dpkg's md5 of
# the conffile), it is moved to /var/backups/pam_vivo-tests-vpcd.reader.conf;
# a modified one is the owner's and is left alone (with a warning). The
# package itself stays installed (its driver alone opens no port).
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential pkg-config libpam0g-dev libpcsclite-dev libssl-dev \
libconfig-dev libfido2-dev pcscd pcsc-tools python3 python3-cryptography python3-fido2 python3-pyscard \
gnome-keyring libpam-gnome-keyring dbus-daemon \
util-linux iproute2 procps binutils sudo valgrind clang libclang-rt-14-dev \
llvm-14 clang-format dpkg-dev debhelper lintian groff-base man-db \
libldap-dev slapd ldap-utils $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
updated=0
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	updated=1
	# slapd: the tests start their own (tests/integration/slapd.py), in a
	# temporary directory of their own. The package must neither make a
	# directory of the machine's (no_configuration) nor start a server
	# listening on every address (policy-rc.d, while apt runs).
	echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=/usr/sbin/policy-rc.d
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing || {
		[ -z "$policy" ] || rm -f "$policy"
		exit 1
	}
	[ -z "$policy" ] || rm -f "$policy"
fi
# pcscd's packaging may start a system pcscd; our tests run their own in
# a private namespace and never touch it.

# ---- the private vpcd ------------------------------------------------------
VPCD_PKG=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/integration")
import harness; print(harness.VPCD_PKG)')
if [ ! -e "$VPCD_PKG/usr/lib/pcsc/drivers/serial/libifdvpcd.so" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing $VPCD_PKG (run as root to unpack vsmartcard-vpcd there)" >&2
		exit 1
	fi
	echo "unpacking vsmartcard-vpcd into $VPCD_PKG (not installed: no" \
	     "reader for the system's pcscd)"
	dl=$(mktemp -d /tmp/vivo-vpcd.XXXXXX)
	trap 'rm -rf "$dl"' EXIT
	# apt's download sandbox user must be able to write there
	chown _apt "$dl" 2>/dev/null || true
	if ! (cd "$dl" && apt-get download -q vsmartcard-vpcd >/dev/null); then
		[ "$updated" = 1 ] || { apt-get update -q && updated=1; }
		(cd "$dl" && apt-get download -q vsmartcard-vpcd >/dev/null)
	fi
	mkdir -p "$dl/x"
	dpkg-deb -x "$dl"/vsmartcard-vpcd_*.deb "$dl/x"
	dpkg-deb -f "$dl"/vsmartcard-vpcd_*.deb Version >"$dl/x/VERSION"
	lib=$dl/x/usr/lib/pcsc/drivers/serial/libifdvpcd.so
	[ -e "$lib" ] || { echo "vsmartcard-vpcd: no libifdvpcd.so in the package" >&2; exit 1; }
	# nothing but what is installed already (libc) may be needed
	if ldd "$lib" | grep -q "not found"; then
		echo "vsmartcard-vpcd: $lib needs a library that is missing:" >&2
		ldd "$lib" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$VPCD_PKG")"
	rm -rf "$VPCD_PKG"
	mv "$dl/x" "$VPCD_PKG"
fi

# ---- what an older version of this script left ------------------------------
# A file in /etc/reader.conf.d that is byte for byte vsmartcard-vpcd's
# default (the md5 dpkg recorded for the conffile, if it knows the package
# in any state, or that of the copy unpacked above) is ours to take away;
# any other vpcd entry is the owner's.
want_pkg=$(dpkg-query -W -f='${Conffiles}\n' vsmartcard-vpcd 2>/dev/null |
	awk '$1 == "/etc/reader.conf.d/vpcd" { print $2 }')
want_ours=$(md5sum <"$VPCD_PKG/etc/reader.conf.d/vpcd" | awk '{ print $1 }')
for conf in /etc/reader.conf.d/*; do
	[ -f "$conf" ] || continue
	have=$(md5sum <"$conf" | awk '{ print $1 }')
	if [ "$have" = "$want_ours" ] || [ "$have" = "${want_pkg:-none}" ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "$conf (vsmartcard-vpcd's default) lets the system's pcscd" \
			     "accept virtual cards from the network: run this script" \
			     "as root to move it away" >&2
			exit 1
		fi
		bak=/var/backups/pam_vivo-tests-$(basename "$conf").reader.conf
		mkdir -p /var/backups
		mv "$conf" "$bak"
		echo "moved $conf (vsmartcard-vpcd's default, installed by an older" \
		     "tests/install-deps.sh) to $bak: the system's pcscd no longer" \
		     "offers a virtual reader on ports 35963/35964 of every address"
		# a pcscd of this machine (not a test's, which run in their own
		# mount namespaces) still has the reader loaded
		for p in $(pgrep -x pcscd || true); do
			[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$(readlink /proc/self/ns/mnt)" ] || continue
			echo "the system's pcscd (pid $p) still serves that reader: restart" \
			     "it (systemctl restart pcscd, or stop it and let" \
			     "pcscd.socket start it on demand)"
		done
	elif grep -q '^[[:space:]]*LIBPATH.*libifdvpcd' "$conf"; then
		echo "warning: $conf is a vpcd reader that differs from" \
		     "vsmartcard-vpcd's default (yours?): left alone. It lets the" \
		     "system's pcscd accept virtual cards on the ports it names," \
		     "from every address." >&2
	fi
done
