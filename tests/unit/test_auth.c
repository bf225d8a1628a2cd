/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_auth.c - the decision unit (decide.c) and the one tap loop (tap.c)
 * driven by a fake reader (readerio.h) and simulated chips, with no pcscd
 * and no root: a chip lost mid-exchange then presented again, the
 * compare-and-swap lost to a concurrent login, a caller that cannot write
 * the counter, the clone signal, which reason the person sees when
 * several entries fail, and the one-request rule. The chips here answer
 * from the specifications (FIDO U2F raw messages, the YubiKey HMAC-SHA1
 * challenge-response), with OpenSSL doing what their applets do.
 */
#include "t.h"

#include "decide.h"
#include "hmac.h"
#include "method.h"
#include "tap.h"
#include "u2f.h"
#include "uid.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define APPID "pam://unit"

/* ---- a simulated chip ---------------------------------------------------- */

struct chip {
	uint8_t uid[7];
	int has_u2f, has_hmac;
	EVP_PKEY *key;     /* the U2F credential */
	uint8_t kh[64];    /* its key handle */
	uint32_t counter;  /* U2F signature counter */
	int counter_stuck; /* never moves (a clone's copy) */
	uint8_t hkey[20];  /* HMAC-SHA1 slot 2 */
	int lose_after;    /* the chip leaves at this APDU (0: never) */
	int napdus;        /* APDUs received this tap */
	int selected;      /* 1 U2F, 2 HMAC */
	int hmac_selects;  /* how often the HMAC applet was selected */
};

static void
sw(uint8_t *r, size_t *n, uint16_t s)
{
	r[(*n)++] = (uint8_t)(s >> 8);
	r[(*n)++] = (uint8_t)s;
}

static void
u2f_sign(struct chip *c, const uint8_t *chal, const uint8_t *app, uint8_t *r,
    size_t *n)
{
	uint8_t msg[32 + 1 + 4 + 32], sig[80];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!c->counter_stuck)
		c->counter += 3;
	memcpy(msg, app, 32);
	msg[32] = 0x01; /* user present: the tap */
	msg[33] = (uint8_t)(c->counter >> 24);
	msg[34] = (uint8_t)(c->counter >> 16);
	msg[35] = (uint8_t)(c->counter >> 8);
	msg[36] = (uint8_t)c->counter;
	memcpy(msg + 37, chal, 32);
	T_CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, c->key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) == 1);
	EVP_MD_CTX_free(md);
	memcpy(r, msg + 32, 5);
	memcpy(r + 5, sig, siglen);
	*n = 5 + siglen;
	sw(r, n, 0x9000);
}

static int
chip_transmit(
    void *h, const uint8_t *cmd, size_t clen, uint8_t *r, size_t *rlen)
{
	static const uint8_t u2f_aid[] = { 0xa0, 0, 0, 0x06, 0x47, 0x2f, 0, 1 };
	static const uint8_t otp_aid[] = { 0xa0, 0, 0, 0x05, 0x27, 0x20, 0x01 };
	struct chip *c = h;
	size_t n = 0;

	if (c->lose_after && ++c->napdus >= c->lose_after)
		return VIVO_ERR_CARD_COMM;
	if (clen >= 5 && cmd[0] == 0xff && cmd[1] == 0xca) {
		memcpy(r, c->uid, sizeof(c->uid));
		n = sizeof(c->uid);
		sw(r, &n, 0x9000);
	} else if (clen >= 5 && cmd[1] == 0xa4) {
		if (c->has_u2f && cmd[4] == 8 &&
		    memcmp(cmd + 5, u2f_aid, 8) == 0) {
			c->selected = 1;
			memcpy(r, "U2F_V2", 6);
			n = 6;
			sw(r, &n, 0x9000);
		} else if (c->has_hmac && cmd[4] >= 7 &&
		    memcmp(cmd + 5, otp_aid, 7) == 0) {
			static const uint8_t st[6] = { 5, 4, 3, 1, 0x02, 0x00 };
			c->selected = 2;
			c->hmac_selects++;
			memcpy(r, st, 6); /* slot 2 programmed */
			n = 6;
			sw(r, &n, 0x9000);
		} else
			sw(r, &n, 0x6a82);
	} else if (c->selected == 1 && clen > 7 + 64 && cmd[1] == 0x02) {
		const uint8_t *d = cmd + 5;
		if (d[64] != sizeof(c->kh) ||
		    memcmp(d + 65, c->kh, sizeof(c->kh)))
			sw(r, &n, 0x6a80);
		else
			u2f_sign(c, d, d + 32, r, &n);
	} else if (c->selected == 2 && clen >= 5 + 64 && cmd[1] == 0x01 &&
	    cmd[2] == 0x38) {
		/* HMAC_LT64: the trailing run of the last byte is padding */
		size_t len = 64;
		unsigned int mdlen = 20;
		while (len > 0 && cmd[5 + len - 1] == cmd[5 + 63])
			len--;
		HMAC(EVP_sha1(), c->hkey, sizeof(c->hkey), cmd + 5, len, r,
		    &mdlen);
		n = mdlen;
		sw(r, &n, 0x9000);
	} else
		sw(r, &n, 0x6d00);
	if (n > *rlen)
		return VIVO_ERR_CARD_COMM;
	*rlen = n;
	return VIVO_OK;
}

