/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - /etc/security/pam_vivo.conf (libconfig format).
 */
#ifndef VIVO_CONFIG_H
#define VIVO_CONFIG_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIVO_CONFIG_DEFAULT "/etc/security/pam_vivo.conf"
#define VIVO_STORE_DEFAULT "/etc/security/pam_vivo/users"
#define VIVO_USER_STORE_REL ".config/pam_vivo/implants"
#define VIVO_CONFIG_MAX (64 * 1024)
#define VIVO_TIMEOUT_MAX 600
#define VIVO_READERS_MAX 16

enum vivo_method {
	VIVO_M_UID = 1u << 0,
	VIVO_M_HMAC = 1u << 1,
	VIVO_M_U2F = 1u << 2,
	VIVO_M_FIDO2 = 1u << 3,
};

#define VIVO_FIDO2_PIN_RETRIES_FLOOR 3 /* fido2.min_pin_retries default */
#define VIVO_SERVICES_MAX 32           /* groups in `services` */
#define VIVO_SERVICE_NAME_MAX 63

/* One group of `services`: what it overrides for that PAM service. */
enum vivo_service_key {
	VIVO_SVC_METHODS = 1u << 0,
	VIVO_SVC_TIMEOUT = 1u << 1,
	VIVO_SVC_IDENTIFY = 1u << 2,
	VIVO_SVC_ALLOW_REMOTE = 1u << 3,
	VIVO_SVC_AUTHTOK = 1u << 4,
};
struct vivo_service_cfg {
	char name[VIVO_SERVICE_NAME_MAX + 1]; /* PAM_SERVICE */
	unsigned set;                         /* enum vivo_service_key bits */
	unsigned methods;
	unsigned timeout;
	int identify;
	int allow_remote;
	int authtok;
};

/* `directory`: enrollments read from an LDAP directory (directory.h). */
#define VIVO_DIR_FILTER_DEFAULT "(&(objectClass=posixAccount)(uid=%u))"
#define VIVO_DIR_ATTR_DEFAULT "vivoImplant"
#define VIVO_DIR_TIMEOUT_DEFAULT 3
#define VIVO_DIR_TIMEOUT_MAX 60
#define VIVO_DIR_CACHE_TTL_DEFAULT 86400
struct vivo_dir_cfg {
	char uri[512];  /* ldaps://, ldap:// (StartTLS) or ldapi://; "" = off */
	char base[512]; /* search base */
	char filter[512];   /* %u: the user name, escaped (RFC 4515) */
	char attribute[64]; /* the attribute holding the values */
	unsigned timeout;   /* seconds for the whole lookup */
	char ca_file[512];  /* CA certificates (PEM) for TLS */
	unsigned cache_ttl; /* seconds a cached answer stays usable; 0 = none */
	char bind_dn[512];  /* "" = anonymous */
	char bind_password_file[512]; /* root-only file with the password */
	int allow_uid; /* uid enrollments too (the site hides them) */
	/* not a key: set by the helper, vivo_now_ms() by which a lookup must
	 * be over to fit the module's bounds (0: only timeout counts) */
	int64_t deadline;
};

struct vivo_config {
	unsigned timeout;                    /* seconds to wait for a tap */
	char readers[VIVO_READERS_MAX][128]; /* name substrings */
	size_t nreaders;                     /* 0 = every reader */
	unsigned methods;                    /* enum vivo_method bits */
	char store[512];                     /* system store directory */
	int user_store;          /* also read ~/.config/pam_vivo/implants */
	int allow_remote;        /* accept requests with PAM_RHOST */
	char appid[256];         /* u2f application id */
	int check_counter;       /* u2f: counter must grow */
	char rpid[256];          /* fido2 relying party id */
	int fido2_require_pin;   /* fido2: every login needs the PIN */
	int fido2_check_counter; /* fido2: counter must grow */
	unsigned fido2_min_pin_retries; /* send no PIN below this */
	int identify; /* no PAM_USER: the implant says who it is */
	int authtok;  /* release the sealed login secret as PAM_AUTHTOK */
	struct vivo_dir_cfg dir; /* `directory` */
	struct vivo_service_cfg services[VIVO_SERVICES_MAX];
	size_t nservices;
	char service[VIVO_SERVICE_NAME_MAX + 1]; /* applied, or "" */
};

/* The defaults (docs/config.md, "Keys"). */
void vivo_config_defaults(struct vivo_config *c);

/* Parse a config text. Unknown keys, wrong types and out-of-range values
 * are errors. 0 / -1 with a message in err. */
int vivo_config_parse(
    const char *text, struct vivo_config *c, char *err, size_t errlen);

/*
 * Load `path` (NULL or "" = the default path). The file must be owned by
 * root or by `owner` (the caller) and pass the checks of vivo_file_read.
 * A missing default file means the defaults; a missing explicit file is an
 * error. 0 / -1 with a message in err.
 */
int vivo_config_load(const char *path, uid_t owner, struct vivo_config *c,
    char *err, size_t errlen);

/*
 * Apply the `services` group named `service` (PAM_SERVICE, as the module
 * read it from libpam; never from the caller's environment): its keys
 * replace the top-level ones. Nothing when there is no such group. 1 if
 * one was applied, 0 if not.
 */
int vivo_config_apply_service(struct vivo_config *c, const char *service);

/* "uid" -> VIVO_M_UID, ...; 0 if unknown. */
unsigned vivo_method_from_name(const char *name);
const char *vivo_method_name(unsigned m);

/* 1 if a line of text starts with @include (which libconfig 1.5 would
 * follow: refused in every file we read). */
int vivo_text_has_include(const char *text);

/* config_read_string, refusing @include; err gets "line N: message". */
int
vivo_libconfig_parse(config_t *cfg, const char *text, char *err, size_t errlen);

#endif
