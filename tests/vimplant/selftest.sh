#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# selftest.sh - end-to-end check of vimplant.py against a real pcscd + vpcd.
#
# Run as root, after tests/install-deps.sh (which unpacks vsmartcard's vpcd
# into the build tree: it is not installed on the machine).  Everything
# happens in private namespaces so that the system pcscd (its /run/pcscd
# socket) is never touched and no other host can reach our vpcd:
#
#   unshare --mount --net --propagation private --pid --fork --kill-child
#           --mount-proc
#       A private mount namespace lets us put a tmpfs over /run: pcscd 1.9.9
#       always creates its socket as /run/pcscd/pcscd.comm.  The PID
#       namespace makes sure pcscd and every vimplant die with this script.
#       The network namespace has only its loopback (`ip link set lo up`):
#       vpcd listens on every address, and here that is 127.0.0.1 alone.
#   mount -t tmpfs -o mode=755 tmpfs /run
#   pcscd --foreground --config $WORK/reader.conf
#       -c/--config accepts a single reader.conf FILE or a DIRECTORY of them
#       (then it reads every regular file in it); /etc/reader.conf.d is not
#       read at all.  The file:
#           FRIENDLYNAME "Virtual PCD"
#           DEVICENAME   /dev/null:$PORT
#           LIBPATH      $VPCD (VPCD_DRIVER of tests/integration/harness.py)
#           CHANNELID    $PORT
#       vpcd then listens on 0.0.0.0:$PORT (reader "Virtual PCD 00 00") and
#       0.0.0.0:$PORT+1 (reader "Virtual PCD 00 01").  PC/SC clients
#       (pcsc_scan, scriptor, the PAM module) must run in the same mount
#       namespace; pcscd here is built without polkit, so any uid may use it.
#
# Set KEEP=1 to keep the work directory (logs) for inspection.
# The last line of output is "vimplant: N passed, N failed, 0 skipped" (nothing is
# ever skipped: a missing tool fails its check); the exit status is 0 only
# if nothing failed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
VIMPLANT=$HERE/vimplant.py

