/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * err.c - see err.h.
 */
#include "err.h"

const char *
vivo_strerr(int e)
{
	switch (e) {
	case VIVO_OK: return "success";
	case VIVO_ERR_CARD_COMM: return "the chip was lost";
	case VIVO_ERR_CARD_PROTO: return "the chip answered nonsense";
	case VIVO_ERR_CARD_NOTSUP: return "the chip refused";
	case VIVO_ERR_U2F_WRONG_KH: return "not this implant's key handle";
	case VIVO_ERR_U2F_FIDO2:
		return "the FIDO applet speaks FIDO2 (CTAP2) only";
	case VIVO_ERR_U2F_PRESENCE: return "user presence was never given";
	case VIVO_ERR_FILE_IO: return "input/output error";
	case VIVO_ERR_FILE_NOENT: return "no such file";
	case VIVO_ERR_FILE_ACCES: return "permission denied";
	case VIVO_ERR_FILE_UNSAFE: return "unsafe file";
	case VIVO_ERR_FILE_BIG: return "file too big";
	case VIVO_ERR_FILE_NOTSYNCED:
		return "written, but the directory could not be synced";
	case VIVO_ERR_STORE_CORRUPT: return "the enrollment file is corrupt";
	case VIVO_ERR_READER_NOSERVICE:
		return "the smart card service (pcscd) is not running";
	case VIVO_ERR_READER_TIMEOUT: return "no implant was presented in time";
	case VIVO_ERR_READER_NONE: return "no NFC reader found";
	case VIVO_ERR_READER_FAIL: return "smart card service error";
	case VIVO_ERR_TAP_CONTESTED:
		return "another request waits for a tap on that reader";
	case VIVO_ERR_TAP_REGISTRY:
		return "the request registry cannot be used";
	case VIVO_ERR_MSG_IO: return "bad message or connection lost";
	case VIVO_ERR_MSG_DEADLINE: return "no message in time";
	case VIVO_ERR_FIDO2_NOCRED:
		return "the chip holds none of the enrolled credentials";
	case VIVO_ERR_FIDO2_PIN_INVALID: return "wrong PIN";
	case VIVO_ERR_FIDO2_PIN_BLOCKED: return "the chip's PIN is blocked";
	case VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED:
		return "3 wrong PINs in a row: present the implant again";
	case VIVO_ERR_FIDO2_UV_REQUIRED: return "the chip requires its PIN";
	case VIVO_ERR_FIDO2_PIN_NOT_SET: return "the chip has no PIN set";
	case VIVO_ERR_NOMEM: return "out of memory";
	case VIVO_ERR_INTERNAL: return "internal error";
	default: return "unknown error";
	}
}
