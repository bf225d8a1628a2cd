#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make install honours DESTDIR and PREFIX, puts the module into Debian's
# multiarch PAM directory and the helper under libexec, and compiles the
# helper's installed path into the module. Builds in its own tree.
set -u
cd "$(dirname "$0")/.."
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0
fail=0
t() {
	if eval "$2"; then pass=$((pass + 1)); echo "ok   install: $1"
	else fail=$((fail + 1)); echo "FAIL install: $1"; fi
}
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -dumpmachine)
make -s install B="$d/build" DESTDIR="$d/root" PREFIX=/usr >"$d/log" 2>&1 ||
	{ cat "$d/log"; echo "install: 0 passed, 1 failed, 0 skipped"; exit 1; }
r="$d/root"
t "module in /lib/$arch/security" "[ -f '$r/lib/$arch/security/pam_vivo.so' ]"
t "helper in /usr/libexec/pam_vivo" "[ -x '$r/usr/libexec/pam_vivo/vivo-helper' ]"
t "vivo-enroll in /usr/bin" "[ -x '$r/usr/bin/vivo-enroll' ]"
t "example config installed" "[ -f '$r/etc/security/pam_vivo.conf' ]"
t "helper path compiled into the module" \
	"grep -q /usr/libexec/pam_vivo/vivo-helper '$r/lib/$arch/security/pam_vivo.so'"
t "helper has no setuid bit" "[ ! -u '$r/usr/libexec/pam_vivo/vivo-helper' ]"
echo changed > "$r/etc/security/pam_vivo.conf"
make -s install B="$d/build" DESTDIR="$d/root" PREFIX=/usr >"$d/log" 2>&1
t "an existing config is not overwritten" "grep -qx changed '$r/etc/security/pam_vivo.conf'"
echo "install: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