if [ "${1:-}" != --in-namespace ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "selftest.sh: must be run as root" >&2
        exit 2
    fi
    exec unshare --mount --net --propagation private --pid --fork \
        --kill-child --mount-proc /bin/bash "$HERE/${0##*/}" --in-namespace
fi
ip link set lo up || exit 1
VPCD=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$HERE/../integration')
import harness; print(harness.VPCD_DRIVER)") || exit 1
if [ ! -e "$VPCD" ]; then
    echo "selftest.sh: no $VPCD: run 'sh tests/install-deps.sh' (as root)" >&2
    exit 2
fi

WORK=$(mktemp -d /tmp/vimplant-selftest.XXXXXX)
PASSED=0
FAILED=0
PCSCD_PID=
READER0="Virtual PCD 00 00"
READER1="Virtual PCD 00 01"

cleanup() {
    if [ -n "$PCSCD_PID" ]; then
        kill "$PCSCD_PID" 2>/dev/null
        wait "$PCSCD_PID" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "# work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# --- helpers -----------------------------------------------------------------

ok() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $1${2:+: $2}"; }

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi
}

# now_ms: wall clock in milliseconds.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# atr SLOT: the ATR of the card in reader SLOT (0/1), empty if none.
atr() {
    pcsc_scan -c 2>/dev/null | awk -v r="Reader $1:" '
        index($0, r) { mine = 1; next }
        /Reader [0-9]+:/ { mine = 0 }
        mine && /ATR:/ { sub(/.*ATR: /, ""); sub(/ *$/, ""); print }'
}

# wait_card SLOT present|absent [TIMEOUT_S]: poll until the state is reached.
wait_card() {
    local deadline=$(($(now_ms) + ${3:-3} * 1000)) a
    while [ "$(now_ms)" -lt "$deadline" ]; do
        a=$(atr "$1")
        if [ "$2" = present ] && [ -n "$a" ]; then return 0; fi
        if [ "$2" = absent ] && [ -z "$a" ]; then return 0; fi
        sleep 0.01
    done
    return 1
}

# wait_file FILE [TIMEOUT_S]
wait_file() {
    local deadline=$(($(now_ms) + ${2:-3} * 1000))
    until [ -e "$1" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.01
    done
}

# xfer SLOT APDU...: send the APDUs with scriptor in one card session and
# print each response as one line of space-separated hex bytes.
xfer() {
    local slot=$1; shift
    printf '%s\n' "$@" | scriptor -r "Virtual PCD 00 0$slot" 2>/dev/null |
        tr '\n' ' ' | tr -s ' ' | grep -o '< [0-9A-F ]*:' |
        sed 's/^< //; s/ *:$//'
}

# tap NAME SLOT ARGS...: once reader SLOT is empty, start vimplant on it in
# the background, logging to $WORK/NAME.log with ready file $WORK/NAME.ready;
# sets TAP_PID.  Consecutive taps alternate between the two slots so that
# nobody waits for vpcd's 400 ms poll to notice the previous removal.
tap() {
    local name=$1 slot=$2; shift 2
    wait_card "$slot" absent
    rm -f "$WORK/$name.log" "$WORK/$name.ready"
    "$VIMPLANT" --port $((PORT + slot)) --log "$WORK/$name.log" \
        --ready-file "$WORK/$name.ready" "$@" 2>"$WORK/$name.err" &
    TAP_PID=$!
}

# untap: SIGTERM the current vimplant; set STATUS to its exit status.
untap() {
    kill -TERM "$TAP_PID"
    wait "$TAP_PID"
    STATUS=$?
}

# --- private pcscd with vpcd on a random free port --------------------------

mount -t tmpfs -o mode=755 tmpfs /run || exit 1

port_in_use() {
    [ -n "$(ss -Hltn "( sport = :$1 or sport = :$(($1 + 1)) )")" ]
}

start_pcscd() {
    local deadline
    for _ in 1 2 3 4 5; do
        PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
        # never the ports of a system vpcd (0x8C7B = 35963, slot 1 = +1),
        # though this namespace has none
        if [ $((PORT + 1)) -ge 35963 ] && [ "$PORT" -le 35964 ]; then continue; fi
        port_in_use "$PORT" && continue
        cat >"$WORK/reader.conf" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      $VPCD
CHANNELID    $PORT
EOF
        pcscd --foreground --config "$WORK/reader.conf" >"$WORK/pcscd.log" 2>&1 &
        PCSCD_PID=$!
        # A port clash fails quietly (pcscd runs, the reader is missing), so
        # wait for both the readers and vpcd's listening sockets.
        deadline=$(($(now_ms) + 3000))
        while [ "$(now_ms)" -lt "$deadline" ]; do
            if pcsc_scan -r 2>/dev/null | grep -q "$READER1" &&
                [ "$(ss -Hltn "( sport = :$PORT or sport = :$((PORT + 1)) )" |
                     wc -l)" -eq 2 ]; then
                return 0
            fi
            sleep 0.05
        done
        kill "$PCSCD_PID"
        wait "$PCSCD_PID"
        PCSCD_PID=
    done
    return 1
}

START=$(now_ms)
if start_pcscd; then
    ok "pcscd with vpcd up on port $PORT (+1) in $(($(now_ms) - START)) ms"
else
    not_ok "start pcscd with vpcd"
    echo "vimplant: $PASSED passed, $FAILED failed, 0 skipped"
    exit 1
fi
check "reader names" "0: $READER0|1: $READER1" \
    "$(pcsc_scan -r 2>/dev/null | paste -sd'|')"
check "no card before the tap" "" "$(atr 0)"

# --- ntag216 on slot 0: tap, ATR, GET DATA, timings ------------------------

UID_NTAG="04 A2 24 F2 3A 5E 80"
tap ntag 0 --personality ntag216
if wait_file "$WORK/ntag.ready"; then
    T0=$(now_ms)
    if wait_card 0 present; then
        ok "ntag216 visible $(($(now_ms) - T0)) ms after the TCP connect"
    else
        not_ok "ntag216 visible on $READER0"
    fi
else
    not_ok "ready file created"
fi
check "ntag216 ATR" \
    "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 03 00 00 00 00 68" "$(atr 0)"
check "GET DATA: Le 00/07/04/10, P1 01, bad P1/P2, CLA A0, FF INS 00" \
    "$UID_NTAG 90 00|$UID_NTAG 90 00|6C 07|$UID_NTAG 62 82|6A 81|6B 00|6B 00|6E 00|6D 00" \
    "$(xfer 0 'FF CA 00 00 00' 'FF CA 00 00 07' 'FF CA 00 00 04' \
        'FF CA 00 00 10' 'FF CA 01 00 00' 'FF CA 02 00 00' 'FF CA 00 01 00' \
        'A0 A4 04 00 02 3F 00' 'FF 00 00 00 00' | paste -sd'|')"
check "log records the exchange" "connect|> FFCA000000|< 04A224F23A5E809000" \
    "$(grep -E '^(connect|[<>] FFCA000000|< 04A224F23A5E809000)$' \
        "$WORK/ntag.log" | head -3 | paste -sd'|')"
check "log records vpcd control messages" "yes" \
    "$(grep -q '^ctrl 04$' "$WORK/ntag.log" && grep -q '^ctrl 01$' \
        "$WORK/ntag.log" && echo yes)"

# APDU round trip: 201 commands vs 1 command in one scriptor session each.
MANY=()
for _ in $(seq 200); do MANY+=('FF CA 00 00 00'); done
T0=$(now_ms); xfer 0 'FF CA 00 00 00' >/dev/null; T1=$(now_ms)
N=$(xfer 0 'FF CA 00 00 00' "${MANY[@]}" | grep -c '90 00$'); T2=$(now_ms)
RTT_US=$(( ((T2 - T1) - (T1 - T0)) * 1000 / 200 ))
if [ "$N" -eq 201 ] && [ "$RTT_US" -lt 10000 ]; then
    ok "APDU round trip ${RTT_US} us (through scriptor, pcscd, vpcd)"
else
    not_ok "APDU round trip" "$N/201 answered, ${RTT_US} us each"
fi

check "non-root client (nobody) can use pcscd" "$UID_NTAG 90 00" \
    "$(echo 'FF CA 00 00 00' | setpriv --reuid=65534 --regid=65534 \
        --clear-groups scriptor -r "$READER0" 2>/dev/null |
        sed -n 's/^< \(.*\) : .*/\1/p')"

T0=$(now_ms)
untap
check "SIGTERM: exit status 0" 0 "$STATUS"
if wait_card 0 absent; then
    ok "removal seen $(($(now_ms) - T0)) ms after SIGTERM"
else
    not_ok "card removed after SIGTERM"
fi
check "log ends with close" close "$(tail -n1 "$WORK/ntag.log")"

# --- other personalities ----------------------------------------------------

tap mifare 1 --personality mifare1k
wait_card 1 present
check "mifare1k ATR on slot 1" \
    "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A" "$(atr 1)"
check "mifare1k UID" "A1 B2 C3 D4 90 00" "$(xfer 1 'FF CA 00 00 00')"
untap

tap jc 0 --personality javacard --uid 04112233445566
wait_card 0 present
check "javacard ATR" "3B 8A 80 01 4A 43 4F 50 33 31 56 32 33 32 7A" "$(atr 0)"
check "javacard: --uid, ATS bytes, SELECT, unknown INS, unknown CLA" \
    "04 11 22 33 44 55 66 90 00|4A 43 4F 50 33 31 56 32 33 32 90 00|6A 82|6D 00|6E 00" \
    "$(xfer 0 'FF CA 00 00 00' 'FF CA 01 00 00' \
        '00 A4 04 00 07 A0 00 00 05 27 20 01 00' '00 B0 00 00 00' \
        'A0 B0 00 00 00' | paste -sd'|')"
untap

tap nouid 1 --personality no-uid
wait_card 1 present
check "no-uid GET DATA" "6A 81|6A 81" \
    "$(xfer 1 'FF CA 00 00 00' 'FF CA 01 00 00' | paste -sd'|')"
untap

# random-uid: two taps must show two different 08xxxxxx UIDs.
tap rnd 0 --personality random-uid --taps 2 --hold 0.5 --gap 0.3
UIDS=()
for _ in 1 2; do
    wait_card 0 present
    UIDS+=("$(xfer 0 'FF CA 00 00 00')")
    wait_card 0 absent
done
wait "$TAP_PID"
STATUS=$?
if [[ ${UIDS[0]} =~ ^08(\ [0-9A-F]{2}){3}\ 90\ 00$ ]] &&
    [[ ${UIDS[1]} =~ ^08(\ [0-9A-F]{2}){3}\ 90\ 00$ ]] &&
    [ "${UIDS[0]}" != "${UIDS[1]}" ]; then
    ok "random-uid: fresh UID per tap (${UIDS[0]% 90 00} / ${UIDS[1]% 90 00})"
else
    not_ok "random-uid" "${UIDS[*]}"
fi
check "--taps 2 --hold: two connect/close pairs, exit 0" "2 2 0" \
    "$(grep -c '^connect$' "$WORK/rnd.log") $(grep -c '^close$' \
        "$WORK/rnd.log") $STATUS"

# --- removal and timing options ---------------------------------------------

tap rm 1 --remove-after 2
wait_card 1 present
# Surprise: vpcd turns the EOF into an empty R-APDU, so the interrupted
# SCardTransmit "succeeds" with 0 bytes (only the next one fails).
check "--remove-after 2: second APDU gets an empty answer" \
    "$UID_NTAG 90 00|" \
    "$(xfer 1 'FF CA 00 00 00' 'FF CA 00 00 00' | paste -sd'|')"
wait "$TAP_PID"
STATUS=$?
check "--remove-after: log and exit status" "> FFCA000000|close|0" \
    "$(tail -n2 "$WORK/rm.log" | paste -sd'|')|$STATUS"

tap late 0 --delay 0.5 --hold 0.2
T0=$(now_ms)
sleep 0.25
if [ ! -e "$WORK/late.ready" ] && wait_file "$WORK/late.ready" &&
    [ $(($(now_ms) - T0)) -ge 500 ]; then
    ok "--delay 0.5 postpones the tap"
else
    not_ok "--delay 0.5 postpones the tap"
fi
wait "$TAP_PID"
check "--hold 0.2: exits 0 by itself" 0 $?

T0=$(now_ms)
"$VIMPLANT" --port 1 --connect-timeout 0.3 2>"$WORK/refused.err"
STATUS=$?
ELAPSED=$(($(now_ms) - T0))
if [ "$STATUS" -eq 3 ] && [ "$ELAPSED" -ge 300 ] && [ -s "$WORK/refused.err" ]; then
    ok "refused connection: exit 3 after ${ELAPSED} ms with a message"
else
    not_ok "refused connection" "status $STATUS after $ELAPSED ms"
fi

# --- faults -----------------------------------------------------------------

# fault_reply NAME SLOT FAULT...: tap with the faults, send FF CA 00 00 00
# and print the R-APDU the log says was sent ("none" if nothing was).
fault_reply() {
    local name=$1 slot=$2; shift 2
    tap "$name" "$slot" "${@/#/--fault=}"
    wait_card "$slot" present
    timeout 0.5 scriptor -r "Virtual PCD 00 0$slot" <<<'FF CA 00 00 00' \
        >/dev/null 2>&1
    untap
    grep '^< ' "$WORK/$name.log" | cut -c3- | grep . || echo none
}

check "fault wrong-sw=6985" 6985 "$(fault_reply wsw 1 wrong-sw=6985)"
check "fault endless-61" 61FF "$(fault_reply e61 0 endless-61)"
check "fault short" 04 "$(fault_reply short 1 short)"
check "fault silent" none "$(fault_reply silent 0 silent)"
REPLY=$(fault_reply garbage 1 garbage)
if [[ $REPLY =~ ^([0-9A-F]{2}){0,10}$|^none$ ]]; then
    ok "fault garbage ($REPLY)"
else
    not_ok "fault garbage" "$REPLY"
fi
check "fault oversized: 65535-byte reply" 131070 \
    "$(fault_reply big 0 oversized | tr -d '\n' | wc -c)"

tap slow 1 --fault slow=0.3
wait_card 1 present
T0=$(now_ms); xfer 1 'FF CA 00 00 00' >/dev/null; T1=$(now_ms)
xfer 1 'FF CA 00 00 00' 'FF CA 00 00 00' >/dev/null; T2=$(now_ms)
if [ $(((T2 - T1) - (T1 - T0))) -ge 280 ]; then
    ok "fault slow=0.3 ($(((T2 - T1) - (T1 - T0))) ms per APDU)"
else
    not_ok "fault slow=0.3" "$(((T2 - T1) - (T1 - T0))) ms per APDU"
fi
untap

# --- applets: HMAC-SHA1 challenge-response and FIDO U2F ---------------------

# Everything cryptographic is checked with an independent Python snippet
# (python3-cryptography for ECDSA/X.509), never by importing vimplant.
read -r -d '' PYHELP <<'EOF'
import hashlib, hmac, sys

def crc16(data):
    """YubiKey CRC-16: reflected CCITT 0x8408, init 0xFFFF."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0x8408
    return crc

# known answers published with python-yubico / yubiotp
assert crc16(bytes([1, 2, 3, 4])) == 0xC66E
assert crc16(bytes.fromhex("8792ebfe26cc130030c20011c89f23c8")) == 0xF0B8

def spaced(data):
    return " ".join(f"{b:02X}" for b in data)

def der_length(data):
    """Total length of the DER element at the start of data."""
    if data[1] < 0x80:
        return 2 + data[1]
    n = data[1] & 0x7F
    return 2 + n + int.from_bytes(data[2:2 + n], "big")

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "program":      # P1 KEY ACC CURRENT-ACC [TKT [corrupt]]
    p1, key, acc, cur = args[0], *map(bytes.fromhex, args[1:4])
    tkt = int(args[4], 16) if len(args) > 4 else 0x40
    # fixed[16] uid[6] key[16] accCode[6] fixedSize extFlags tktFlags
    # cfgFlags (CHAL_HMAC 0x22 | HMAC_LT64 0x04) rfu[2]
    cfg = (bytes(16) + key[16:20] + bytes(2) + key[:16] + acc
           + bytes([0, 0, tkt, 0x26]) + bytes(2))
    cfg += (~crc16(cfg) & 0xFFFF).to_bytes(2, "little")
    assert crc16(cfg) == 0xF0B8 and len(cfg) == 52
    if len(args) > 5:
        cfg = cfg[:-1] + bytes([cfg[-1] ^ 0x5A])
    print((bytes.fromhex(f"0001{p1}003A") + cfg + cur).hex().upper())
elif cmd == "hmac":       # KEY MESSAGE
    key, msg = map(bytes.fromhex, args)
    print(spaced(hmac.new(key, msg, hashlib.sha1).digest()))
elif cmd in ("register", "authenticate"):
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    ecdsa = ec.ECDSA(hashes.SHA256())
    if cmd == "register":   # CHALLENGE APPLICATION REPLY-DATA
        chal, app, reply = map(bytes.fromhex, args)
        assert reply[0] == 0x05, "reserved byte"
        pub, khlen = reply[1:66], reply[66]
        kh, rest = reply[67:67 + khlen], reply[67 + khlen:]
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
        cert = x509.load_der_x509_certificate(rest[:der_length(rest)])
        sig = rest[der_length(rest):]
        assert der_length(sig) == len(sig), "signature DER length"
        try:
            cert.public_key().verify(sig, b"\0" + app + chal + kh + pub, ecdsa)
            ok = "ok"
        except InvalidSignature:
            ok = "bad"
        print(kh.hex().upper(), pub.hex().upper(), khlen, ok)
    else:                   # PUBKEY CHALLENGE APPLICATION REPLY-DATA
        pub, chal, app, reply = map(bytes.fromhex, args)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
        try:
            key.verify(reply[5:], app + reply[:5] + chal, ecdsa)
            ok = "ok"
        except InvalidSignature:
            ok = "bad"
        print(f"{reply[0]:02X}", int.from_bytes(reply[1:5], "big"), ok)
EOF
py() { /usr/bin/python3 -c "$PYHELP" "$@"; }

# sc_open SLOT: run scriptor on reader SLOT as a coprocess, so that an APDU
# can depend on the previous answer; sc_send APDU (unspaced hex) sets RESP
# to the answer (spaced hex, "" if none within 5 s); sc_close ends it.
# (Coprocess descriptors do not survive $(...): call sc_send directly.)
sc_open() {
    coproc SC { exec scriptor -u -r "Virtual PCD 00 0$1" 2>/dev/null; }
    SC_IN=${SC[1]} SC_OUT=${SC[0]} SC_PID_SAVED=$SC_PID
}
sc_send() {
    local line got=
    RESP=
    echo "$1" >&"$SC_IN" || return 1
    while IFS= read -r -t 5 line <&"$SC_OUT"; do
        case $line in
            '< '*) got=1; RESP=${line#< } ;;
            *) if [ -n "$got" ]; then RESP="$RESP $line"; fi ;;
        esac
        if [ -n "$got" ] && [[ $line == *' : '* ]]; then break; fi
    done
    RESP=${RESP%% : *}
    RESP=$(tr -s ' ' <<<"$RESP")
    RESP=${RESP# }
    RESP=${RESP% }
}
sc_close() {
    eval "exec $SC_IN>&- $SC_OUT<&-"
    wait "$SC_PID_SAVED" 2>/dev/null
}

# exchange APDU: sc_send APDU, then GET RESPONSE (00 C0 00 00 xx) while the
# status word is 61 xx.  Sets DATA (unspaced hex of all the data), SW (final
# status word), SWS (all status words, "|"-separated), PIECES (R-APDUs
# received) and BIGGEST (largest piece, bytes).
exchange() {
    local body
    sc_send "$1"
    DATA='' SWS='' PIECES=0 BIGGEST=0
    while [ -n "$RESP" ] && [ "$PIECES" -lt 64 ]; do
        PIECES=$((PIECES + 1))
        SW=${RESP: -5}
        SWS+=${SWS:+|}$SW
        body=
        if [ ${#RESP} -gt 5 ]; then body=${RESP:0:${#RESP}-6}; fi
        body=${body// /}
        DATA+=$body
        if [ $((${#body} / 2)) -gt "$BIGGEST" ]; then BIGGEST=$((${#body} / 2)); fi
        [[ $SW == 61\ * ]] || return 0
        sc_send "00C00000${SW#61 }"
    done
    SW=none
}

# hexlen HEX: the number of bytes as 2 hex digits.
hexlen() { printf '%02X' $((${#1} / 2)); }

K1=303132333435363738393A3B3C3D3E3F40414243   # the RFC 2202 / Yubico vector
K2=0102030405060708090A0B0C0D0E0F1011121314
ACC=A1A2A3A4A5A6
ZERO6=000000000000
SEL7=00A4040007A0000005272001
SEL8=00A4040008A000000527200101
SEL_U2F=00A4040008A0000006472F0001
VECTOR="53616D706C65202332$(printf '%0110d' 0)"   # "Sample #2" + 55 x 00
VECTOR_HMAC="09 22 D3 40 5F AA 3D 19 4F 82 A4 58 30 73 7D 5C C6 C7 5D 24"
MSG2=$(printf 'vimplant selftest' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
CHAL2="$MSG2$(printf '%094d' 0)"                   # 17 bytes + 47 x 00
HMAC2=$(py hmac "$K2" "$MSG2")
HMAC_STATE=$WORK/hmac.json
REPLAY=$WORK/replay.jsonl

tap hm 0 --personality apex --hmac-slot1 "$K1" --hmac-state "$HMAC_STATE" \
    --fault "hmac-replay=$REPLAY"
wait_card 0 present
check "apex ATR" "3B 89 80 01 4A 43 4F 50 34 20 50 37 31 5C" "$(atr 0)"
ST1="03 04 00 01 01 00 90 00"
check "HMAC: SELECT (7/8-byte AID), STATUS, SERIAL, vector, empty slot 2, padding only, Lc, INS, CLA, P1" \
    "$ST1|$ST1|$ST1|00 BC 61 4E 90 00|$VECTOR_HMAC 90 00|90 00|69 84|67 00|6D 00|6E 00|6A 86" \
    "$(xfer 0 $SEL7 $SEL8 0003000006 0001100006 "0001300040$VECTOR" \
        "0001380040$VECTOR" "0001300040$(printf 'AA%.0s' {1..64})" \
        "000130003F$(printf '%0126d' 0)" 0005000000 8003000006 00012000 |
        paste -sd'|')"
check "HMAC: PROGRAM slot 2 (bad CRC, bad flags, ok), CHALLENGE with the new key, access code wrong/right" \
    "$ST1|6A 80|6A 81|03 04 00 02 03 00 90 00|$HMAC2 90 00|69 82|03 04 00 03 03 00 90 00" \
    "$(xfer 0 $SEL7 "$(py program 03 $K2 $ACC $ZERO6 40 corrupt)" \
        "$(py program 03 $K2 $ACC $ZERO6 20)" "$(py program 03 $K2 $ACC $ZERO6)" \
        "0001380040${CHAL2}00" "$(py program 03 $K2 $ACC $ZERO6)" \
        "$(py program 03 $K2 $ACC $ACC)" | paste -sd'|')"
untap

# Another process (tap) on the same state file, javacard with an --hmac-*
# option (applets installed), only the 8-byte instance AID.
ST3="03 04 00 03 03 00 90 00"
tap hm2 1 --personality javacard --hmac-state "$HMAC_STATE" --hmac-aid 8
wait_card 1 present
check "HMAC state file across runs; --hmac-aid 8; U2F on javacard with options" \
    "6A 82|$ST3|$HMAC2 90 00|$VECTOR_HMAC 90 00|55 32 46 5F 56 32 90 00" \
    "$(xfer 1 $SEL7 $SEL8 "0001380040$CHAL2" "0001300040${VECTOR}00" \
        "$SEL_U2F" | paste -sd'|')"
untap

check "hmac-replay recorded 2 exchanges" 2 "$(grep -c '"response"' "$REPLAY")"
tap rp 0 --personality apex --fault "hmac-replay-use=$REPLAY"
wait_card 0 present
check "hmac-replay-use: any challenge gets the last recorded response" \
    "03 04 00 00 00 00 90 00|$HMAC2 90 00" \
    "$(xfer 0 $SEL7 "0001300040$(printf '5A%.0s' {1..63})00" | paste -sd'|')"
untap

tap rmh 1 --personality apex --hmac-slot1 "$K1" --remove-after 2
wait_card 1 present
check "--remove-after 2 between SELECT and the challenge" "$ST1|" \
    "$(xfer 1 $SEL7 "0001300040$VECTOR" | paste -sd'|')"
wait "$TAP_PID"
check "--remove-after with the applet: exit status" 0 $?

# --- U2F ---

CHAL=$(printf 'u2f challenge' | sha256sum | cut -c1-64 | tr a-f A-F)
APP=$(printf 'pam_vivo' | sha256sum | cut -c1-64 | tr a-f A-F)
APP2=$(printf 'another app' | sha256sum | cut -c1-64 | tr a-f A-F)
U2F_STATE=$WORK/u2f.json
REGISTER="0001000040$CHAL${APP}00"

# auth P1 KH [APP]: an AUTHENTICATE APDU (short, Le 00).
auth() {
    local body
    body=$CHAL${3:-$APP}$(hexlen "$2")$2
    echo "0002${1}00$(hexlen "$body")${body}00"
}

tap u2f 0 --personality apex --u2f-state "$U2F_STATE" --u2f-chunk 90
wait_card 0 present
sc_open 0
sc_send "$SEL_U2F"
check "U2F SELECT" "55 32 46 5F 56 32 90 00" "$RESP"
exchange "$REGISTER"
check "REGISTER through 61 xx / GET RESPONSE, --u2f-chunk 90" "90 00 yes" \
    "$SW $([ "$PIECES" -ge 6 ] && [ "$BIGGEST" -le 90 ] && echo yes)"
echo "#      register reply: $((${#DATA} / 2)) bytes in $PIECES pieces"
read -r KH PUB KHLEN REGSIG <<<"$(py register "$CHAL" "$APP" "$DATA")"
check "REGISTER: 64-byte key handle, attestation signature verifies" "64 ok" \
    "${KHLEN:-} ${REGSIG:-}"
exchange "$(auth 03 "$KH")"
check "AUTHENTICATE: UP, counter 1, signature verifies" "90 00|01 1 ok" \
    "$SW|$(py authenticate "$PUB" "$CHAL" "$APP" "$DATA")"
BODY=$CHAL${APP}40$KH
sc_send "1002080040${BODY:0:128}"
CHAINED=$RESP
exchange "0002080041${BODY:128}"
check "AUTHENTICATE by command chaining (CLA 10), P1 08, no Le: counter 2" \
    "90 00|90 00|01 2 ok" \
    "$CHAINED|$SW|$(py authenticate "$PUB" "$CHAL" "$APP" "$DATA")"
RESPS=()
for apdu in "$(auth 07 "$KH")" "$(auth 07 "$KH" "$APP2")" \
    "$(auth 03 "$KH" "$APP2")" "$(auth 03 "${KH:0:126}")" \
    "000100003F${CHAL}${APP:0:62}" 0005000000 8001000000 00C0000000; do
    sc_send "$apdu"
    RESPS+=("$RESP")
done
check "check-only, other app, short handle, bad Lc, INS, CLA, GET RESPONSE" \
    "69 85|6A 80|6A 80|6A 80|67 00|6D 00|6E 00|69 85" \
    "$(IFS='|'; echo "${RESPS[*]}")"
exchange "00010000000040$CHAL${APP}0000"
read -r _ _ _ REGSIG2 <<<"$(py register "$CHAL" "$APP" "$DATA")"
check "extended REGISTER: whole reply at once, verifies" "1 90 00 ok" \
    "$PIECES $SW ${REGSIG2:-}"
sc_close
untap

tap u2f2 1 --personality javacard --u2f-state "$U2F_STATE" \
    --u2f-counter-step odd-random --no-extended
wait_card 1 present
mapfile -t R < <(xfer 1 "$SEL_U2F" "$(auth 03 "$KH")" "$(auth 03 "$KH")" \
    "00010000000040$CHAL${APP}0000")
read -r UP3 C3 OK3 <<<"$(py authenticate "$PUB" "$CHAL" "$APP" "${R[1]% 90 00}")"
read -r UP4 C4 OK4 <<<"$(py authenticate "$PUB" "$CHAL" "$APP" "${R[2]% 90 00}")"
if [ "$UP3$OK3$UP4$OK4" = 01ok01ok ] && [ $(((C3 - 2) % 2)) = 1 ] &&
    [ "$C3" -le 17 ] && [ $(((C4 - C3) % 2)) = 1 ] && [ "$C4" -le $((C3 + 15)) ]; then
    ok "--u2f-state: registration works in the next run; odd-random counter 2 -> $C3 -> $C4"
else
    not_ok "--u2f-state / odd-random" "${R[*]} / $C3 $C4"
fi
check "--no-extended: extended APDU answered 67 00" "67 00" "${R[3]:-}"
untap

tap u2ff 0 --personality apex --u2f-state "$U2F_STATE" \
    --fault u2f-up-clear --fault u2f-counter-stuck
wait_card 0 present
mapfile -t R < <(xfer 0 "$SEL_U2F" "$(auth 08 "$KH")" "$(auth 03 "$KH")")
check "faults u2f-up-clear + u2f-counter-stuck" "00 $C4 ok|00 $C4 ok" \
    "$(py authenticate "$PUB" "$CHAL" "$APP" "${R[1]% 90 00}")|$(py \
        authenticate "$PUB" "$CHAL" "$APP" "${R[2]% 90 00}")"
untap

tap u2fb 1 --personality yubikey --u2f-state "$U2F_STATE" --fault u2f-bad-sig
wait_card 1 present
check "yubikey ATR" "3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9" \
    "$(atr 1)"
mapfile -t R < <(xfer 1 "$SEL_U2F" "$(auth 03 "$KH")")
check "fault u2f-bad-sig" "01 $((C4 + 1)) bad" \
    "$(py authenticate "$PUB" "$CHAL" "$APP" "${R[1]% 90 00}")"
untap

tap kh 0 --personality apex --u2f-kh-len 112
wait_card 0 present
sc_open 0
sc_send "$SEL_U2F"
exchange "$REGISTER"
read -r KH112 PUB112 KHLEN _ <<<"$(py register "$CHAL" "$APP" "$DATA")"
check "--u2f-kh-len 112: 112-byte handle, REGISTER reply in 256-byte pieces" \
    "112 61 00|61 $(printf %02X $((${#DATA} / 2 - 512)))|90 00 256" \
    "${KHLEN:-} $SWS $BIGGEST"
RESPS=()
for apdu in "$(auth 03 "$KH112" "$APP2")" "$(auth 03 "$KH")" "$(auth 07 "$KH")"; do
    sc_send "$apdu"
    RESPS+=("$RESP")
done
exchange "$(auth 03 "$KH112")"
check "--u2f-kh-len 112: other app 6A 80, 64-byte handle 67 00, signature" \
    "6A 80|67 00|67 00|01 1 ok" \
    "$(IFS='|'; echo "${RESPS[*]}")|$(py authenticate "$PUB112" "$CHAL" "$APP" "$DATA")"
sc_close
untap

tap wkl 1 --personality apex --u2f-state "$U2F_STATE" --fault u2f-wrong-kh-len
wait_card 1 present
check "fault u2f-wrong-kh-len" "67 00|67 00" \
    "$(xfer 1 "$SEL_U2F" "$(auth 03 "$KH")" "$(auth 07 "$KH")" | tail -n2 |
        paste -sd'|')"
check "U2F-only chip (no --ctap2): NFCCTAP_MSG getInfo 6D 00, CLA 80 INS 01 6E 00" \
    "6D 00|6E 00" \
    "$(xfer 1 "$SEL_U2F" 80100000010400 8001000000 | tail -n2 | paste -sd'|')"
untap

tap f2 0 --personality javacard --u2f-version fido2
wait_card 0 present
check "--u2f-version fido2: FIDO_2_0, no U2F commands, CTAP2 getInfo" \
    "46 49 44 4F 5F 32 5F 30 90 00|6D 00|00 yes" \
    "$(xfer 0 "$SEL_U2F" "$REGISTER" 80100000010400 | sed '3s/^\(00\) .* \(90 00\|61 ..\)$/\1 yes/' |
        paste -sd'|')"
untap

tap u2f61 1 --personality apex --fault endless-61
wait_card 1 present
check "fault endless-61 with the U2F applet selected" "61 FF|61 FF|61 FF" \
    "$(xfer 1 "$SEL_U2F" "$REGISTER" 00C0000000 | paste -sd'|')"
untap

# --- CTAP2 (FIDO2) over NFC, driven by python3-fido2's client ---------------

# ctap2 SCENARIO SLOT: run selftest_ctap2.py on reader SLOT; its "ok"/"FAIL"
# lines become checks here, the rest is shown as comments.
ctap2() {
    local line
    while IFS= read -r line; do
        case $line in
            'ok '*) ok "${line#ok }" ;;
            'FAIL '*) not_ok "${line#FAIL }" ;;
            *) echo "#      $line" ;;
        esac
    done < <(/usr/bin/python3 "$HERE/selftest_ctap2.py" "Virtual PCD 00 0$2" \
        "$WORK" "$1" 2>&1)
}
CTAP2_STATE=$WORK/ctap2-state.json
CS=(--ctap2-state "$CTAP2_STATE")

# ctap2_tap NAME SLOT SCENARIO VIMPLANT-ARGS...: a tap for one scenario
ctap2_tap() {
    local name=$1 slot=$2 scenario=$3; shift 3
    tap "$name" "$slot" "$@"
    if wait_card "$slot" present; then
        ctap2 "$scenario" "$slot"
    else
        not_ok "ctap2 $scenario: card on reader $slot"
    fi
    untap
}

ctap2_tap c2basic 1 basic --personality yubikey --ctap2 --ctap2-pin 1234 "${CS[@]}"
check "ctap2 state file: PIN hash, 8 retries, no PIN in the log" \
    "yes 8 0" \
    "$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print("yes" if len(s["pin_hash"]) == 32 else "no", s["pin_retries"])' \
        "$CTAP2_STATE") $(grep -v '^[<>] ' "$WORK/c2basic.log" | grep -c 1234)"
check "ctap2 log lines (getInfo, wrong PIN 31)" "yes 1" \
    "$(grep -q '^ctap2 getInfo 00$' "$WORK/c2basic.log" && echo yes) $(grep -c \
        '^ctap2 clientPin.getPinUvAuthTokenUsingPinWithPermissions 31$' \
        "$WORK/c2basic.log")"
ctap2_tap c2res 0 resident --personality javacard "${CS[@]}"
ctap2_tap c2res2 1 resident2 --personality javacard "${CS[@]}"
ctap2_tap c2wrong 0 wrong3 --personality javacard "${CS[@]}"
check "ctap2 log: 4 refused PIN attempts (31 31 34 34)" "31 31 34 34" \
    "$(sed -n 's/^ctap2 clientPin.getPinUvAuthTokenUsingPinWithPermissions \(3.\)$/\1/p' \
        "$WORK/c2wrong.log" | paste -sd' ')"
ctap2_tap c2retap 1 retap --personality javacard "${CS[@]}"
ctap2_tap c2chain 0 chain --personality javacard --no-extended --ctap2-chunk 64 "${CS[@]}"
check "ctap2 chaining seen in the log: CLA 90 pieces, GET RESPONSE" "yes yes" \
    "$(grep -q '^> 9010' "$WORK/c2chain.log" && echo yes) $(grep -q \
        '^> 00C00000' "$WORK/c2chain.log" && echo yes)"
ctap2_tap c2ext 1 extended --personality javacard "${CS[@]}"
ctap2_tap c2ka 0 keepalive --personality javacard --ctap2-keepalive 3 "${CS[@]}"
check "ctap2 keep-alive in the log: 3 x 91 00 and 3 polls for each of 3 commands (getInfo twice, getAssertion)" \
    "9 9" "$(grep -c '^< 019100$' "$WORK/c2ka.log") $(grep -c \
        '^> 8011000000$' "$WORK/c2ka.log")"
ctap2_tap c2fs 1 faults_signed --personality javacard "${CS[@]}" \
    --fault ctap2-wrong-rpid-hash --fault ctap2-no-uv --fault ctap2-counter-stuck
ctap2_tap c2fb 0 fault_bad_sig --personality javacard "${CS[@]}" \
    --fault ctap2-bad-signature
ctap2_tap c2fe 1 fault_error --personality javacard "${CS[@]}" \
    --fault ctap2-error=2E
ctap2_tap c2fc 0 fault_cbor --personality javacard "${CS[@]}" \
    --fault ctap2-malformed-cbor
ctap2_tap c2auv 1 always_uv --personality javacard --ctap2-always-uv \
    --ctap2-pin 1234 --ctap2-state "$WORK/ctap2-auv.json"
ctap2_tap c2ed 0 eddsa --personality javacard --ctap2-algs es256,eddsa \
    --ctap2-counter-step zero
/usr/bin/python3 -c 'import json,sys; p=sys.argv[1]; s=json.load(open(p))
s["pin_retries"]=1; json.dump(s,open(p,"w"))' "$CTAP2_STATE"
ctap2_tap c2blk 1 blocked --personality javacard "${CS[@]}"

# --- the daemon survived all of it ------------------------------------------

tap final 0 --personality mifare1k
wait_card 0 present
check "pcscd and vpcd still fine after the faults" "A1 B2 C3 D4 90 00" \
    "$(xfer 0 'FF CA 00 00 00')"
untap

echo "# total $(($(now_ms) - START)) ms"
echo "vimplant: $PASSED passed, $FAILED failed, 0 skipped"
[ "$FAILED" -eq 0 ]
