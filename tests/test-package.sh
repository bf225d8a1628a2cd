#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/test-package.sh - build the Debian packages and check them (root).
#
#   sh tests/test-package.sh [--debs DIR] [--from-head] [--no-pam] [--keep]
#
# 1. Builds libpam-vivo and vivo-enroll with `dpkg-buildpackage -us -uc -b`
#    in a copy of this tree under /tmp (the tracked and untracked,
#    not-ignored files of the working tree; --from-head: `git archive HEAD`),
#    so the checkout gets no build output. --debs DIR takes the .debs from
#    DIR instead.
# 2. Checks the .debs without installing them: contents, modes, conffiles,
#    dependencies, the helper path compiled into the module, the
#    pam-auth-update profile, and that the maintainer scripts do nothing but
#    call pam-auth-update (--package on configure, --package --remove vivo
#    on remove, which dpkg also runs on purge); then lintian: no errors.
# 3. In a private mount namespace with overlays over /etc, /usr and /var
#    (the machine itself is never changed): dpkg -i both packages and check
#    that common-* did not change (the profile is Default: no);
#    `pam-auth-update --enable vivo` and check the lines; run the
#    integration test tests/integration/test_package.py against the
#    installed packages and that exact common-auth, through the real libpam,
#    a private pcscd and a virtual implant, in a private network namespace
#    too (--no-pam: skip); --disable must
#    restore common-* byte for byte; enable again, then dpkg --purge both:
#    common-* must be as before, and nothing the packages installed or the
#    machine had may be left over or missing (the overlays' upper layers
#    are compared with the originals).
# Prints one line per check and ends with
# "package: N passed, N failed, N skipped". Skipped: the PAM checks under
# --no-pam; lintian's when lintian is missing, except with
# VIVO_REQUIRE_DEPS=1 (make check sets it: tests/install-deps.sh installs
# lintian), where that is a failure.
set -u
cd "$(dirname "$0")/.." || exit 1

debs="" from_head=0 no_pam=0 keep=0 phase="" W=""
while [ $# -gt 0 ]; do
	case "$1" in
	--debs) debs=$(cd "$2" && pwd); shift 2 ;;
	--from-head) from_head=1; shift ;;
	--no-pam) no_pam=1; shift ;;
	--keep) keep=1; shift ;;
	--phase-namespace) phase=ns; W=$2; shift 2 ;;
	*) echo "usage: $0 [--debs DIR] [--from-head] [--no-pam] [--keep]" >&2
	   exit 2 ;;
	esac
done

pass=0
fail=0
skipped=0
t() {
	if eval "$2"; then pass=$((pass + 1)); echo "ok   package: $1"
	else fail=$((fail + 1)); echo "FAIL package: $1"; fi
}
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -dumpmachine)

