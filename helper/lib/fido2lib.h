/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fido2lib.h - libfido2, loaded when a fido2 method first needs it
 * (dlopen), not at every helper start: most logins use another method,
 * and libfido2 brings libcbor, libudev and zlib with it (+0.24 ms and
 * ~0.4 MB per start, measured: docs/performance.md). Included by fido2.c
 * alone, after <fido.h>: every libfido2 call there goes through `vivo_fl`,
 * with the prototypes of libfido2's own headers (__typeof__), so a
 * mismatch is a compile error. The list is the functions fido2.c calls.
 */
#ifndef VIVO_FIDO2LIB_H
#define VIVO_FIDO2LIB_H

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#define VIVO_LIBFIDO2 "libfido2.so.1" /* Debian's libfido2-1 */

#define VIVO_FIDO2_FUNCS                                                       \
	X(fido_assert_set_extensions)                                          \
	X(fido_assert_set_hmac_salt)                                           \
	X(fido_assert_hmac_secret_ptr)                                         \
	X(fido_assert_hmac_secret_len)                                         \
	X(eddsa_pk_free)                                                       \
	X(eddsa_pk_from_ptr)                                                   \
	X(eddsa_pk_new)                                                        \
	X(es256_pk_free)                                                       \
	X(es256_pk_from_ptr)                                                   \
	X(es256_pk_new)                                                        \
	X(fido_assert_allow_cred)                                              \
	X(fido_assert_count)                                                   \
	X(fido_assert_flags)                                                   \
	X(fido_assert_free)                                                    \
	X(fido_assert_id_len)                                                  \
	X(fido_assert_id_ptr)                                                  \
	X(fido_assert_new)                                                     \
	X(fido_assert_set_clientdata_hash)                                     \
	X(fido_assert_set_rp)                                                  \
	X(fido_assert_set_up)                                                  \
	X(fido_assert_set_uv)                                                  \
	X(fido_assert_sigcount)                                                \
	X(fido_assert_verify)                                                  \
	X(fido_cbor_info_aaguid_len)                                           \
	X(fido_cbor_info_aaguid_ptr)                                           \
	X(fido_cbor_info_algorithm_cose)                                       \
	X(fido_cbor_info_algorithm_count)                                      \
	X(fido_cbor_info_extensions_len)                                       \
	X(fido_cbor_info_extensions_ptr)                                       \
	X(fido_cbor_info_free)                                                 \
	X(fido_cbor_info_maxmsgsiz)                                            \
	X(fido_cbor_info_new)                                                  \
	X(fido_cbor_info_options_len)                                          \
	X(fido_cbor_info_options_name_ptr)                                     \
	X(fido_cbor_info_options_value_ptr)                                    \
	X(fido_cbor_info_versions_len)                                         \
	X(fido_cbor_info_versions_ptr)                                         \
	X(fido_cred_free)                                                      \
	X(fido_cred_id_len)                                                    \
	X(fido_cred_id_ptr)                                                    \
	X(fido_cred_new)                                                       \
	X(fido_cred_prot)                                                      \
	X(fido_cred_pubkey_len)                                                \
	X(fido_cred_pubkey_ptr)                                                \
	X(fido_cred_set_clientdata_hash)                                       \
	X(fido_cred_set_extensions)                                            \
	X(fido_cred_set_prot)                                                  \
	X(fido_cred_set_rk)                                                    \
	X(fido_cred_set_rp)                                                    \
	X(fido_cred_set_type)                                                  \
	X(fido_cred_set_user)                                                  \
	X(fido_cred_verify)                                                    \
	X(fido_cred_verify_self)                                               \
	X(fido_cred_x5c_len)                                                   \
	X(fido_dev_close)                                                      \
	X(fido_dev_free)                                                       \
	X(fido_dev_get_assert)                                                 \
	X(fido_dev_get_cbor_info)                                              \
	X(fido_dev_get_retry_count)                                            \
	X(fido_dev_io_handle)                                                  \
	X(fido_dev_is_fido2)                                                   \
	X(fido_dev_make_cred)                                                  \
	X(fido_dev_new)                                                        \
	X(fido_dev_open)                                                       \
	X(fido_dev_set_io_functions)                                           \
	X(fido_dev_set_transport_functions)                                    \
	X(fido_strerr)

struct vivo_fido2_lib {
#define X(f) __typeof__(&f) p_##f;
	VIVO_FIDO2_FUNCS
#undef X
};
extern struct vivo_fido2_lib vivo_fl;

/* Load libfido2 and look every function up, once per process. 0, or -1
 * with why (the library missing, or older than the functions we need). */
int vivo_fido2_lib_load(char *why, size_t whysz);

