/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * err.h - the one error space of the library (libfido2's FIDO_ERR_* and
 * fido_strerr, OpenSSH's SSH_ERR_* and ssh_err): every layer's errors are
 * members of one enum, no two share a value, none is -1 (which stays the
 * plain "failed, see errno" of small internal calls), and vivo_strerr()
 * names each. libc only: the module includes it through proto.h.
 */
#ifndef VIVO_ERR_H
#define VIVO_ERR_H

enum vivo_err {
	VIVO_OK = 0,
	/* talking to a chip (card.h) */
	/* transport failed, the chip is gone: try another tap */
	VIVO_ERR_CARD_COMM = -10,
	VIVO_ERR_CARD_PROTO = -11,   /* the chip answered nonsense */
	VIVO_ERR_CARD_NOTSUP = -12,  /* the chip refused (a status word) */
	VIVO_ERR_U2F_WRONG_KH = -13, /* 6A 80 / 67 00: not this key handle */
	VIVO_ERR_U2F_FIDO2 = -14,    /* the FIDO applet speaks CTAP2 only */
	VIVO_ERR_U2F_PRESENCE = -15, /* 69 85 after retries */
	/* files (file.h, store.h) */
	VIVO_ERR_FILE_IO = -20,    /* anything else (errno says more) */
	VIVO_ERR_FILE_NOENT = -21, /* the file does not exist */
	VIVO_ERR_FILE_ACCES = -22, /* exists, but we may not read it */
	VIVO_ERR_FILE_UNSAFE =
	    -23,                 /* symlink, not regular, owner/mode, parent */
	VIVO_ERR_FILE_BIG = -24, /* over the size cap */
	/* replaced, but the directory fsync failed */
	VIVO_ERR_FILE_NOTSYNCED = -25,
	/* an enrollment file that does not parse */
	VIVO_ERR_STORE_CORRUPT = -26,
	/* readers (readerio.h) */
	VIVO_ERR_READER_NOSERVICE = -30, /* pcscd not running or gone */
	VIVO_ERR_READER_TIMEOUT = -31, /* no (fresh) tap before the deadline */
	VIVO_ERR_READER_NONE = -32, /* the deadline passed without a reader */
	VIVO_ERR_READER_FAIL = -33, /* any other reader failure */
	/* the tap loop (tap.h) */
	VIVO_ERR_TAP_CONTESTED = -40, /* another request waits on that reader */
	VIVO_ERR_TAP_REGISTRY = -41,  /* cannot register or look: fail closed */
	/* module <-> helper messages (proto.h) */
	VIVO_ERR_MSG_IO = -50,       /* error, EOF or garbage */
	VIVO_ERR_MSG_DEADLINE = -51, /* the deadline passed */
	/* the fido2 method (fido2.h): what the chip's CTAP2 applet said */
	VIVO_ERR_FIDO2_NOCRED = -70,      /* none of the credentials is here */
	VIVO_ERR_FIDO2_PIN_INVALID = -71, /* wrong PIN: one attempt gone */
	VIVO_ERR_FIDO2_PIN_BLOCKED = -72, /* no attempts left, for good */
	/* 3 wrong in a row: blocked until the next power-up (a new tap) */
	VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED = -73,
	VIVO_ERR_FIDO2_UV_REQUIRED = -74, /* the chip wants the PIN */
	VIVO_ERR_FIDO2_PIN_NOT_SET = -75, /* the chip has no PIN */
	/* anything else */
	VIVO_ERR_NOMEM = -60,
	VIVO_ERR_INTERNAL = -61,
};

/* A short English phrase for e (any int: unknown values have one too). */
const char *vivo_strerr(int e);

#endif