# ---- phase 3, inside the private mount namespace --------------------------
if [ "$phase" = ns ]; then
	. "$W/env"
	ns=$W/ns
	mkdir -p "$ns/before"
	# the originals, for the final comparison: descriptors opened before
	# the overlays hide them (/proc/PID/fd/N still reaches them)
	exec 3</etc 4</usr 5</var
	lower() { case "$1" in etc) echo /proc/$$/fd/3 ;; usr) echo /proc/$$/fd/4 ;;
		var) echo /proc/$$/fd/5 ;; esac; }
	for d in etc usr var; do
		mkdir -p "$W/ov/$d.up" "$W/ov/$d.work"
		mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/ov/$d.up,workdir=$W/ov/$d.work" "/$d" ||
			{ echo "FAIL package: overlay over /$d"; echo "0 1 0" >"$ns/count"; exit 1; }
	done
	# From here on, everything this namespace writes to /etc, /usr and
	# /var lands in $W/ov/*.up; the machine's own files are untouched.
	export DEBIAN_FRONTEND=noninteractive
	cp -a /etc/pam.d/common-* "$ns/before/"
	same_common() {
		for f in "$ns"/before/common-*; do
			cmp -s "$f" "/etc/pam.d/$(basename "$f")" || return 1
		done
	}
	t "dpkg -i libpam-vivo vivo-enroll" \
	    "dpkg -i '$DEB_PAM' '$DEB_ENROLL' >'$ns/dpkg-i.log' 2>&1 || { cat '$ns/dpkg-i.log'; false; }"
	t "installed: module in /lib/$arch/security" "[ -f /lib/$arch/security/pam_vivo.so ]"
	t "installed: helper at the compiled-in path" "[ -x /usr/libexec/pam_vivo/vivo-helper ]"
	t "installed: vivo-enroll runs (usage, exit 2)" \
	    "/usr/bin/vivo-enroll --help >/dev/null 2>&1; [ \$? -eq 2 ]"
	t "installed: /etc/security/pam_vivo.conf is a conffile" \
	    "dpkg-query -W -f='\${Conffiles}' libpam-vivo | grep -q '^ /etc/security/pam_vivo.conf '"
	t "installed: man pages found by man" \
	    "man -w pam_vivo >/dev/null && man -w 5 pam_vivo.conf >/dev/null && man -w vivo-enroll >/dev/null"
	t "install leaves common-* unchanged (Default: no)" same_common
	t "pam-auth-update --enable vivo" \
	    "pam-auth-update --enable vivo >'$ns/pau.log' 2>&1 || { cat '$ns/pau.log'; false; }"
	cp /etc/pam.d/common-auth "$ns/common-auth.enabled"
	if cmp -s "$ns/common-auth.enabled" "$ns/before/common-auth"; then
		echo "       pam-auth-update changed nothing (local modifications" \
		     "to common-auth?):"
		sed 's/^/         /' "$ns/pau.log"
	fi
	echo "       common-auth, Primary block after --enable vivo:"
	sed -n '/(the "Primary" block)/,/^# here.s the fallback/p' "$ns/common-auth.enabled" |
		grep '^auth' | sed 's/^/         /'
	t "common-auth: pam_vivo first, [success=2 default=ignore], no arguments" \
	    "sed -n '/(the \"Primary\" block)/,/fallback/p' '$ns/common-auth.enabled' | grep '^auth' | head -1 |
	     grep -Eq '^auth[[:space:]]+\[success=2 default=ignore\][[:space:]]+pam_vivo\.so[[:space:]]*\$'"
	t "common-auth: then pam_unix with [success=1 default=ignore]" \
	    "sed -n '/(the \"Primary\" block)/,/fallback/p' '$ns/common-auth.enabled' | grep '^auth' | sed -n 2p |
	     grep -Eq '^auth[[:space:]]+\[success=1 default=ignore\][[:space:]]+pam_unix\.so'"
	t "enable touches common-auth only" \
	    "(for f in '$ns'/before/common-*; do [ \$(basename \$f) = common-auth ] || cmp -s \$f /etc/pam.d/\$(basename \$f) || exit 1; done)"
	if [ "$no_pam" = 0 ]; then
		# the real libpam on the exact common-auth, the installed module,
		# its compiled-in helper path and the default config path
		# the harness runs from the copy; vpcd is the checkout's
		(cd "$SRC" && VIVO_PKGTEST_INSTALLED=1 VIVO_VPCD_PKG="$VPCD_PKG" \
		    VIVO_PKGTEST_COMMON_AUTH="$ns/common-auth.enabled" \
		    unshare --mount --net --propagation private /usr/bin/python3 -c '
import sys
sys.path.insert(0, "tests/integration")
sys.argv = ["run.py"]
import run
run.MODULES[:] = ["test_package"]
sys.exit(run.main())') >"$ns/pam.log" 2>&1
		sed -n 's/^\(ok  \|FAIL\|skip\) \(test_[^ :]*\).*/\1 \2/p' "$ns/pam.log" |
		while read -r res name; do
			case $res in
			ok) echo "ok   package: pam (installed): $name" ;;
			skip) grep "^skip $name:" "$ns/pam.log" |
				sed 's/^skip /skip package: pam (installed): /' ;;
			*) echo "FAIL package: pam (installed): $name" ;;
			esac
		done
		p=$(grep -c '^ok   test_' "$ns/pam.log")
		f=$(grep -c '^FAIL test_' "$ns/pam.log")
		s=$(grep -c '^skip test_' "$ns/pam.log")
		pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
		if [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
			[ "$p" -eq 0 ] && fail=$((fail + 1))
			sed 's/^/       /' "$ns/pam.log"
		fi
	else
		skipped=$((skipped + 1))
		echo "skip package: pam (installed): not run (--no-pam)"
	fi
	t "pam-auth-update --disable vivo restores common-* byte for byte" \
	    "pam-auth-update --disable vivo >/dev/null 2>&1 && same_common"
	pam-auth-update --enable vivo >/dev/null 2>&1
	t "dpkg --purge vivo-enroll libpam-vivo (profile enabled)" \
	    "dpkg --purge vivo-enroll libpam-vivo >'$ns/dpkg-p.log' 2>&1 || { cat '$ns/dpkg-p.log'; false; }"
	t "purge ran pam-auth-update --remove: common-* as before install" same_common
	t "purge: no package files left" \
	    "[ ! -e /lib/$arch/security/pam_vivo.so ] && [ ! -e /usr/libexec/pam_vivo ] &&
	     [ ! -e /usr/bin/vivo-enroll ] && [ ! -e /usr/share/pam-configs/vivo ] &&
	     [ ! -e /etc/security/pam_vivo.conf ] && [ ! -e /usr/share/doc/libpam-vivo ]"
	# What the upper layers still hold differs from the machine as it was:
	# only dpkg's, debconf's and man-db's bookkeeping may remain; a file
	# in /etc, /usr or /var/lib/pam must be byte-identical to the original,
	# and a whiteout means an original file was deleted.
	: >"$ns/leftovers"
	for d in etc usr var; do
		low=$(lower $d)
		(cd "$W/ov/$d.up" && find . -mindepth 1) | sed 's|^\./||' |
		while read -r p; do
			case "$d/$p" in
			var/lib/dpkg|var/lib/dpkg/*|var/log|var/log/*|var/cache|\
			var/cache/debconf|var/cache/debconf/*|var/cache/man|\
			var/cache/man/*|var/cache/ldconfig|var/cache/ldconfig/*|\
			var/lib|var/lib/man-db|var/lib/man-db/*)
				continue ;;
			esac
			up="$W/ov/$d.up/$p"
			if [ -c "$up" ] && [ "$(stat -c %t:%T "$up")" = 0:0 ]; then
				echo "deleted: /$d/$p" >>"$ns/leftovers"
			elif [ ! -e "$low/$p" ] && [ ! -L "$low/$p" ]; then
				echo "new: /$d/$p" >>"$ns/leftovers"
			elif [ -d "$up" ] && [ -d "$low/$p" ]; then
				:   # a directory that held a changed file: see its files
			elif ! cmp -s "$up" "$low/$p"; then
				echo "changed: /$d/$p" >>"$ns/leftovers"
			fi
		done
	done
	t "install + purge leave /etc, /usr and /var/lib/pam as they were" \
	    "[ ! -s '$ns/leftovers' ] || { sed 's/^/       /' '$ns/leftovers'; false; }"
	echo "$pass $fail $skipped" >"$ns/count"
	exit 0
fi

# ---- phase 1: build -----------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "test-package.sh needs root (dpkg -i in a private mount namespace)" >&2
	exit 1
fi
for c in dpkg-deb dpkg-parsechangelog unshare pam-auth-update python3 pcscd; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "missing $c (apt-get install dpkg-dev util-linux libpam-runtime" \
		     "python3 pcscd)" >&2; exit 1; }
done
if [ -z "$debs" ]; then
	for c in dpkg-buildpackage dh; do
		command -v "$c" >/dev/null 2>&1 || {
			echo "missing $c (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
	done
fi
W=$(mktemp -d /tmp/vivo-pkgtest.XXXXXX)
cleanup() {
	if [ "$keep" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
ver=$(dpkg-parsechangelog -l debian/changelog -SVersion)
SRC=$W/pam-vivo-$ver
mkdir -p "$SRC"
if [ "$from_head" = 1 ]; then
	git archive HEAD | tar -x -C "$SRC"
elif git rev-parse --git-dir >/dev/null 2>&1; then
	# tracked and untracked, not ignored; not the ones deleted in the tree
	git ls-files -c -o --exclude-standard | sort -u |
		while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
		tar --no-recursion -T - -cf - | tar -xf - -C "$SRC"
else
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$SRC"
fi
if [ -z "$debs" ]; then
	echo "building in $SRC (log: $W/build.log)"
	t "dpkg-buildpackage -us -uc -b" \
	    "(cd '$SRC' && dpkg-buildpackage -us -uc -b) >'$W/build.log' 2>&1 || { tail -40 '$W/build.log'; false; }"
	debs=$W
fi
DEB_PAM="" DEB_ENROLL=""
for f in "$debs"/libpam-vivo_*_*.deb; do [ -f "$f" ] && DEB_PAM=$f; done
for f in "$debs"/vivo-enroll_*_*.deb; do [ -f "$f" ] && DEB_ENROLL=$f; done
t "libpam-vivo and vivo-enroll .debs exist" "[ -f '$DEB_PAM' ] && [ -f '$DEB_ENROLL' ]"
if [ ! -f "$DEB_PAM" ] || [ ! -f "$DEB_ENROLL" ]; then
	echo "package: $pass passed, $fail failed, $skipped skipped"; exit 1
fi

# ---- phase 2: the .debs as files ------------------------------------------
x=$W/x
mkdir -p "$x/pam" "$x/enroll" "$x/ctl"
dpkg-deb -x "$DEB_PAM" "$x/pam"
dpkg-deb -x "$DEB_ENROLL" "$x/enroll"
dpkg-deb -e "$DEB_PAM" "$x/ctl/pam"
dpkg-deb -e "$DEB_ENROLL" "$x/ctl/enroll"
dpkg-deb -c "$DEB_PAM" >"$x/pam.list"
dpkg-deb -c "$DEB_ENROLL" >"$x/enroll.list"
# "mode owner path" for every entry
entries() { awk '{ print $1, $2, $6 }' "$1"; }
has() { entries "$x/$1.list" | grep -qx -- "$2"; }

t "libpam-vivo: module 0644 root in /lib/$arch/security" \
    "has pam '-rw-r--r-- root/root ./lib/$arch/security/pam_vivo.so'"
t "libpam-vivo: helper 0755 root, no setuid, in /usr/libexec/pam_vivo" \
    "has pam '-rwxr-xr-x root/root ./usr/libexec/pam_vivo/vivo-helper'"
t "libpam-vivo: /etc/security/pam_vivo.conf 0644 root" \
    "has pam '-rw-r--r-- root/root ./etc/security/pam_vivo.conf'"
t "libpam-vivo: the profile /usr/share/pam-configs/vivo" \
    "has pam '-rw-r--r-- root/root ./usr/share/pam-configs/vivo'"
t "libpam-vivo: pam_vivo(8) and pam_vivo.conf(5)" \
    "has pam '-rw-r--r-- root/root ./usr/share/man/man8/pam_vivo.8.gz' &&
     has pam '-rw-r--r-- root/root ./usr/share/man/man5/pam_vivo.conf.5.gz'"
t "libpam-vivo: README.Debian" \
    "has pam '-rw-r--r-- root/root ./usr/share/doc/libpam-vivo/README.Debian.gz'"
t "libpam-vivo: nothing outside its directories" \
    "! entries '$x/pam.list' | awk '{ print \$3 }' | grep -v -e '/\$' \
       -e '^\./lib/$arch/security/pam_vivo\.so\$' -e '^\./usr/libexec/pam_vivo/' \
       -e '^\./etc/security/pam_vivo\.conf\$' -e '^\./usr/share/pam-configs/vivo\$' \
       -e '^\./usr/share/doc/libpam-vivo/' -e '^\./usr/share/man/' \
       -e '^\./usr/share/lintian/overrides/libpam-vivo\$' \
       -e '^\./usr/lib/tmpfiles\.d/libpam-vivo\.conf\$' | grep ."
t "libpam-vivo: tmpfiles.d makes /run/pam_vivo root's, 1777 (one tap, one request)" \
    "grep -qx 'd /run/pam_vivo 1777 root root -' '$x/pam/usr/lib/tmpfiles.d/libpam-vivo.conf'"
t "libpam-vivo: no setuid/setgid file" \
    "! entries '$x/pam.list' | awk '{ print \$1 }' | grep -q '[sS]'"
t "vivo-enroll: /usr/bin/vivo-enroll 0755 root and vivo-enroll(1)" \
    "has enroll '-rwxr-xr-x root/root ./usr/bin/vivo-enroll' &&
     has enroll '-rw-r--r-- root/root ./usr/share/man/man1/vivo-enroll.1.gz'"
t "vivo-enroll: nothing but the tool and its docs" \
    "! entries '$x/enroll.list' | awk '{ print \$3 }' | grep -v -e '/\$' \
       -e '^\./usr/bin/vivo-enroll\$' -e '^\./usr/share/doc/vivo-enroll/' \
       -e '^\./usr/share/man/man1/vivo-enroll\.1\.gz\$' | grep ."
t "module: helper path compiled in is /usr/libexec/pam_vivo/vivo-helper" \
    "grep -aq /usr/libexec/pam_vivo/vivo-helper '$x/pam/lib/$arch/security/pam_vivo.so'"
t "module: links libpam and libc only" \
    "[ \"\$(objdump -p '$x/pam/lib/$arch/security/pam_vivo.so' | awk '/NEEDED/ { print \$2 }' | sort | tr '\n' ' ')\" = 'libc.so.6 libpam.so.0 ' ]"
t "conffiles: exactly /etc/security/pam_vivo.conf" \
    "[ \"\$(cat '$x/ctl/pam/conffiles')\" = /etc/security/pam_vivo.conf ]"
field() { dpkg-deb -f "$1" "$2"; }
t "libpam-vivo Depends: pcscd, libpam-runtime" \
    "field '$DEB_PAM' Depends | tr ',' '\n' | grep -qx ' *pcscd' &&
     field '$DEB_PAM' Depends | grep -q 'libpam-runtime'"
t "libpam-vivo Recommends: vivo-enroll" \
    "field '$DEB_PAM' Recommends | grep -q vivo-enroll"
t "libpam-vivo Depends: libfido2-1 (the helper dlopen()s it for fido2)" \
    "field '$DEB_PAM' Depends | grep -q 'libfido2-1'"
t "libpam-vivo Depends: libldap (the helper dlopen()s it for a directory)" \
    "field '$DEB_PAM' Depends | grep -q 'libldap-2.5-0 | libldap2'"
t "vivo-enroll Depends: libpam-vivo (= the same version)" \
    "field '$DEB_ENROLL' Depends | grep -q \"libpam-vivo (= \$(field '$DEB_PAM' Version))\""
prof=$x/pam/usr/share/pam-configs/vivo
t "profile: Name, Default: no, Auth-Type: Primary" \
    "grep -qx 'Name: NFC implant authentication (pam_vivo)' '$prof' &&
     grep -qx 'Default: no' '$prof' && grep -qx 'Auth-Type: Primary' '$prof'"
unixprio=$(sed -n 's/^Priority: //p' /usr/share/pam-configs/unix 2>/dev/null)
t "profile: Priority above unix's (${unixprio:-256})" \
    "[ \"\$(sed -n 's/^Priority: //p' '$prof')\" -gt ${unixprio:-256} ]"
t "profile: Auth and Auth-Initial are [success=end default=ignore] pam_vivo.so" \
    "[ \"\$(grep -A1 -x 'Auth:' '$prof' | sed -n 2p)\" = \"\$(printf '\t[success=end default=ignore]\tpam_vivo.so')\" ] &&
     [ \"\$(grep -A1 -x 'Auth-Initial:' '$prof' | sed -n 2p)\" = \"\$(printf '\t[success=end default=ignore]\tpam_vivo.so')\" ]"
# maintainer scripts: the commands they run, comments and shell syntax aside
cmds() {
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' -e '^set -e$' \
	    -e '^if \[' -e '^fi$' "$1" 2>/dev/null | sed 's/^[[:space:]]*//'
}
# debhelper adds its own systemd-tmpfiles call for the tmpfiles.d entry
t "postinst: only 'pam-auth-update --package', on configure (and debhelper's tmpfiles --create)" \
    "[ \"\$(cmds '$x/ctl/pam/postinst' | grep -v -x -e 'systemd-tmpfiles .*--create libpam-vivo.conf.* || true' -e 'if \[ -x .*systemd-tmpfiles.* \]; then' -e fi)\" = 'pam-auth-update --package' ] &&
     grep -q '^if \[ \"\$1\" = configure \]; then\$' '$x/ctl/pam/postinst'"