static void
chip_new(struct chip *c, uint8_t id)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->uid, (const uint8_t[]){ 0x04, id, 2, 3, 4, 5, 6 }, 7);
	c->has_u2f = c->has_hmac = 1;
	c->key = EVP_EC_gen("P-256");
	T_CHECK(c->key != NULL);
	memset(c->kh, id, sizeof(c->kh));
	memset(c->hkey, 0x30 + id, sizeof(c->hkey));
}

static void
chip_free(struct chip *c)
{
	EVP_PKEY_free(c->key);
	c->key = NULL;
}

/* ---- a fake reader: one tap per chip in the list -------------------------- */

struct reader {
	struct chip *taps[4];
	size_t ntaps, next;
	int ready_calls;
	struct chip *on; /* the connected chip */
};

static struct reader rd;

static int
r_open(void **h, const struct vivo_config *c)
{
	(void)c;
	*h = &rd;
	return VIVO_OK;
}

static void
r_close(void *h)
{
	(void)h;
}

static int
r_wait_tap(void *h, int64_t deadline, vivo_ready_fn ready, void *arg,
    char *reader, size_t readersz)
{
	struct reader *r = h;

	(void)deadline;
	if (ready != NULL)
		ready(arg, 1);
	if (r->next >= r->ntaps)
		return VIVO_ERR_READER_TIMEOUT;
	r->on = r->taps[r->next++];
	r->on->napdus = 0;
	r->on->selected = 0;
	(void)vivo_strlcpy(reader, "Fake Reader 00", readersz);
	return VIVO_OK;
}

static int
r_connect(void *h, const char *reader, struct vivo_transport *t, uint8_t *atr,
    size_t *atrlen)
{
	struct reader *r = h;

	(void)reader;
	t->transmit = chip_transmit;
	t->h = r->on;
	atr[0] = 0x3b;
	*atrlen = 1;
	return VIVO_OK;
}

static void
r_disconnect(void *h)
{
	(void)h;
}

static const struct vivo_reader_io fake_io = {
	r_open,
	r_close,
	r_wait_tap,
	r_connect,
	r_disconnect,
	NULL,
};

/* ---- enrollments and a fake store --------------------------------------- */

static struct vivo_config cfg;
static struct vivo_enrollments en;

struct store_sim {
	int calls;
	int concurrent;          /* another login changed the entry first */
	int fail;                /* the write fails */
	struct vivo_entry after; /* the entry as written */
};

static int
sim_commit(void *ctx, const struct vivo_try *x, vivo_entry_update_fn fn,
    void *arg, char *reason, size_t reasonsz)
{
	struct store_sim *s = ctx;
	int r;

	s->calls++;
	s->after = *x->e; /* re-read under the lock */
	if (s->concurrent) {
		if (s->after.method == VIVO_M_U2F)
			s->after.u2f.counter += 1000;
		else
			s->after.hmac.challenge[0] ^= 1;
	}
	if ((r = fn(&s->after, arg, reason, reasonsz)) != VIVO_R_OK)
		return r;
	if (s->fail) {
		snprintf(reason, reasonsz, "cannot store the new state");
		return VIVO_R_INTERNAL;
	}
	return VIVO_R_OK;
}

