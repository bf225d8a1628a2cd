/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_directory.c - what the directory store decides without a server:
 * the user name in the filter is escaped (RFC 4515), so no name changes
 * the filter's meaning; the one-line form of an enrollment reads back as
 * the same entry; the FreeIPA passkey form reads as a fido2 entry; only
 * methods whose enrollment is public come from a directory; the
 * `directory` config is checked. The server side is in
 * tests/integration/test_directory.py, against a real slapd.
 */
#include "config.h"
#include "directory.h"
#include "dirval.h"
#include "t.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>

static struct vivo_config c;

static void
setup(void)
{
	vivo_config_defaults(&c);
	(void)vivo_strlcpy(c.rpid, "pam://site", sizeof(c.rpid));
}

static void
escape_rfc4515(void)
{
	char out[256], f[512];

	T_CHECK(vivo_dir_escape("alice", out, sizeof(out)) == 0 &&
	    strcmp(out, "alice") == 0);
	/* RFC 4515 section 4's examples */
	T_CHECK(vivo_dir_escape("Parens R Us (for all your parenthetical "
				"needs)",
		    out, sizeof(out)) == 0 &&
	    strcmp(out,
		"Parens R Us \\28for all your parenthetical needs\\29") == 0);
	T_CHECK(vivo_dir_escape("*", out, sizeof(out)) == 0 &&
	    strcmp(out, "\\2a") == 0);
	T_CHECK(vivo_dir_escape("C:\\MyFile", out, sizeof(out)) == 0 &&
	    strcmp(out, "C:\\5cMyFile") == 0);
	T_CHECK(vivo_dir_escape("Lu\xc4\x8di\xc4\x87", out, sizeof(out)) == 0 &&
	    strcmp(out, "Lu\\c4\\8di\\c4\\87") == 0);
	/* an injection attempt stays one assertion value */
	T_CHECK(vivo_dir_filter("(&(objectClass=posixAccount)(uid=%u))",
		    "x)(|(uid=*", f, sizeof(f)) == 0 &&
	    strcmp(f,
		"(&(objectClass=posixAccount)(uid=x\\29\\28|\\28uid=\\2a))") ==
		0);
	T_CHECK(vivo_dir_filter("(|(uid=%u)(mail=%u@x))", "a*", f, sizeof(f)) ==
		0 &&
	    strcmp(f, "(|(uid=a\\2a)(mail=a\\2a@x))") == 0);
	/* too long is an error, never a truncated filter */
	T_CHECK(vivo_dir_escape("((((((((", out, 10) == -1);
	T_CHECK(vivo_dir_filter("(uid=%u)", "abcdef", f, 8) == -1);
}

static void
fill_fido2(struct vivo_entry *e, const char *label)
{
	memset(e, 0, sizeof(*e));
	(void)vivo_strlcpy(e->label, label, sizeof(e->label));
	e->method = VIVO_M_FIDO2;
	(void)vivo_strlcpy(
	    e->created, "2026-11-30T08:00:00Z", sizeof(e->created));
	(void)vivo_strlcpy(e->fido2.rpid, "pam://site", sizeof(e->fido2.rpid));
	e->fido2.credlen = 80;
	for (size_t i = 0; i < e->fido2.credlen; i++)
		e->fido2.cred[i] = (uint8_t)(i * 7 + 1);
	e->fido2.alg = VIVO_COSE_ES256;
	e->fido2.publen = 65;
	e->fido2.pub[0] = 4;
	for (size_t i = 1; i < 65; i++)
		e->fido2.pub[i] = (uint8_t)i;
	memset(e->fido2.user_id, 0xab, sizeof(e->fido2.user_id));
	e->fido2.require_pin = 1;
	e->fido2.cred_protect = 2;
	e->fido2.hmac_secret = 1;
	e->fido2.counter = 41;
}

static void
line_round_trip(void)
{
	struct vivo_entry e, back;
	char *line = NULL, why[200] = "";

	setup();
	/* a label with a space, a quote, a percent sign and UTF-8 */
	fill_fido2(&e, "Apex \"left\" 100% \xc3\xa9");
	T_CHECK(vivo_dirval_format(&e, &line) == 0 && line != NULL);
	if (line == NULL)
		return;
	/* one line of printable ASCII, no counter */
	T_CHECK(strncmp(line, "vivo1 ", 6) == 0);
	T_CHECK(strchr(line, '\n') == NULL && strstr(line, "counter") == NULL);
	for (const char *p = line; *p; p++)
		T_CHECK(*p >= 0x20 && *p < 0x7f);
	T_CHECK(
	    strstr(line, " label=Apex%20%22left%22%20100%25%20%C3%A9") != NULL);
	T_CHECK(strstr(line, " fido2.require_pin=true") != NULL);
	T_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == 0);
	T_CHECK(strcmp(back.label, e.label) == 0);
	T_CHECK(back.method == VIVO_M_FIDO2 && back.fido2.credlen == 80 &&
	    memcmp(back.fido2.cred, e.fido2.cred, 80) == 0 &&
	    memcmp(back.fido2.pub, e.fido2.pub, 65) == 0 &&
	    back.fido2.require_pin == 1 && back.fido2.cred_protect == 2 &&
	    back.fido2.hmac_secret == 1 &&
	    strcmp(back.fido2.rpid, "pam://site") == 0);
	/* the counter is this machine's: it starts at 0 */
	T_CHECK(back.fido2.counter == 0);
	free(line);

	/* u2f */
	memset(&e, 0, sizeof(e));
	(void)vivo_strlcpy(e.label, "flex u2f", sizeof(e.label));
	e.method = VIVO_M_U2F;
	(void)vivo_strlcpy(
	    e.created, "2026-11-30T08:00:00Z", sizeof(e.created));
	(void)vivo_strlcpy(e.u2f.appid, "pam://site", sizeof(e.u2f.appid));
	e.u2f.khlen = 64;
	memset(e.u2f.kh, 0x11, 64);
	e.u2f.pub[0] = 4;
	memset(e.u2f.pub + 1, 0x22, 64);
	e.u2f.counter = 9;
	T_CHECK(vivo_dirval_format(&e, &line) == 0);
	T_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == 0 &&
	    back.method == VIVO_M_U2F && back.u2f.khlen == 64 &&
	    back.u2f.counter == 0 && strcmp(back.label, "flex u2f") == 0);
	free(line);
}

