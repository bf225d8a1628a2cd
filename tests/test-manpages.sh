#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The man pages against the code, in both directions:
#   - pam_vivo(8): the PAM arguments parse_args() in pam_vivo/pam_vivo.c
#     accepts (SYNOPSIS and OPTIONS);
#   - vivo-enroll(1): the commands main() in helper/vivo-enroll.c knows, the
#     options parse_opts() is allowed to take for each command and the ones
#     usage() shows (SYNOPSIS per command, COMMANDS, OPTIONS); a command of
#     two words ("authtok set": strcmp(cmd, "authtok") then
#     strcmp(argv[i], "set") in the same condition) is one command;
#   - pam_vivo.conf(5): the settings parse_setting(), parse_u2f(),
#     parse_fido2() and parse_services() (the keys of one group of
#     `services`) in helper/lib/config.c accept (SETTINGS), and the method
#     names.
# Also renders every page with groff/man and fails on any warning (skipped
# when groff or man is not installed, e.g. in a minimal build chroot; a
# failure instead with VIVO_REQUIRE_DEPS=1, which `make check` sets: there
# tests/install-deps.sh has installed them).
# Prints one line per check and ends with
# "manpages: N passed, N failed, N skipped".
# Needs no root; runs during the Debian package build.
set -u
cd "$(dirname "$0")/.." || exit 1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0
fail=0
skipped=0
ok() { pass=$((pass + 1)); echo "ok   manpages: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL manpages: $1"; }
# a check that needs a program tests/install-deps.sh installs
missing() {
	if [ "${VIVO_REQUIRE_DEPS:-}" = 1 ]; then
		bad "$1: $2 is not installed (tests/install-deps.sh installs it)"
	else
		skipped=$((skipped + 1)); echo "skip manpages: $1: $2 is not installed"
	fi
}

# same WHAT CODEFILE MANFILE: the two sorted lists must be equal.
same() {
	sort -u "$2" >"$d/a"
	sort -u "$3" >"$d/b"
	if [ ! -s "$d/a" ]; then
		bad "$1: nothing found in the code (has the code changed shape?)"
	elif cmp -s "$d/a" "$d/b"; then
		ok "$1 ($(tr '\n' ' ' <"$d/a" | sed 's/ $//'))"
	else
		bad "$1"
		comm -23 "$d/a" "$d/b" | sed 's/^/       in the code, not in the man page: /'
		comm -13 "$d/a" "$d/b" | sed 's/^/       in the man page, not in the code: /'
	fi
}

# roff source -> plain words: \- to -, no font escapes, \(dq to ", no \c
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' -e 's/\\c//g' \
	    -e 's/\\(lq//g' -e 's/\\(rq//g'
}

# the lines of section NAME of a man page (without the .SH line)
section() {
	awk -v s="$2" '/^\.SH /{ on = ($0 == ".SH " s); next } on' "$1"
}

# The .TP tags of a section, "depth<TAB>tag" (depth 1 inside .RS/.RE).
tags() {
	section "$1" "$2" | awk '
		/^\.RS/ { depth++; next }
		/^\.RE/ { depth--; next }
		/^\.TP/ { want = 1; next }
		want { want = 0; print depth + 0 "\t" $0 }'
}

# a roff macro line -> its text ("\.B x y" -> "x y"), quotes removed
unmacro() {
	sed -e 's/^\.[A-Z]* *//' -e 's/"//g' | plain
}

# ---- pam_vivo(8) ------------------------------------------------------
awk '/^parse_args\(/ { on = 1 } on && /^}/ { on = 0 } on' pam_vivo/pam_vivo.c |
	grep -o 'str[n]*cmp(s, "[^"]*"' | sed 's/.*"\(.*\)"/\1/' >"$d/code"
section man/pam_vivo.8 SYNOPSIS | grep '^\.RB \[' | unmacro |
	awk '{ print $2 }' >"$d/man"
same "pam_vivo(8) SYNOPSIS: PAM arguments" "$d/code" "$d/man"
tags man/pam_vivo.8 OPTIONS | cut -f2 | unmacro | awk '{ print $1 }' \
	>"$d/man"
same "pam_vivo(8) OPTIONS: PAM arguments" "$d/code" "$d/man"