static void
enroll_u2f(struct chip *c, const char *label, int store)
{
	struct vivo_entry *e = &en.st[store].e[en.st[store].n++];
	size_t len = sizeof(e->u2f.pub);

	memset(e, 0, sizeof(*e));
	(void)vivo_strlcpy(e->label, label, sizeof(e->label));
	e->method = VIVO_M_U2F;
	(void)vivo_strlcpy(e->u2f.appid, APPID, sizeof(e->u2f.appid));
	memcpy(e->u2f.kh, c->kh, sizeof(c->kh));
	e->u2f.khlen = sizeof(c->kh);
	T_CHECK(EVP_PKEY_get_octet_string_param(c->key,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, e->u2f.pub,
		    sizeof(e->u2f.pub), &len) == 1 &&
	    len == sizeof(e->u2f.pub));
	e->u2f.counter = c->counter;
}

static void
enroll_hmac(struct chip *c, const char *label)
{
	struct vivo_entry *e =
	    &en.st[VIVO_ST_SYSTEM].e[en.st[VIVO_ST_SYSTEM].n++];

	memset(e, 0, sizeof(*e));
	(void)vivo_strlcpy(e->label, label, sizeof(e->label));
	e->method = VIVO_M_HMAC;
	T_CHECK(vivo_hmac_seal(c->hkey, "alice", 2, &e->hmac) == 0);
}

/* Each case has a registry of its own (a contest marker of the case
 * before would otherwise count for a moment), in a directory of this
 * run's: no root needed, the registry accepts one its caller owns. */
static char regpath[PATH_MAX], top[64] = "";

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
cleanup(void)
{
	if (top[0] != '\0')
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
regdir(void)
{
	return regpath;
}

static void
new_regdir(void)
{
	static int n;

	if (top[0] == '\0') {
		snprintf(top, sizeof(top), "/tmp/vivo-test-auth-XXXXXX");
		T_CHECK(mkdtemp(top) != NULL);
		atexit(cleanup);
	}
	snprintf(regpath, sizeof(regpath), "%s/reg%d", top, n++);
	T_CHECK(mkdir(regpath, 0700) == 0 && chmod(regpath, 01777) == 0);
}

static void
count_ready(void *arg, size_t nreaders)
{
	(void)arg;
	(void)nreaders;
	rd.ready_calls++;
}

static void
fresh(unsigned methods)
{
	vivo_config_defaults(&cfg);
	cfg.methods = methods;
	(void)vivo_strlcpy(cfg.appid, APPID, sizeof(cfg.appid));
	memset(&en, 0, sizeof(en));
	memset(&rd, 0, sizeof(rd));
	new_regdir();
}

struct run {
	int locker; /* a screen locker: may not write the public store */
	struct vivo_try x;
	struct vivo_tap tp;
	struct store_sim sim;
	struct vivo_waiter who;
	int r;
};

static int
decide_fn(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen,
    void *arg)
{
	(void)atr;
	(void)atrlen;
	return vivo_decide(arg, t);
}

/* One authentication of alice through the tap loop and the decision. */
static void
run(struct run *u)
{
	u->x.cfg = &cfg;
	u->x.user = "alice";
	u->x.en = &en;
	for (int s = 0; s < VIVO_ST_N; s++)
		u->x.writable[s] = !(u->locker && s == VIVO_ST_PUBLIC);
	u->x.commit = sim_commit;
	u->x.commit_ctx = &u->sim;
	(void)vivo_strlcpy(u->who.service, "unit", sizeof(u->who.service));
	u->tp.io = &fake_io;
	u->tp.cfg = &cfg;
	u->tp.who = &u->who;
	u->tp.regdir = regdir();
	u->tp.timeout = 1;
	u->tp.ready = count_ready;
	u->r = vivo_tap_run(&u->tp, decide_fn, &u->x);
}

/* ---- the cases ----------------------------------------------------------- */

static void
u2f_success_commits_the_counter(void)
{
	static struct run u;
	struct chip c;

	fresh(VIVO_M_U2F | VIVO_M_HMAC);
	chip_new(&c, 1);
	enroll_u2f(&c, "apex", VIVO_ST_PUBLIC);
	rd.taps[rd.ntaps++] = &c;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_OK);
	T_CHECK(u.x.result == VIVO_R_OK && u.x.e != NULL &&
	    strcmp(u.x.e->label, "apex") == 0 && u.x.store == VIVO_ST_PUBLIC);
	T_CHECK(u.sim.calls == 1 && u.sim.after.u2f.counter == c.counter);
	T_CHECK(strstr(u.x.reason, "accepted (u2f)") != NULL);
	T_CHECK(rd.ready_calls == 1);
	chip_free(&c);
}