static void
only_public_methods(void)
{
	struct vivo_entry e, back;
	char *line = NULL, why[200] = "";

	setup();
	/* hmac: never */
	memset(&e, 0, sizeof(e));
	(void)vivo_strlcpy(e.label, "h", sizeof(e.label));
	e.method = VIVO_M_HMAC;
	(void)vivo_strlcpy(
	    e.created, "2026-11-30T08:00:00Z", sizeof(e.created));
	e.hmac.slot = 2;
	T_CHECK(vivo_dirval_format(&e, &line) == 0);
	T_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == -1 &&
	    strstr(why, "hmac") != NULL);
	free(line);
	/* uid: only where the site says so */
	memset(&e, 0, sizeof(e));
	(void)vivo_strlcpy(e.label, "u", sizeof(e.label));
	e.method = VIVO_M_UID;
	(void)vivo_strlcpy(
	    e.created, "2026-11-30T08:00:00Z", sizeof(e.created));
	e.uid.iterations = 10000;
	T_CHECK(vivo_dirval_format(&e, &line) == 0);
	T_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == -1 &&
	    strstr(why, "allow_uid") != NULL);
	c.dir.allow_uid = 1;
	T_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == 0 &&
	    back.method == VIVO_M_UID && back.uid.iterations == 10000);
	free(line);
}

static void
malformed_values(void)
{
	static const char *const bad[] = {
		"",
		"vivo1",
		"vivo2 label=x method=u2f",
		"vivo1 label=x",
		"vivo1 label=x method=fido2 created=2026-11-30T08:00:00Z",
		"vivo1 label method=u2f",
		"vivo1 label=a label=b method=u2f",
		"vivo1 label=x%zz method=u2f",
		"vivo1 label=x%00 method=u2f",
		"vivo1 label=x method=u2f created=2026-11-30T08:00:00Z "
		"u2f.appid=a u2f.keyhandle=11 u2f.pubkey=04 fido2.rpid=x",
		"vivo1 label=x method=u2f created=2026-11-30T08:00:00Z "
		"u2f.appid=a u2f.keyhandle=11 u2f.counter=5",
		"vivo1 label=x method=u2f created=2026-11-30T08:00:00Z "
		"u2f.appid=a u2f.keyhandle=11 u2f.unknown=1",
		"passkey:",
		"passkey:AAAA",
		"passkey:!!!!,AAAA",
		"passkey:AAAA,notbase64!",
		"passkey:AAAA,AAAA",
		"ssh-ed25519 AAAA",
	};
	struct vivo_entry e;
	char why[200];

	setup();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		int r = vivo_dirval_parse(&c, bad[i], &e, why, sizeof(why));
		if (r != -1 || why[0] == '\0')
			printf("  accepted or no reason: \"%s\"\n", bad[i]);
		T_CHECK(r == -1 && why[0] != '\0');
	}
}

/* "passkey:" + b64(cred) + "," + b64(DER SPKI of a fresh key) */
static char *
passkey_for(const char *alg, uint8_t *raw, size_t *rawlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(
	    NULL, NULL, alg, strcmp(alg, "EC") == 0 ? "P-256" : NULL);
	uint8_t *der = NULL, cred[48];
	int derlen;
	char *out = malloc(1024);
	size_t o;

	if (strcmp(alg, "RSA") == 0) {
		EVP_PKEY_free(k);
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	}
	if (k == NULL || out == NULL || (derlen = i2d_PUBKEY(k, &der)) <= 0)
		abort();
	for (size_t i = 0; i < sizeof(cred); i++)
		cred[i] = (uint8_t)(0xc0 + i);
	o = (size_t)sprintf(out, "passkey:");
	o += (size_t)EVP_EncodeBlock(
	    (unsigned char *)out + o, cred, sizeof(cred));
	out[o++] = ',';
	o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, der, derlen);
	out[o] = '\0';
	if (raw != NULL) {
		if (strcmp(alg, "ED25519") == 0) {
			*rawlen = 32;
			(void)EVP_PKEY_get_raw_public_key(k, raw, rawlen);
		} else {
			*rawlen = 65;
			(void)EVP_PKEY_get_octet_string_param(
			    k, "encoded-pub-key", raw, 65, rawlen);
		}
	}
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return out;
}