# ---- vivo-enroll(1) ---------------------------------------------------
src=helper/vivo-enroll.c
# main(): "CMD OPTION" for every option parse_opts() allows after CMD (the
# allowed string may be split over several literals and lines), and
# "global --config". A word compared with strcmp(argv[i], "WORD") after
# strcmp(cmd, ...) and before the parse_opts() makes CMD two words
# ("authtok set"); the command is printed at its parse_opts().
awk '
	/^main\(/ { inmain = 1 }
	!inmain { next }
	/strcmp\(argv\[i\], "--config"\)/ { print "global --config" }
	{
		line = $0
		while (match(line, /strcmp\((cmd|argv\[i\]), "[^"]*"\)/)) {
			m = substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
			word = m; sub(/^[^"]*"/, "", word); sub(/"\)$/, "", word)
			if (m ~ /^strcmp\(cmd,/) {
				if (pending != "")   # "--help", then "-h"
					print "command " pending
				cmd = word; pending = word
			} else if (pending != "" && word ~ /^[a-z][a-z0-9-]*$/) {
				cmd = pending " " word; pending = cmd
			}
		}
	}
	/parse_opts\(/ { acc = ""; collecting = 1
		if (pending != "") print "command " pending
		pending = "" }
	collecting {
		line = $0
		while (match(line, /"[^"]*"/)) {
			acc = acc substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /&o\);/) {
			collecting = 0
			n = split(acc, w, " ")
			for (i = 1; i <= n; i++) print cmd " " w[i]
		}
	}
	END { if (pending != "") print "command " pending }' "$src" >"$d/parse"
# usage(): the same pairs from its text
awk '/^usage\(void\)/ { on = 1 } on && /^}/ { on = 0 } on' "$src" |
	grep -o '"[^"]*"' | sed 's/^"//; s/"$//' | tr -d '\n' |
	sed 's/\\n/\n/g' | awk '
	/^usage:/ { for (i = 1; i <= NF; i++) if ($i ~ /^\[?--/) {
		o = $i; gsub(/[][]/, "", o); print "global " o } next }
	/^  [a-z]/ { cmd = $1; if ($2 ~ /^[a-z][a-z0-9-]*$/) cmd = cmd " " $2
		print "command " cmd }
	{ for (i = 1; i <= NF; i++) { o = $i; gsub(/[][()|]/, "", o)
		if (o ~ /^--/) print cmd " " o } }' >"$d/usage"
# the man page: SYNOPSIS blocks (separated by .br), one per command form;
# a lower-case word right after the command word makes it two ("authtok
# set")
section man/vivo-enroll.1 SYNOPSIS | plain | awk '
	/^\.br/ { flush(); next }
	{ line = $0; sub(/^\.[A-Z]* */, "", line); gsub(/"/, " ", line)
	  n = split(line, w, /[ \t]+/)
	  for (i = 1; i <= n; i++) { t = w[i]; gsub(/[][()|]/, "", t)
		if (t == "") continue
		if (t == "add" || t == "list" || t == "remove" || t == "test" ||
		    t == "probe" || t == "migrate" || t == "authtok" ||
		    t == "export") {
			cmd = t; justcmd = 1; continue
		}
		if (justcmd && t ~ /^[a-z][a-z0-9-]*$/) cmd = cmd " " t
		else if (t ~ /^-/) opts[++no] = t
		justcmd = 0 } }
	function flush(   i) {
		justcmd = 0
		if (cmd == "") {   # "vivo-enroll --help | -h"
			for (i = 1; i <= no; i++) print "command " opts[i]
		} else {
			print "command " cmd
			for (i = 1; i <= no; i++)
				print (opts[i] == "--config" ? "global" : cmd) " " opts[i]
		}
		cmd = ""; no = 0
	}
	END { flush() }' >"$d/mansyn"

same "vivo-enroll(1) SYNOPSIS: commands and options per command (parse_opts)" \
	"$d/parse" "$d/mansyn"
grep -v -e '^command --help' -e '^command -h' "$d/parse" >"$d/parse2"
grep -v -e '^command --help' -e '^command -h' "$d/mansyn" >"$d/mansyn2"
same "vivo-enroll usage(): commands and options per command (parse_opts)" \
	"$d/parse2" "$d/usage"

# COMMANDS: the depth-0 tags (".B authtok set": two words); OPTIONS: every
# option the code knows
grep '^command [a-z]' "$d/parse" | cut -d' ' -f2- >"$d/code"
tags man/vivo-enroll.1 COMMANDS | awk -F'\t' '$1 == 0 { print $2 }' |
	unmacro | awk '{ c = $1; if ($2 ~ /^[a-z][a-z0-9-]*$/) c = c " " $2
		print c }' >"$d/man"
same "vivo-enroll(1) COMMANDS" "$d/code" "$d/man"
grep -v '^command [a-z]' "$d/parse" | awk '{ print $NF }' >"$d/code"
tags man/vivo-enroll.1 OPTIONS | cut -f2 | unmacro | tr ', ' '\n' |
	grep '^-' >"$d/man"
same "vivo-enroll(1) OPTIONS" "$d/code" "$d/man"

# methods: config.c's method_names[] against add's --method entries
awk '/method_names\[\] = \{/ { on = 1 } on && /^};/ { on = 0 } on' \
	helper/lib/config.c | grep -o '{ "[a-z0-9]*"' | sed 's/.*"\(.*\)"/\1/' \
	>"$d/code"
tags man/vivo-enroll.1 COMMANDS | awk -F'\t' '$1 == 1 { print $2 }' |
	unmacro | awk '$1 == "--method" { print $2 }' >"$d/man"
same "vivo-enroll(1) add --method: methods" "$d/code" "$d/man"

# ---- pam_vivo.conf(5) -------------------------------------------------
cfg=helper/lib/config.c
{
	awk '/^parse_setting\(/ { on = 1 } on && /^}/ { on = 0 } on' "$cfg" |
		grep -o 'strcmp(name, "[^"]*"' | sed 's/.*"\(.*\)"/\1/'
	awk '/^parse_u2f\(/ { on = 1 } on && /^}/ { on = 0 } on' "$cfg" |
		grep -o 'strcmp(name, "[^"]*"' | sed 's/.*"\(.*\)"/u2f.\1/'
	awk '/^parse_fido2\(/ { on = 1 } on && /^}/ { on = 0 } on' "$cfg" |
		grep -o 'strcmp(name, "[^"]*"' | sed 's/.*"\(.*\)"/fido2.\1/'
	# the keys of one group of `services` (parse_services() names them k)
	awk '/^parse_services\(/ { on = 1 } on && /^}/ { on = 0 } on' "$cfg" |
		grep -o 'strcmp(k, "[^"]*"' | sed 's/.*"\(.*\)"/services.\1/'
} >"$d/code"
tags man/pam_vivo.conf.5 SETTINGS | awk -F'\t' '
	{ t = $2; sub(/^\.[A-Z]* */, "", t); gsub(/"/, "", t)
	  split(t, w, /[ =]+/)
	  if ($1 == 0) { parent = w[1]; print w[1] }
	  else print parent "." w[1] }' >"$d/man"
same "pam_vivo.conf(5) SETTINGS: config keys" "$d/code" "$d/man"

# ---- rendering without warnings ----------------------------------------
for page in man/pam_vivo.8 man/vivo-enroll.1 man/pam_vivo.conf.5; do
	if command -v groff >/dev/null 2>&1; then
		if LC_ALL=C.UTF-8 groff -ww -man -z "$page" >"$d/w" 2>&1 &&
		    [ ! -s "$d/w" ]; then
			ok "$page: groff -ww -man: no warnings"
		else
			bad "$page: groff -ww -man warns"; sed 's/^/       /' "$d/w"
		fi
	else
		missing "$page: groff -ww -man" groff
	fi
	if ! command -v man >/dev/null 2>&1 || ! command -v groff >/dev/null 2>&1; then
		missing "$page: man --warnings" "man or groff"
	else
		LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 \
		    -l -Tutf8 -Z "$page" >/dev/null 2>"$d/w"
		if [ ! -s "$d/w" ]; then
			ok "$page: man --warnings: no warnings"
		else
			bad "$page: man --warnings warns"; sed 's/^/       /' "$d/w"
		fi
	fi
done

echo "manpages: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
