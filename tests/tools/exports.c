/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exports - list the dynamic symbols a shared object defines that a PAM
 * module may define; exit 1 if the module exports anything but the two PAM
 * entry points or lacks one of them. Reads the ELF dynamic symbol table by
 * asking the dynamic linker (dlsym) for the two expected names and
 * scanning `nm -D` output for the rest (done by the test script).
 *
 * Usage: exports MODULE.so  -> prints "pam_sm_authenticate: yes" etc.
 */
#include <dlfcn.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	static const char *want[] = { "pam_sm_authenticate", "pam_sm_setcred" };
	static const char *forbidden[] = { "pam_sm_open_session",
		"pam_sm_close_session", "pam_sm_chauthtok", "pam_sm_acct_mgmt",
		"vivo_msg_decode", "vivo_msg_encode", "vivo_user_valid" };
	void *h;
	int bad = 0;

	if (argc != 2)
		return 2;
	if ((h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int ok = dlsym(h, want[i]) != NULL;
		printf("%s: %s\n", want[i], ok ? "exported" : "MISSING");
		bad |= !ok;
	}
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		int ok = dlsym(h, forbidden[i]) == NULL;
		printf("%s: %s\n", forbidden[i], ok ? "hidden" : "EXPORTED");
		bad |= !ok;
	}
	dlclose(h);
	return bad;
}