static void
ipa_passkey(void)
{
	struct vivo_entry e;
	uint8_t raw[65];
	size_t rawlen = 0;
	char why[200] = "", *v;

	setup();
	c.fido2_require_pin = 1;
	v = passkey_for("EC", raw, &rawlen);
	T_CHECK(vivo_dirval_parse(&c, v, &e, why, sizeof(why)) == 0);
	T_CHECK(e.method == VIVO_M_FIDO2 && e.fido2.alg == VIVO_COSE_ES256 &&
	    e.fido2.credlen == 48 && e.fido2.cred[0] == 0xc0 &&
	    e.fido2.publen == 65 && rawlen == 65 &&
	    memcmp(e.fido2.pub, raw, 65) == 0);
	/* the config's rp id and PIN rule; a stable label */
	T_CHECK(strcmp(e.fido2.rpid, "pam://site") == 0 &&
	    e.fido2.require_pin == 1 && strncmp(e.label, "passkey-", 8) == 0 &&
	    strlen(e.label) == 16);
	free(v);
	v = passkey_for("ED25519", raw, &rawlen);
	T_CHECK(vivo_dirval_parse(&c, v, &e, why, sizeof(why)) == 0 &&
	    e.fido2.alg == VIVO_COSE_EDDSA && e.fido2.publen == 32 &&
	    memcmp(e.fido2.pub, raw, 32) == 0);
	/* fido2 not among the methods: refused */
	c.methods = VIVO_M_U2F;
	T_CHECK(vivo_dirval_parse(&c, v, &e, why, sizeof(why)) == -1);
	free(v);
	setup();
	v = passkey_for("RSA", NULL, NULL);
	T_CHECK(vivo_dirval_parse(&c, v, &e, why, sizeof(why)) == -1 &&
	    strstr(why, "P-256") != NULL);
	free(v);
}

static void
counter_key(void)
{
	struct vivo_entry a, b;
	char ka[33], kb[33];

	fill_fido2(&a, "one");
	fill_fido2(&b, "renamed");
	/* the key follows the credential, not the label */
	T_CHECK(vivo_dirval_key(&a, ka) == 0 && vivo_dirval_key(&b, kb) == 0 &&
	    strcmp(ka, kb) == 0 && strlen(ka) == 32);
	b.fido2.cred[0] ^= 1;
	T_CHECK(vivo_dirval_key(&b, kb) == 0 && strcmp(ka, kb) != 0);
}

static int
parse(const char *text, char *err, size_t errsz)
{
	return vivo_config_parse(text, &c, err, errsz);
}

static void
config_directory(void)
{
	char err[256];

	T_CHECK(parse("directory = { uri = \"ldapi://%2Frun%2Fs\"; base = "
		      "\"dc=x\"; };",
		    err, sizeof(err)) == 0);
	T_CHECK(strcmp(c.dir.filter, VIVO_DIR_FILTER_DEFAULT) == 0 &&
	    strcmp(c.dir.attribute, "vivoImplant") == 0 && c.dir.timeout == 3 &&
	    c.dir.cache_ttl == 86400);
	/* TLS needs a CA file */
	T_CHECK(parse("directory = { uri = \"ldaps://h\"; base = \"dc=x\"; };",
		    err, sizeof(err)) == -1 &&
	    strstr(err, "ca_file") != NULL);
	T_CHECK(parse("directory = { uri = \"ldap://h\"; base = \"dc=x\"; "
		      "ca_file = \"/ca.pem\"; timeout = 5; cache_ttl = 0; };",
		    err, sizeof(err)) == 0 &&
	    c.dir.timeout == 5 && c.dir.cache_ttl == 0);
	T_CHECK(parse("directory = { uri = \"http://h\"; base = \"dc=x\"; };",
		    err, sizeof(err)) == -1);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "filter = \"(uid=alice)\"; };",
		    err, sizeof(err)) == -1 &&
	    strstr(err, "%u") != NULL);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "filter = \"(uid=%s)\"; };",
		    err, sizeof(err)) == -1);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "attribute = \"vivo)(x\"; };",
		    err, sizeof(err)) == -1);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "bind_dn = \"cn=r\"; };",
		    err, sizeof(err)) == -1);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "timeout = 0; };",
		    err, sizeof(err)) == -1);
	T_CHECK(parse("directory = { uri = \"ldapi:///\"; base = \"dc=x\"; "
		      "colour = 1; };",
		    err, sizeof(err)) == -1);
}

T_MAIN("directory", T_CASE(escape_rfc4515), T_CASE(line_round_trip),
    T_CASE(only_public_methods), T_CASE(malformed_values), T_CASE(ipa_passkey),
    T_CASE(counter_key), T_CASE(config_directory))
