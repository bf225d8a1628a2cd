/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * floor - the least a program can do to run one exchange with a chip:
 * establish a PC/SC context, connect to the reader, send the given
 * C-APDUs one by one, disconnect, release the context. Nothing else: no
 * reader listing, no waiting for a tap, no crypto, no files.
 *
 *   floor READER HEX-APDU...
 *
 * Connects shared, offering T=0 and T=1 (as pam_vivo does), and leaves
 * the card as it is. Exit 0 when every reply ends in 90 00, 1 otherwise,
 * 2 on a PC/SC error. bench/bench.py gives it, byte for byte, the C-APDUs
 * vivo-helper sent to the virtual implant in a real authentication.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

static size_t
unhex(const char *s, BYTE *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	if (n > cap || strlen(s) % 2 != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (BYTE)v;
	}
	return n;
}

int
main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	LONG rv;
	int ok = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: floor READER HEX-APDU...\n");
		return 2;
	}
	if ((rv = SCardEstablishContext(
		 SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) != SCARD_S_SUCCESS) {
		fprintf(stderr, "floor: SCardEstablishContext: %s\n",
		    pcsc_stringify_error(rv));
		return 2;
	}
	rv = SCardConnect(ctx, argv[1], SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "floor: SCardConnect: %s\n",
		    pcsc_stringify_error(rv));
		SCardReleaseContext(ctx);
		return 2;
	}
	for (int i = 2; i < argc && ok; i++) {
		BYTE c[MAX_BUFFER_SIZE_EXTENDED], r[MAX_BUFFER_SIZE_EXTENDED];
		DWORD rlen = sizeof(r);
		size_t clen = unhex(argv[i], c, sizeof(c));

		if (clen == 0) {
			fprintf(stderr, "floor: bad APDU %s\n", argv[i]);
			ok = 0;
			break;
		}
		rv = SCardTransmit(card,
		    proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, c,
		    (DWORD)clen, NULL, r, &rlen);
		if (rv != SCARD_S_SUCCESS || rlen < 2 || r[rlen - 2] != 0x90 ||
		    r[rlen - 1] != 0x00) {
			fprintf(stderr, "floor: APDU %d: %s, %lu bytes\n",
			    i - 1, pcsc_stringify_error(rv),
			    (unsigned long)rlen);
			ok = 0;
		}
	}
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return ok ? 0 : 1;
}
