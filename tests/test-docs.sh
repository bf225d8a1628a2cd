#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The numbers the docs state against the constants of the code they describe:
#   - docs/helper-protocol.md: the wire format (VIVO_MSG_MAX,
#     VIVO_PROTO_VERSION, message types, tags, flags, results, string
#     limits from struct vivo_msg), the deadlines (STARTUP_MS, GRACE_MS,
#     REAP_MS and the start-up and reap details of pam_vivo.c,
#     REQUEST_WAIT_MS, WATCHDOG_MARGIN_MS and the write bound of
#     vivo-helper.c), VIVO_TIMEOUT_MAX, VIVO_USER_MAX;
#   - docs/config.md: VIVO_CONFIG_MAX, the default timeout, VIVO_TIMEOUT_MAX,
#     VIVO_READERS_MAX and the sizes of struct vivo_config, VIVO_PATH_MAX,
#     VIVO_SERVICES_MAX, VIVO_SERVICE_NAME_MAX, the module's start-up and
#     grace bounds;
#   - docs/enrollment-format.md: VIVO_STORE_MAX, VIVO_ENTRIES_MAX,
#     VIVO_LABEL_MAX, VIVO_USER_MAX, the uid/hmac/u2f lengths, the hand-scan
#     index's key and file sizes (identify.h);
#   - docs/security.md: VIVO_TAPREG_CONTEST_MS, the watchdog and module
#     bounds in the fault matrix, the challenge lengths;
#   - pam_vivo.conf(5), vivo-enroll(1): a few of the same.
# Each constant is read from the C source with sed/awk; each check finds the
# doc's line (a paragraph, whitespace collapsed) by an anchor and requires
# the number there. Prints one line per check and ends with
# "docs: N passed, N failed, N skipped". Needs no root and no build.
set -u
cd "$(dirname "$0")/.." || exit 1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   docs: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL docs: $1"; }

# ---- reading the code ---------------------------------------------------

# These run in $(...): what they cannot find goes to $d/missing, reported
# (FAIL) once the constants are read; the value is then empty.
missing() { echo "$1 (has the code changed shape?)" >>"$d/missing"; }

# def FILE NAME: the value of "#define NAME value", evaluated (64 * 1024,
# 0x1u; an integer suffix at the end of the line too).
def() {
	v=$(sed -n "s/^#define $2[ 	][ 	]*\([^/]*\).*/\1/p" "$1" | head -n 1 |
	    sed -e 's/\([0-9a-fA-Fx]\)[uUlL]*\([^0-9a-fA-Fx]\|$\)/\1\2/g' \
	    -e 's/[ 	]*$//' -e 's/\([0-9a-fA-Fx]\)[uUlL][uUlL]*$/\1/')
	case $v in
	''|*[!0-9a-fA-Fx\ \(\)*+-]*) missing "$1: #define $2 not found or not a number"; return ;;
	esac
	echo $(($v))
}

# enumval FILE NAME: the value of "NAME = N," in an enum.
enumval() {
	v=$(sed -n "s/^[ 	]*$2 = \([0-9][0-9]*\),*.*/\1/p" "$1" | head -n 1)
	[ -n "$v" ] || missing "$1: enum value $2 not found"
	echo "$v"
}

# func FILE NAME: the body of a C function whose name starts a line.
func() {
	awk -v f="$2" '$0 ~ "^" f "\\(" { on = 1 } on; on && /^}/ { exit }' "$1"
}

# grab WHAT TEXT SED-EXPR: one value out of TEXT; FAIL when missing.
grab() {
	v=$(printf '%s\n' "$2" | sed -n "$3" | head -n 1)
	[ -n "$v" ] || missing "$1 not found in the code"
	echo "$v"
}

# s MS: milliseconds as the docs write seconds (10000 -> 10, 500 -> 0.5)
s() { awk -v ms="$1" 'BEGIN { printf "%g", ms / 1000 }'; }

# ---- reading the docs ---------------------------------------------------