t "prerm: only 'pam-auth-update --package --remove vivo', on remove (also run by purge)" \
    "[ \"\$(cmds '$x/ctl/pam/prerm')\" = 'pam-auth-update --package --remove vivo' ] &&
     grep -q '^if \[ \"\$1\" = remove \]' '$x/ctl/pam/prerm'"
t "no postrm/preinst in libpam-vivo; vivo-enroll's only script is its postinst" \
    "[ ! -e '$x/ctl/pam/postrm' ] && [ ! -e '$x/ctl/pam/preinst' ] &&
     [ -z \"\$(ls '$x/ctl/enroll' | grep -v -e '^control\$' -e '^md5sums\$' -e '^postinst\$')\" ]"
t "vivo-enroll postinst: only 'vivo-enroll migrate' (old stores to the protected layout), on configure" \
    "cmds '$x/ctl/enroll/postinst' | grep -qx 'vivo-enroll migrate || echo .*' &&
     [ \"\$(cmds '$x/ctl/enroll/postinst' | grep -v -e '^vivo-enroll migrate' | wc -l)\" = 0 ] &&
     grep -q '^if \[ \"\$1\" = configure \]' '$x/ctl/enroll/postinst'"
if command -v lintian >/dev/null 2>&1; then
	set -- "$DEB_PAM" "$DEB_ENROLL"
	for f in "$debs"/*.changes; do [ -f "$f" ] && set -- "$f"; done
	lintian --allow-root -I --pedantic "$@" >"$W/lintian.txt" 2>&1
	sed 's/^/       lintian: /' "$W/lintian.txt"
	t "lintian: no errors" "! grep -q '^E: ' '$W/lintian.txt'"
elif [ "${VIVO_REQUIRE_DEPS:-}" = 1 ]; then
	t "lintian is installed (tests/install-deps.sh installs it)" false
else
	skipped=$((skipped + 1))
	echo "skip package: lintian: not installed"
fi

# ---- phase 3 ---------------------------------------------------------------
if [ "$no_pam" = 0 ]; then
	# the harness's own binaries (module copies, pamdrive) for test_package
	make -s -C "$SRC" PREFIX=/usr all build/tests/pamdrive >"$W/make.log" 2>&1 ||
		{ cat "$W/make.log"; echo "FAIL package: make pamdrive"; fail=$((fail + 1)); }
fi
VPCD_PKG=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/integration")
import harness; print(harness.VPCD_PKG)')
cat >"$W/env" <<EOF
VPCD_PKG='$VPCD_PKG'
DEB_PAM='$DEB_PAM'
DEB_ENROLL='$DEB_ENROLL'
SRC='$SRC'
no_pam=$no_pam
EOF
unshare --mount --propagation private sh "$0" --phase-namespace "$W"
if [ -f "$W/ns/count" ]; then
	read -r p f s <"$W/ns/count"
	pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
else
	echo "FAIL package: the namespace phase did not finish"; fail=$((fail + 1))
fi
echo "package: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
