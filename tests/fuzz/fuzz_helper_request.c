/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_helper_request.c - the helper reading the module's request: the
 * input is a message body (version, type, fields; the length word is
 * added by the target), decoded by vivo_msg_decode and, framed, by
 * vivo_msg_read. Seeds: AUTH requests. Invariants: fuzz_msg.h.
 */
#include "fuzz.h"
#include "fuzz_msg.h"

#include "util.h"

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
	static struct vivo_msg m;

	if (fuzz_msg_check(data, size, &m) != 0)
		return 0;
	/* what the helper does next with a request it accepted */
	if (m.type == VIVO_MSG_AUTH) {
		FUZZ_CHECK(vivo_msg_has(&m, VIVO_TAG_USER) &&
		    vivo_msg_has(&m, VIVO_TAG_CONFIG) &&
		    vivo_msg_has(&m, VIVO_TAG_TIMEOUT) &&
		    vivo_msg_has(&m, VIVO_TAG_FLAGS));
		FUZZ_CHECK((m.flags & ~VIVO_FLAGS_KNOWN) == 0);
		FUZZ_CHECK(strnlen(m.user, sizeof(m.user)) < sizeof(m.user));
		FUZZ_CHECK(
		    strnlen(m.config, sizeof(m.config)) < sizeof(m.config));
		(void)vivo_user_valid(m.user);
	}
	return 0;
}