# The doc as one line per paragraph (a table row, a code line or a list
# item stays one line), whitespace collapsed, roff escapes removed.
norm() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' -e 's/\\(em/—/g' \
	    -e 's/^\.[A-Z][A-Z]* //' "$1" |
	awk 'function flush() { if (p != "") print p; p = "" }
	     /^```/ { flush(); fence = !fence; next }
	     fence { print; next }
	     /^[ \t]*$/ { flush(); next }
	     /^([|]|[-*] |[0-9]+\. )/ { flush(); p = $0; next }
	     { p = (p == "" ? $0 : p " " $0) }
	     END { flush() }' |
	tr -s ' \t' '  '
}
squash() { printf '%s' "$1" | tr -s ' \t' '  '; }

# has DOC WHAT ANCHOR EXPECTED: a line of DOC holding ANCHOR must hold
# EXPECTED too (fixed strings). Shows the anchored lines when none does.
has() {
	f=$d/$(echo "$1" | tr '/' '_')
	[ -f "$f" ] || norm "$1" >"$f"
	a=$(squash "$3")
	e=$(squash "$4")
	grep -F -e "$a" "$f" >"$d/lines"
	if [ ! -s "$d/lines" ]; then
		bad "$1: $2: no line with \"$a\" (has the doc changed shape?)"
	elif grep -F -q -e "$e" "$d/lines"; then
		ok "$1: $2"
	else
		bad "$1: $2: expected \"$e\" where the doc says:"
		cut -c1-300 "$d/lines" | sed 's/^/       /'
	fi
}

# ---- the constants ------------------------------------------------------

P=helper/lib/proto.h
MSG_MAX=$(def $P VIVO_MSG_MAX)
VERSION=$(def $P VIVO_PROTO_VERSION)
PATH_MAX=$(def $P VIVO_PATH_MAX)
TEXT_MAX=$(def $P VIVO_TEXT_MAX)
FLAG_DEBUG=$(printf '0x%x' "$(def $P VIVO_FLAG_DEBUG)")
FLAG_REMOTE=$(printf '0x%x' "$(def $P VIVO_FLAG_REMOTE)")
FLAG_IDENTIFY=$(printf '0x%x' "$(def $P VIVO_FLAG_IDENTIFY)")
T_AUTH=$(enumval $P VIVO_MSG_AUTH)
T_WAIT=$(enumval $P VIVO_MSG_WAIT)
T_RESULT=$(enumval $P VIVO_MSG_RESULT)
R_MAX=$(grab "VIVO_R_MAX" "$(cat $P)" 's/^[ 	]*VIVO_R_MAX = \(VIVO_R_[A-Z_]*\).*/\1/p')
R_MAX=$(enumval $P "$R_MAX")

M=pam_vivo/pam_vivo.c
STARTUP=$(def $M STARTUP_MS)
GRACE=$(def $M GRACE_MS)
REAP=$(def $M REAP_MS)
RH=$(func $M run_helper)
# the start-up bound with timeout=N: N s + EXTRA ms when under STARTUP_MS
EXTRA=$(grab "run_helper(): a->timeout * 1000 + EXTRA" "$RH" \
    's/.*a->timeout \* 1000 + \([0-9][0-9]*\).*/\1/p')
# the largest N for which N s + EXTRA ms < STARTUP_MS
NMAX=$(( (STARTUP - EXTRA - 1) / 1000 ))
WAITCAP=$(grab "run_helper(): the WAIT's timeout cap" "$RH" \
    's/.*m\.timeout > \([0-9][0-9]*\) ?.*/\1/p')
POLL_US=$(grab "reap(): usleep() without pidfds" "$(func $M reap)" \
    's/.*usleep(\([0-9][0-9]*\)).*/\1/p')
POLL_MS=$(s "$POLL_US")
ARGMAX=$(grab "parse_args(): timeout= range" "$(func $M parse_args)" \
    's/.*vivo_parse_uint(s + 8, 1, \([0-9][0-9]*\),.*/\1/p')

H=helper/vivo-helper.c
REQ=$(def $H REQUEST_WAIT_MS)
WD=$(def $H WATCHDOG_MARGIN_MS)
WRITE=$(grab "write_msg(): the write bound" "$(func $H write_msg)" \
    's/.*vivo_now_ms() + \([0-9][0-9]*\)).*/\1/p')

C=helper/lib/config.h
CONFIG_MAX=$(def $C VIVO_CONFIG_MAX)
TIMEOUT_MAX=$(def $C VIVO_TIMEOUT_MAX)
READERS_MAX=$(def $C VIVO_READERS_MAX)
SERVICES_MAX=$(def $C VIVO_SERVICES_MAX)
SERVICE_NAME_MAX=$(def $C VIVO_SERVICE_NAME_MAX)
STORE_DEFAULT=$(grab "VIVO_STORE_DEFAULT" "$(cat $C)" \
    's/^#define VIVO_STORE_DEFAULT "\(.*\)"/\1/p')
# sizes of struct vivo_config's strings
field() {
	grab "struct $1: $2[]" "$(awk "/^struct $1 \\{/,/^};/" "$3" |
	    grep "char $2\[")" 's/.*\[\([0-9][0-9]*\)\];.*/\1/p'
}
READER_SZ=$(field vivo_config readers $C)
STORE_SZ=$(field vivo_config store $C)
APPID_SZ=$(field vivo_config appid $C)
DEF_TIMEOUT=$(grab "vivo_config_defaults(): timeout" \
    "$(func helper/lib/config.c vivo_config_defaults)" \
    's/.*c->timeout = \([0-9][0-9]*\);.*/\1/p')
HOST_SZ=$(grab "vivo_config_defaults(): host[]" \
    "$(func helper/lib/config.c vivo_config_defaults)" \
    's/.*char host\[\([0-9][0-9]*\)\];.*/\1/p')

U=helper/lib/util.h
USER_MAX=$(def $U VIVO_USER_MAX)
LABEL_MAX=$(def $U VIVO_LABEL_MAX)

S=helper/lib/store.h
STORE_MAX=$(def $S VIVO_STORE_MAX)
ENTRIES_MAX=$(def $S VIVO_ENTRIES_MAX)
STORE_VERSION=$(def $S VIVO_STORE_VERSION)
SALT=$(def $S VIVO_UID_SALT_LEN)
HASH=$(def $S VIVO_UID_HASH_LEN)
ITER_MIN=$(def $S VIVO_UID_ITER_MIN)
ITER_MAX=$(def $S VIVO_UID_ITER_MAX)
ITER_DEFAULT=$(def helper/lib/uid.h VIVO_UID_ITER_DEFAULT)

HM=helper/lib/hmac.h
HKEY=$(def $HM VIVO_HMAC_KEY_LEN)
HCHAL=$(def $HM VIVO_HMAC_CHAL_LEN)
HNONCE=$(def $HM VIVO_HMAC_NONCE_LEN)
HTAG=$(def $HM VIVO_HMAC_TAG_LEN)
HSEALED=$((HNONCE + HKEY + HTAG))

F=helper/lib/u2f.h
U2F_PUB=$(def $F VIVO_U2F_PUB_LEN)
U2F_KH=$(def $F VIVO_U2F_KH_MAX)
U2F_PARAM=$(def $F VIVO_U2F_PARAM_LEN)
U2F_APPID=$(def $F VIVO_U2F_APPID_MAX)

CONTEST=$(def helper/lib/tapreg.h VIVO_TAPREG_CONTEST_MS)

I=helper/lib/identify.h
ID_KEY=$(def $I VIVO_IDENTIFY_KEY_LEN)
ID_FILE_MAX=$(def $I VIVO_IDENTIFY_FILE_MAX)

if [ -s "$d/missing" ]; then
	while read -r m; do bad "$m"; done <"$d/missing"
fi

# the code against itself, where the docs state one number for two places
if [ "$WAITCAP" = "$TIMEOUT_MAX" ] && [ "$ARGMAX" = "$TIMEOUT_MAX" ]; then
	ok "code: the module's timeout= range and WAIT cap are VIVO_TIMEOUT_MAX ($TIMEOUT_MAX)"
else
	bad "code: timeout= max $ARGMAX, WAIT cap $WAITCAP, VIVO_TIMEOUT_MAX $TIMEOUT_MAX differ"
fi

# ---- docs/helper-protocol.md ------------------------------------------
D=docs/helper-protocol.md
has $D "VIVO_MSG_MAX in the message layout" "u32 length" "2 … $MSG_MAX"
has $D "VIVO_PROTO_VERSION in the message layout" "u8 version" \
    "u8 version $VERSION"
has $D "message types" "u8 type" \
    "$T_AUTH AUTH, $T_WAIT WAIT, $T_RESULT RESULT"

# every tag of enum vivo_tag: number, type and (strings) limit
sed -n 's/^[ 	]*VIVO_TAG_\([A-Z]*\) = \([0-9]*\),.*/\1 \2/p' $P >"$d/tags"
[ -s "$d/tags" ] || bad "$P: no VIVO_TAG_* values (has the code changed shape?)"
awk '/^struct vivo_msg \{/,/^};/' $P >"$d/msg"
while read -r name num; do
	lc=$(echo "$name" | tr 'A-Z' 'a-z')
	sz=$(sed -n "s/^[ 	]*char $lc\[\([0-9A-Z_]*\)\];.*/\1/p" "$d/msg")
	case $sz in
	'') has $D "tag $num ($lc, u32)" "| $lc | u32 |" "| $num | $lc | u32 |" ;;
	*[A-Z]*) sz=$(def $P "$sz")
	    has $D "tag $num ($lc, string of $sz)" "| $lc | string |" \
	        "| $num | $lc | string | $((sz - 1)) bytes |" ;;
	*)  has $D "tag $num ($lc, string of $sz)" "| $lc | string |" \
	        "| $num | $lc | string | $((sz - 1)) bytes |" ;;
	esac
done <"$d/tags"
has $D "VIVO_FLAG_* in the tag table" "| flags | u32 |" \
    "bit 0 (\`$FLAG_DEBUG\`) debug, bit 1 (\`$FLAG_REMOTE\`) remote (\`PAM_RHOST\` set), bit 2 (\`$FLAG_IDENTIFY\`) identify"
has $D "VIVO_R_MAX in the tag table" "| result | u32 |" "| 0 … $R_MAX |"

# the results: vivo_result_str()'s names, in value order
func helper/lib/proto.c vivo_result_str | awk '/names\[\] = \{/,/\};/' |
	grep -o '"[^"]*"' | tr -d '"' >"$d/results"
[ "$(wc -l <"$d/results")" -eq $((R_MAX + 1)) ] ||
	bad "proto.c: vivo_result_str() does not name 0..$R_MAX (has the code changed shape?)"
i=0
while read -r r; do
	has $D "result $i ($r)" "| $r | $i |" "| $r | $i |"
	i=$((i + 1))
done <"$d/results"

has $D "Validation: VIVO_MSG_MAX" "| the length word is" "2 … $MSG_MAX"
has $D "Validation: version" "unsupported protocol version" \
    "| version $VERSION |"
has $D "Validation: types" "unknown message type" \
    "| type $T_AUTH, $T_WAIT or $T_RESULT |"
has $D "Validation: VIVO_R_MAX" "unknown result" "| result ≤ $R_MAX |"
has $D "Validation: flags" "unknown flags" \
    "\`$FLAG_DEBUG\`, \`$FLAG_REMOTE\` and \`$FLAG_IDENTIFY\`"
has $D "VIVO_USER_MAX" "| Check the user name:" "1 to $USER_MAX bytes"

has $D "STARTUP_MS and the timeout=N start-up bound" "| module | sending AUTH" \
    "$(s "$STARTUP") s from the start of the request; with \`timeout=N\` and N ≤ $NMAX, N + $(s "$EXTRA") s"
has $D "GRACE_MS and the WAIT cap" "| module | after WAIT" \
    "the WAIT's timeout (at most $WAITCAP s) + $(s "$GRACE") s"
has $D "REAP_MS" "| module | after RESULT" "| $(s "$REAP") s ("
has $D "reap() without pidfds" "| module | after RESULT" \
    "every $POLL_MS ms"
has $D "REQUEST_WAIT_MS" "| helper | reading AUTH" "| $(s "$REQ") s |"
has $D "WATCHDOG_MARGIN_MS" "| helper | watchdog" \
    "its timeout + $(s "$WD") s"
has $D "write_msg() bound" "| helper | writing WAIT or RESULT" \
    "| $(s "$WRITE") s each |"
has $D "VIVO_TIMEOUT_MAX" "The helper's timeout is the request's" \
    "never more than $TIMEOUT_MAX s"
has $D "REAP_MS (the module, in addition)" "exits normally with status 0" \
    "within $(s "$REAP") s"
has $D "reap() without pidfds (the module, in addition)" \
    "exits normally with status 0" "by looking every $POLL_MS ms"
has $D "WAIT cap (the module, in addition)" "caps the WAIT's timeout" \
    "at $WAITCAP s"
has $D "REQUEST_WAIT_MS (the helper, in addition)" "reads one message within" \
    "within $(s "$REQ") s"
has $D "REQUEST_WAIT_MS (what the helper answers)" "| no valid AUTH within" \
    "within $(s "$REQ") s |"
has $D "REAP_MS (answers without a RESULT)" "did not exit with status 0 within" \
    "within $(s "$REAP") s"

# ---- docs/config.md -----------------------------------------------------
D=docs/config.md
has $D "VIVO_CONFIG_MAX" "| size |" "at most $CONFIG_MAX bytes"
has $D "default timeout, VIVO_TIMEOUT_MAX" "| \`timeout\` | integer |" \
    "| \`$DEF_TIMEOUT\` | 1 … $TIMEOUT_MAX |"
has $D "VIVO_TIMEOUT_MAX (error text)" "Errors: \`timeout:" \
    "\`timeout: expected 1..$TIMEOUT_MAX seconds\`"
has $D "VIVO_READERS_MAX, readers[][]" "| \`readers\` |" \
    "at most $READERS_MAX strings, each 1 … $((READER_SZ - 1)) bytes"
has $D "VIVO_STORE_DEFAULT, store[]" "| \`store\` | string |" \
    "| \`\"$STORE_DEFAULT\"\` | an absolute path of at most $((STORE_SZ - 1)) bytes |"
has $D "appid[]" "| \`u2f.appid\` |" "1 … $((APPID_SZ - 1)) bytes"
has $D "host[] of the default appid" "followed by the host name" \
    "at most $((HOST_SZ - 1)) bytes of it"
has $D "GRACE_MS" "The module gives the helper" \
    "gives the helper $(s "$GRACE") s more than this"
has $D "timeout= range, STARTUP_MS and the start-up bound" "| \`timeout=N\` |" \
    "1 … $ARGMAX (decimal digits only)"
has $D "the timeout=N start-up bound" "| \`timeout=N\` |" \
    "to N + $(s "$EXTRA") s when that is less than $(s "$STARTUP") s"
has $D "VIVO_PATH_MAX" "| \`config=PATH\` |" "shorter than $PATH_MAX bytes"
has $D "VIVO_SERVICES_MAX, VIVO_SERVICE_NAME_MAX" "| \`services\` |" \
    "at most $SERVICES_MAX groups, each named after a PAM service (1 … $SERVICE_NAME_MAX bytes)"
has $D "VIVO_SERVICES_MAX (error text)" "Errors: \`services:" \
    "\`services: at most $SERVICES_MAX\`"

# ---- docs/enrollment-format.md -----------------------------------------
D=docs/enrollment-format.md
has $D "VIVO_USER_MAX" "is the PAM user name" "1 to $USER_MAX bytes"
has $D "VIVO_STORE_MAX" "| size |" \
    "at most $STORE_MAX bytes ($((STORE_MAX / 1024)) KiB)"
has $D "VIVO_STORE_VERSION" "| \`version\` | integer |" \
    "must be \`$STORE_VERSION\`"
has $D "VIVO_ENTRIES_MAX" "| \`implants\` |" "at most $ENTRIES_MAX entries"
has $D "VIVO_LABEL_MAX" "| \`label\` | string |" "1 to $LABEL_MAX bytes"
has $D "uid salt length" "salt = \"<" \
    "<$SALT bytes, $((SALT * 2)) hex digits>"
has $D "uid hash length" "hash = \"<" \
    "<$HASH bytes, $((HASH * 2)) hex digits>"
has $D "uid iterations" "| \`iterations\` |" \
    "from $ITER_MIN to $ITER_MAX; \`vivo-enroll\` writes $ITER_DEFAULT"
has $D "uid salt (table)" "| \`salt\` |" "$SALT random bytes"
has $D "uid hash (table)" "| \`hash\` |" "PBKDF2-HMAC-SHA256, $HASH bytes"
has $D "hmac challenge length" "challenge = \"<" \
    "<$HCHAL bytes, $((HCHAL * 2)) hex digits>"
has $D "hmac sealed length" "sealed = \"<" \
    "<$HSEALED bytes, $((HSEALED * 2)) hex digits>"
has $D "hmac challenge (table)" "| \`challenge\` |" "the $HCHAL-byte challenge"
has $D "hmac sealed layout" "| \`sealed\` |" \
    "nonce ($HNONCE) ‖ ciphertext ($HKEY) ‖ GCM tag ($HTAG): the slot's $HKEY-byte secret"
has $D "u2f key handle" "keyhandle = \"<" "<1 to $U2F_KH bytes in hex>"
has $D "u2f public key" "pubkey = \"<" \
    "<$U2F_PUB bytes, $((U2F_PUB * 2)) hex digits"
has $D "u2f appid" "| \`appid\` |" "1 to $U2F_APPID bytes"
has $D "VIVO_IDENTIFY_KEY_LEN" "<store>/.identify/.key" "$ID_KEY random bytes"
has $D "VIVO_IDENTIFY_KEY_LEN (reading)" "the key must be" \
    "exactly $ID_KEY bytes"
has $D "VIVO_IDENTIFY_FILE_MAX" "A hint file is at most" \
    "at most $ID_FILE_MAX bytes ($((ID_FILE_MAX / 1024)) KiB)"

# ---- docs/security.md -----------------------------------------------------
D=docs/security.md
has $D "VIVO_TAPREG_CONTEST_MS" "a marker counts" \
    "up to $(s "$CONTEST") s after the contested one"
has $D "WATCHDOG_MARGIN_MS (who can do what)" "| **A malicious or broken chip** |" \
    "timeout + $(s "$WD") s (watchdog)"
has $D "WATCHDOG_MARGIN_MS (fault 15)" "| 15 |" "T + $(s "$WD") s"
has $D "REAP_MS (fault 31)" "| 31 |" "killed $(s "$REAP") s after its answer"
has $D "STARTUP_MS and the start-up bound (fault 34)" "| 34 |" \
    "killed at T + $(s "$EXTRA") s with \`timeout=\`, else $(s "$STARTUP") s"
has $D "VIVO_STORE_MAX (fault 43)" "| 43 |" "over $((STORE_MAX / 1024)) KiB"
has $D "VIVO_U2F_PARAM_LEN, VIVO_HMAC_CHAL_LEN" "| proof |" \
    "fresh $U2F_PARAM-byte host challenge"
has $D "VIVO_HMAC_CHAL_LEN" "| proof |" "$HCHAL-byte host challenge"

# ---- man pages --------------------------------------------------------------
D=man/pam_vivo.conf.5
has $D "VIVO_TIMEOUT_MAX" "Seconds to wait for a tap," "1 to $TIMEOUT_MAX."
has $D "default timeout" "Seconds to wait for a tap," "Default: $DEF_TIMEOUT."
has $D "VIVO_CONFIG_MAX" "and at most" "at most $((CONFIG_MAX / 1024)) KiB"
D=man/vivo-enroll.1
has $D "VIVO_ENTRIES_MAX" "implants per user" \
    "at most $ENTRIES_MAX implants per user and store"
has $D "VIVO_LABEL_MAX" "a name for the implant" "1 to $LABEL_MAX bytes"
has $D "VIVO_TIMEOUT_MAX" "Seconds to wait for a tap," "1 to $TIMEOUT_MAX"

# ---- the licence (BSD-2-Clause): LICENSE, and an SPDX line near the top
# of every source file git tracks (C, Python, shell, make, man pages)
missing=""
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
	for f in $(git ls-files '*.c' '*.h' '*.py' '*.sh' '*.mk' 'Makefile' \
	    '.ci/run' 'debian/rules' 'man/*.[158]'); do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: BSD-2-Clause' ||
			missing="$missing $f"
	done
	if [ -z "$missing" ] && grep -q '^BSD 2-Clause License$' LICENSE; then
		ok "licence: LICENSE is BSD-2-Clause, every source file has its SPDX line"
	else
		bad "licence: LICENSE, or the SPDX line in:$missing"
	fi
fi

echo "docs: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