static void
chip_lost_mid_exchange_then_presented_again(void)
{
	static struct run u;
	static struct chip lost, whole;

	fresh(VIVO_M_HMAC);
	chip_new(&lost, 2);
	enroll_hmac(&lost, "apex-hmac");
	whole = lost;        /* the same implant, held still this time */
	lost.lose_after = 2; /* SELECT answered, the CHALLENGE never */
	rd.taps[rd.ntaps++] = &lost;
	rd.taps[rd.ntaps++] = &whole;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_OK);
	T_CHECK(rd.next == 2);     /* it waited for the second tap */
	T_CHECK(u.sim.calls == 1); /* the state rolled once */
	/* lost at every tap: no decision, no state change, the timeout */
	fresh(VIVO_M_HMAC);
	enroll_hmac(&lost, "apex-hmac");
	rd.taps[rd.ntaps++] = &lost;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_ERR_READER_TIMEOUT && u.sim.calls == 0);
	chip_free(&lost);
}

static void
compare_and_swap_lost_to_a_concurrent_login(void)
{
	static struct run u;
	struct chip c;

	fresh(VIVO_M_HMAC);
	chip_new(&c, 3);
	enroll_hmac(&c, "apex-hmac");
	rd.taps[rd.ntaps++] = &c;
	memset(&u, 0, sizeof(u));
	u.sim.concurrent = 1;
	run(&u);
	T_CHECK(u.r == VIVO_OK);
	T_CHECK(u.x.result == VIVO_R_AUTH_FAILED);
	T_CHECK(strstr(u.x.reason, "used by a concurrent authentication"));
	T_CHECK(strstr(u.x.text, "just used by another login") != NULL);
	chip_free(&c);
}

static void
write_failure_is_not_success(void)
{
	static struct run u;
	struct chip c;

	fresh(VIVO_M_HMAC);
	chip_new(&c, 4);
	enroll_hmac(&c, "apex-hmac");
	rd.taps[rd.ntaps++] = &c;
	memset(&u, 0, sizeof(u));
	u.sim.fail = 1;
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_INTERNAL);
	T_CHECK(strstr(u.x.reason, "cannot store the new state") != NULL);
	T_CHECK(strstr(u.x.text, "could not be saved") != NULL);
	chip_free(&c);
}

static void
caller_that_cannot_write_the_counter(void)
{
	static struct run u;
	struct chip c;

	fresh(VIVO_M_U2F);
	chip_new(&c, 5);
	enroll_u2f(&c, "apex", VIVO_ST_PUBLIC);
	rd.taps[rd.ntaps++] = &c;
	memset(&u, 0, sizeof(u));
	u.locker = 1;
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_OK);
	T_CHECK(u.sim.calls == 0); /* checked, not advanced */
	chip_free(&c);
}

static void
clone_signal_ends_the_request(void)
{
	static struct run u;
	struct chip c;

	fresh(VIVO_M_U2F | VIVO_M_HMAC);
	chip_new(&c, 6);
	enroll_u2f(&c, "apex", VIVO_ST_PUBLIC);
	en.st[VIVO_ST_PUBLIC].e[0].u2f.counter =
	    100;                      /* the original is ahead */
	enroll_hmac(&c, "apex-hmac"); /* and would verify */
	rd.taps[rd.ntaps++] = &c;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_AUTH_FAILED);
	T_CHECK(u.x.clone == 1);
	T_CHECK(strstr(u.x.text, "may have been cloned") != NULL);
	T_CHECK(c.hmac_selects == 0); /* no other entry was tried */
	T_CHECK(u.sim.calls == 0);
	chip_free(&c);
}

