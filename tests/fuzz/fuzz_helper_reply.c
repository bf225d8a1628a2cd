/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_helper_reply.c - the module reading the helper's replies. Input:
 * one byte choosing the type (even: WAIT, odd: RESULT), then the fields;
 * the target puts version 1 and that type in front, so every input is a
 * reply and the fuzzer spends its time on the fields. Invariants:
 * fuzz_msg.h, and those of the accepted reply below.
 */
#include "fuzz.h"
#include "fuzz_msg.h"

#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t body[VIVO_MSG_MAX + 64];
	static struct vivo_msg m;
	size_t len;

	if (size < 1 || size - 1 > sizeof(body) - 2)
		return 0;
	body[0] = VIVO_PROTO_VERSION;
	body[1] = (data[0] & 1) ? VIVO_MSG_RESULT : VIVO_MSG_WAIT;
	memcpy(body + 2, data + 1, size - 1);
	len = size + 1;
	if (fuzz_msg_check(body, len, &m) != 0)
		return 0;
	FUZZ_CHECK(m.type == body[1]);
	if (m.type == VIVO_MSG_WAIT) {
		FUZZ_CHECK(vivo_msg_has(&m, VIVO_TAG_TIMEOUT) &&
		    vivo_msg_has(&m, VIVO_TAG_TEXT));
		FUZZ_CHECK(strnlen(m.text, sizeof(m.text)) < sizeof(m.text));
	} else {
		FUZZ_CHECK(vivo_msg_has(&m, VIVO_TAG_RESULT) &&
		    vivo_msg_has(&m, VIVO_TAG_REASON));
		FUZZ_CHECK(m.result <= VIVO_R_MAX);
		FUZZ_CHECK(strcmp(vivo_result_str(m.result), "unknown") != 0);
		FUZZ_CHECK(
		    strnlen(m.reason, sizeof(m.reason)) < sizeof(m.reason));
		FUZZ_CHECK(strnlen(m.label, sizeof(m.label)) < sizeof(m.label));
		FUZZ_CHECK(
		    strnlen(m.method, sizeof(m.method)) < sizeof(m.method));
	}
	return 0;
}