/* From here on, the names are the table's. */
#define fido_assert_set_extensions (*vivo_fl.p_fido_assert_set_extensions)
#define fido_assert_set_hmac_salt (*vivo_fl.p_fido_assert_set_hmac_salt)
#define fido_assert_hmac_secret_ptr (*vivo_fl.p_fido_assert_hmac_secret_ptr)
#define fido_assert_hmac_secret_len (*vivo_fl.p_fido_assert_hmac_secret_len)
#define eddsa_pk_free (*vivo_fl.p_eddsa_pk_free)
#define eddsa_pk_from_ptr (*vivo_fl.p_eddsa_pk_from_ptr)
#define eddsa_pk_new (*vivo_fl.p_eddsa_pk_new)
#define es256_pk_free (*vivo_fl.p_es256_pk_free)
#define es256_pk_from_ptr (*vivo_fl.p_es256_pk_from_ptr)
#define es256_pk_new (*vivo_fl.p_es256_pk_new)
#define fido_assert_allow_cred (*vivo_fl.p_fido_assert_allow_cred)
#define fido_assert_count (*vivo_fl.p_fido_assert_count)
#define fido_assert_flags (*vivo_fl.p_fido_assert_flags)
#define fido_assert_free (*vivo_fl.p_fido_assert_free)
#define fido_assert_id_len (*vivo_fl.p_fido_assert_id_len)
#define fido_assert_id_ptr (*vivo_fl.p_fido_assert_id_ptr)
#define fido_assert_new (*vivo_fl.p_fido_assert_new)
#define fido_assert_set_clientdata_hash                                        \
	(*vivo_fl.p_fido_assert_set_clientdata_hash)
#define fido_assert_set_rp (*vivo_fl.p_fido_assert_set_rp)
#define fido_assert_set_up (*vivo_fl.p_fido_assert_set_up)
#define fido_assert_set_uv (*vivo_fl.p_fido_assert_set_uv)
#define fido_assert_sigcount (*vivo_fl.p_fido_assert_sigcount)
#define fido_assert_verify (*vivo_fl.p_fido_assert_verify)
#define fido_cbor_info_aaguid_len (*vivo_fl.p_fido_cbor_info_aaguid_len)
#define fido_cbor_info_aaguid_ptr (*vivo_fl.p_fido_cbor_info_aaguid_ptr)
#define fido_cbor_info_algorithm_cose (*vivo_fl.p_fido_cbor_info_algorithm_cose)
#define fido_cbor_info_algorithm_count                                         \
	(*vivo_fl.p_fido_cbor_info_algorithm_count)
#define fido_cbor_info_extensions_len (*vivo_fl.p_fido_cbor_info_extensions_len)
#define fido_cbor_info_extensions_ptr (*vivo_fl.p_fido_cbor_info_extensions_ptr)
#define fido_cbor_info_free (*vivo_fl.p_fido_cbor_info_free)
#define fido_cbor_info_maxmsgsiz (*vivo_fl.p_fido_cbor_info_maxmsgsiz)
#define fido_cbor_info_new (*vivo_fl.p_fido_cbor_info_new)
#define fido_cbor_info_options_len (*vivo_fl.p_fido_cbor_info_options_len)
#define fido_cbor_info_options_name_ptr                                        \
	(*vivo_fl.p_fido_cbor_info_options_name_ptr)
#define fido_cbor_info_options_value_ptr                                       \
	(*vivo_fl.p_fido_cbor_info_options_value_ptr)
#define fido_cbor_info_versions_len (*vivo_fl.p_fido_cbor_info_versions_len)
#define fido_cbor_info_versions_ptr (*vivo_fl.p_fido_cbor_info_versions_ptr)
#define fido_cred_free (*vivo_fl.p_fido_cred_free)
#define fido_cred_id_len (*vivo_fl.p_fido_cred_id_len)
#define fido_cred_id_ptr (*vivo_fl.p_fido_cred_id_ptr)
#define fido_cred_new (*vivo_fl.p_fido_cred_new)
#define fido_cred_prot (*vivo_fl.p_fido_cred_prot)
#define fido_cred_pubkey_len (*vivo_fl.p_fido_cred_pubkey_len)
#define fido_cred_pubkey_ptr (*vivo_fl.p_fido_cred_pubkey_ptr)
#define fido_cred_set_clientdata_hash (*vivo_fl.p_fido_cred_set_clientdata_hash)
#define fido_cred_set_extensions (*vivo_fl.p_fido_cred_set_extensions)
#define fido_cred_set_prot (*vivo_fl.p_fido_cred_set_prot)
#define fido_cred_set_rk (*vivo_fl.p_fido_cred_set_rk)
#define fido_cred_set_rp (*vivo_fl.p_fido_cred_set_rp)
#define fido_cred_set_type (*vivo_fl.p_fido_cred_set_type)
#define fido_cred_set_user (*vivo_fl.p_fido_cred_set_user)
#define fido_cred_verify (*vivo_fl.p_fido_cred_verify)
#define fido_cred_verify_self (*vivo_fl.p_fido_cred_verify_self)
#define fido_cred_x5c_len (*vivo_fl.p_fido_cred_x5c_len)
#define fido_dev_close (*vivo_fl.p_fido_dev_close)
#define fido_dev_free (*vivo_fl.p_fido_dev_free)
#define fido_dev_get_assert (*vivo_fl.p_fido_dev_get_assert)
#define fido_dev_get_cbor_info (*vivo_fl.p_fido_dev_get_cbor_info)
#define fido_dev_get_retry_count (*vivo_fl.p_fido_dev_get_retry_count)
#define fido_dev_io_handle (*vivo_fl.p_fido_dev_io_handle)
#define fido_dev_is_fido2 (*vivo_fl.p_fido_dev_is_fido2)
#define fido_dev_make_cred (*vivo_fl.p_fido_dev_make_cred)
#define fido_dev_new (*vivo_fl.p_fido_dev_new)
#define fido_dev_open (*vivo_fl.p_fido_dev_open)
#define fido_dev_set_io_functions (*vivo_fl.p_fido_dev_set_io_functions)
#define fido_dev_set_transport_functions                                       \
	(*vivo_fl.p_fido_dev_set_transport_functions)
#define fido_strerr (*vivo_fl.p_fido_strerr)

#endif
