#!/bin/bash
# selftest.sh - end-to-end check of vimplant.py against a real pcscd + vpcd.
#
# Run as root.  Everything happens in private namespaces so that the system
# pcscd (its /run/pcscd socket and vpcd port 0x8C7B) is never touched:
#
#   unshare --mount --propagation private --pid --fork --kill-child --mount-proc
#       A private mount namespace lets us put a tmpfs over /run: pcscd 1.9.9
#       always creates its socket as /run/pcscd/pcscd.comm.  The PID
#       namespace makes sure pcscd and every vimplant die with this script.
#   mount -t tmpfs -o mode=755 tmpfs /run
#   pcscd --foreground --config $WORK/reader.conf
#       -c/--config accepts a single reader.conf FILE or a DIRECTORY of them
#       (then it reads every regular file in it); /etc/reader.conf.d is not
#       read at all.  The file:
#           FRIENDLYNAME "Virtual PCD"
#           DEVICENAME   /dev/null:$PORT
#           LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
#           CHANNELID    $PORT
#       vpcd then listens on 0.0.0.0:$PORT (reader "Virtual PCD 00 00") and
#       0.0.0.0:$PORT+1 (reader "Virtual PCD 00 01").  PC/SC clients
#       (pcsc_scan, scriptor, the PAM module) must run in the same mount
#       namespace; pcscd here is built without polkit, so any uid may use it.
#
# Set KEEP=1 to keep the work directory (logs) for inspection.
# The last line of output is "N passed, N failed"; the exit status is 0 only
# if nothing failed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
VIMPLANT=$HERE/vimplant.py

if [ "${1:-}" != --in-namespace ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "selftest.sh: must be run as root" >&2
        exit 2
    fi
    exec unshare --mount --propagation private --pid --fork --kill-child \
        --mount-proc /bin/bash "$HERE/${0##*/}" --in-namespace
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
        # never collide with the system vpcd (0x8C7B = 35963, slot 1 = +1)
        if [ $((PORT + 1)) -ge 35963 ] && [ "$PORT" -le 35964 ]; then continue; fi
        port_in_use "$PORT" && continue
        cat >"$WORK/reader.conf" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
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
    echo "$PASSED passed, $FAILED failed"
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

# --- the daemon survived all of it ------------------------------------------

tap final 0 --personality mifare1k
wait_card 0 present
check "pcscd and vpcd still fine after the faults" "A1 B2 C3 D4 90 00" \
    "$(xfer 0 'FF CA 00 00 00')"
untap

echo "# total $(($(now_ms) - START)) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
