/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - vivo_config_parse on arbitrary text (the input, cut at
 * its first NUL as the loader would refuse it). Invariants: a parse that
 * fails leaves a message; one that succeeds gives a config within the
 * documented ranges, every string terminated within its array.
 */
#include "fuzz.h"

#include "config.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	return 0;
}

#define TERMINATED(a) (strnlen((a), sizeof(a)) < sizeof(a))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vivo_config c;
	char err[256], *text;
	int r;

	if ((text = fuzz_text(data, size)) == NULL)
		return 0;
	err[0] = '\0';
	memset(&c, 0x5a, sizeof(c));
	r = vivo_config_parse(text, &c, err, sizeof(err));
	fuzz_note("config: %d (%s)", r, r ? err : "ok");
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(TERMINATED(err));
	if (r != 0) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(c.timeout >= 1 && c.timeout <= VIVO_TIMEOUT_MAX);
	FUZZ_CHECK(c.nreaders <= VIVO_READERS_MAX);
	for (size_t i = 0; i < c.nreaders; i++)
		FUZZ_CHECK(TERMINATED(c.readers[i]) && c.readers[i][0] != '\0');
#define ALL_METHODS (VIVO_M_UID | VIVO_M_HMAC | VIVO_M_U2F | VIVO_M_FIDO2)
	FUZZ_CHECK(c.methods != 0 && (c.methods & ~(unsigned)ALL_METHODS) == 0);
	FUZZ_CHECK(TERMINATED(c.store) && c.store[0] == '/');
	FUZZ_CHECK(TERMINATED(c.appid) && c.appid[0] != '\0');
	FUZZ_CHECK(c.user_store == 0 || c.user_store == 1);
	FUZZ_CHECK(c.allow_remote == 0 || c.allow_remote == 1);
	FUZZ_CHECK(c.check_counter == 0 || c.check_counter == 1);
	FUZZ_CHECK(TERMINATED(c.rpid) && c.rpid[0] != '\0');
	FUZZ_CHECK(c.fido2_require_pin == 0 || c.fido2_require_pin == 1);
	FUZZ_CHECK(c.fido2_check_counter == 0 || c.fido2_check_counter == 1);
	FUZZ_CHECK(
	    c.fido2_min_pin_retries >= 1 && c.fido2_min_pin_retries <= 8);
	FUZZ_CHECK(c.identify == 0 || c.identify == 1);
	FUZZ_CHECK(c.nservices <= VIVO_SERVICES_MAX);
	for (size_t i = 0; i < c.nservices; i++) {
		const struct vivo_service_cfg *sc = &c.services[i];
		FUZZ_CHECK(TERMINATED(sc->name) && sc->name[0] != '\0');
		if (sc->set & VIVO_SVC_METHODS)
			FUZZ_CHECK(sc->methods != 0 &&
			    (sc->methods & ~(unsigned)ALL_METHODS) == 0);
		if (sc->set & VIVO_SVC_TIMEOUT)
			FUZZ_CHECK(sc->timeout >= 1 &&
			    sc->timeout <= VIVO_TIMEOUT_MAX);
	}
	/* libconfig would have followed an @include: it must be refused */
	FUZZ_CHECK(!vivo_text_has_include(text));
out:
	free(text);
	return 0;
}