static void
which_reason_when_several_entries_fail(void)
{
	static struct run u;
	struct chip mine, other;

	fresh(VIVO_M_U2F | VIVO_M_HMAC | VIVO_M_UID);
	chip_new(&mine, 7);
	chip_new(&other, 8);
	enroll_u2f(&mine, "apex", VIVO_ST_PUBLIC);
	enroll_hmac(&mine, "apex-hmac");
	rd.taps[rd.ntaps++] = &other;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_AUTH_FAILED);
	T_CHECK(u.x.e == NULL);
	/* the person is told plainly; the log keeps what was seen last */
	T_CHECK(
	    strcmp(u.x.text, "This implant is not enrolled for alice.") == 0);
	T_CHECK(strstr(u.x.reason, "not enrolled for alice") != NULL);
	/* a u2f entry made for another appid is named in the log */
	fresh(VIVO_M_U2F);
	enroll_u2f(&mine, "elsewhere", VIVO_ST_PUBLIC);
	(void)vivo_strlcpy(en.st[VIVO_ST_PUBLIC].e[0].u2f.appid, "pam://other",
	    sizeof(en.st[VIVO_ST_PUBLIC].e[0].u2f.appid));
	rd.taps[rd.ntaps++] = &mine;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.x.result == VIVO_R_AUTH_FAILED);
	T_CHECK(strstr(u.x.reason, "enrolled for appid pam://other") != NULL);
	chip_free(&mine);
	chip_free(&other);
}

static void
second_waiting_request_contests_the_tap(void)
{
	static struct run u;
	struct vivo_waiter w = { "xlock", "alice", ":0", "" };
	vivo_tapreg_t *other = NULL;
	char err[256];
	struct chip c;

	fresh(VIVO_M_U2F);
	chip_new(&c, 9);
	enroll_u2f(&c, "apex", VIVO_ST_PUBLIC);
	rd.taps[rd.ntaps++] = &c;
	T_CHECK(vivo_tapreg_join(
		    &other, regdir(), &w, &cfg, err, sizeof(err)) == 0);
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_ERR_TAP_CONTESTED);
	T_CHECK(strstr(u.tp.why, "\"xlock\" for alice on :0") != NULL);
	T_CHECK(c.napdus == 0 && u.sim.calls == 0); /* the chip was not used */
	vivo_tapreg_leave(&other);
	chip_free(&c);
}

static void
uid_matches_only_its_chip(void)
{
	static struct run u;
	struct chip c, d;
	struct vivo_entry *e;

	fresh(VIVO_M_UID);
	chip_new(&c, 10);
	chip_new(&d, 11);
	e = &en.st[VIVO_ST_SYSTEM].e[en.st[VIVO_ST_SYSTEM].n++];
	(void)vivo_strlcpy(e->label, "ntag", sizeof(e->label));
	e->method = VIVO_M_UID;
	T_CHECK(vivo_uid_enroll(
		    c.uid, sizeof(c.uid), VIVO_UID_ITER_MIN, &e->uid) == 0);
	rd.taps[rd.ntaps++] = &d;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.x.result == VIVO_R_AUTH_FAILED);
	rd.next = 0;
	rd.taps[0] = &c;
	memset(&u, 0, sizeof(u));
	run(&u);
	T_CHECK(u.r == VIVO_OK && u.x.result == VIVO_R_OK && u.x.e != NULL &&
	    strcmp(u.x.e->label, "ntag") == 0);
	if (u.r != VIVO_OK || u.x.e == NULL)
		printf("  r %d result %u reason %s why %s\n", u.r, u.x.result,
		    u.x.reason, u.tp.why);
	chip_free(&c);
	chip_free(&d);
}

T_MAIN("auth", T_CASE(u2f_success_commits_the_counter),
    T_CASE(chip_lost_mid_exchange_then_presented_again),
    T_CASE(compare_and_swap_lost_to_a_concurrent_login),
    T_CASE(write_failure_is_not_success),
    T_CASE(caller_that_cannot_write_the_counter),
    T_CASE(clone_signal_ends_the_request),
    T_CASE(which_reason_when_several_entries_fail),
    T_CASE(second_waiting_request_contests_the_tap),
    T_CASE(uid_matches_only_its_chip))
