/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hmac_roll - roll one hmac enrollment's state forever, through the same
 * library function the helper uses after a successful tap
 * (vivo_hmac_roll). The kill -9 test kills it at random points and then
 * checks, independently, that the store still parses and opens.
 * It writes one line ("rolling") to stdout when it starts rolling, so the
 * test can time its kill from there rather than from process start-up
 * (which is slow and variable under sanitizers).
 *
 *   hmac_roll STORE_FILE USER LABEL HEXKEY
 */
#include "method.h"
#include "hmac.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static struct vivo_store s;
	uint8_t key[VIVO_HMAC_KEY_LEN], resp[VIVO_HMAC_RESP_LEN];
	uint8_t opened[VIVO_HMAC_KEY_LEN];
	char err[512];
	size_t klen;

	if (argc != 5 ||
	    vivo_hex_decode(argv[4], key, sizeof(key), &klen) != 0 ||
	    klen != sizeof(key))
		return 2;
	for (unsigned long n = 0;; n++) {
		int i, r;
		if (vivo_store_load(argv[1], geteuid(), &s, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "load: %s\n", err);
			return 1;
		}
		if ((i = vivo_store_find(&s, argv[3])) < 0 ||
		    vivo_hmac_sha1(key, s.e[i].hmac.challenge,
			sizeof(s.e[i].hmac.challenge), resp) != 0 ||
		    vivo_hmac_open(&s.e[i].hmac, argv[2], resp, opened) != 0) {
			fprintf(stderr, "state does not open\n");
			return 1;
		}
		if (n == 0 &&
		    (fputs("rolling\n", stdout) == EOF ||
			fflush(stdout) == EOF))
			return 1;
		r = vivo_hmac_roll(argv[1], geteuid(), 0644, argv[2], argv[3],
		    &s.e[i].hmac, opened, err, sizeof(err));
		if (r != 0) {
			fprintf(stderr, "roll: %s\n", err);
			return 1;
		}
	}
}
