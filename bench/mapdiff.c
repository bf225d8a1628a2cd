/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapdiff - what a PAM module adds to the mappings of the process that
 * calls it (a login program, sudo, a screen locker).
 *
 *   mapdiff --confdir DIR --service NAME --user USER
 *
 * Reads /proc/self/smaps before pam_start_confdir(), after
 * pam_authenticate() (the module is loaded and has run) and after
 * pam_end() (modules unloaded), and prints:
 *   "maps <when> <count> <vsz kB> <rss kB>" for each of the three,
 *   "added <vsz kB> <rss kB> <perms> <path>" for every mapping present
 *       after pam_authenticate() that was not there before pam_start,
 *   "grown <delta vsz kB> <delta rss kB> <path>" for mappings that were
 *       there before but changed size or resident pages ([heap], stack),
 *   "result <PAM code>".
 * The conversation prints PAM_TEXT_INFO as "conv: info: ..." and flushes,
 * like pamdrive, so bench.py can tap the implant after the cue.
 */
#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAPS_MAX 2048

struct map {
	unsigned long start, end;
	char perms[8];
	char path[256];
	long size_kb, rss_kb;
};

struct snap {
	size_t n;
	struct map m[MAPS_MAX];
};

static struct snap before, after, ended;

static void
take(struct snap *s)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	struct map *cur = NULL;

	s->n = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char perms[8], path[256];
		long kb;
		int k = 0;

		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms,
			&k) == 3 &&
		    k > 0 && s->n < MAPS_MAX) {
			cur = &s->m[s->n++];
			memset(cur, 0, sizeof(*cur));
			cur->start = a;
			cur->end = b;
			snprintf(cur->perms, sizeof(cur->perms), "%s", perms);
			sscanf(line + k, "%255[^\n]", path);
			snprintf(cur->path, sizeof(cur->path), "%s",
			    path[0] ? path : "[anon]");
		} else if (cur && sscanf(line, "Size: %ld kB", &kb) == 1)
			cur->size_kb = kb;
		else if (cur && sscanf(line, "Rss: %ld kB", &kb) == 1)
			cur->rss_kb = kb;
	}
	fclose(f);
}

static void
total(const char *when, const struct snap *s)
{
	long vsz = 0, rss = 0;

	for (size_t i = 0; i < s->n; i++) {
		vsz += s->m[i].size_kb;
		rss += s->m[i].rss_kb;
	}
	printf("maps %s %zu %ld %ld\n", when, s->n, vsz, rss);
}

static const struct map *
find(const struct snap *s, const struct map *m)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].start == m->start &&
		    strcmp(s->m[i].path, m->path) == 0)
			return &s->m[i];
	return NULL;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	(void)data;
	for (int i = 0; i < n; i++) {
		printf("conv: %s: %s\n",
		    msg[i]->msg_style == PAM_TEXT_INFO ? "info" : "other",
		    msg[i]->msg);
		fflush(stdout);
	}
	*resp = calloc((size_t)n, sizeof(**resp));
	return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL;
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	int rc;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--confdir") == 0)
			confdir = argv[i + 1];
		else if (strcmp(argv[i], "--service") == 0)
			service = argv[i + 1];
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[i + 1];
	}
	if (!confdir || !service || !user) {
		fprintf(stderr,
		    "usage: mapdiff --confdir D --service S --user U\n");
		return 100;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	take(&before);
	rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	take(&after);
	if (pamh != NULL)
		pam_end(pamh, rc);
	take(&ended);
	total("before", &before);
	total("authenticated", &after);
	total("ended", &ended);
	for (size_t i = 0; i < after.n; i++) {
		const struct map *m = &after.m[i], *o = find(&before, m);
		if (o == NULL)
			printf("added %ld %ld %s %s\n", m->size_kb, m->rss_kb,
			    m->perms, m->path);
		else if (o->size_kb != m->size_kb || o->rss_kb != m->rss_kb)
			printf("grown %ld %ld %s\n", m->size_kb - o->size_kb,
			    m->rss_kb - o->rss_kb, m->path);
	}
	printf("result %d\n", rc);
	return rc;
}
