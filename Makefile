# SPDX-License-Identifier: BSD-2-Clause
# pam_vivo - build, install, test.
#
#   make                build/pam_vivo.so, build/vivo-helper, build/vivo-enroll
#   make check          unit tests, then the integration tests (root: private
#                       pcscd + virtual implants + the real libpam)
#   make demo           set everything up and show a real PAM authentication
#   make install        DESTDIR, PREFIX (default /usr/local), PAMDIR

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
SYSCONFDIR ?= /etc
MULTIARCH  ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || \
                $(CC) -dumpmachine)
PAMDIR     ?= /lib/$(MULTIARCH)/security
HELPER_PATH = $(LIBEXECDIR)/pam_vivo/vivo-helper

CC       ?= cc
PKGS      = libpcsclite libcrypto libconfig
PKG_CONFIG ?= pkg-config
# libfido2: its headers at build time; the library itself is dlopen()ed by
# the fido2 method when it is first used (helper/lib/fido2lib.h)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libfido2)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS)) -ldl

# Debian's hardening flags (dpkg-buildflags with hardening=+all), plus ours.
OPT      ?= -O2 -g
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
            -Wstrict-prototypes -Wpointer-arith -Wvla
# Product code (module, helper, tool, their library) also builds clean with
# implicit-conversion warnings on; the tests and tools do not need them.
PROD_WARN = -Wconversion -Wsign-conversion
HARDEN    = -fstack-protector-strong -fstack-clash-protection -fcf-protection \
            -D_FORTIFY_SOURCE=2 -Werror=format-security
CFLAGS   ?= $(OPT)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CPPFLAGS) $(CFLAGS)
LDHARDEN  = -Wl,-z,relro -Wl,-z,now -Wl,--as-needed

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
LDHARDEN   += -fsanitize=address,undefined
endif

# A sanitizer build lives in its own tree: objects of the two kinds never mix.
ifeq ($(SANITIZE),1)
B = build/san
else
B = build
endif
LIB_SRC  = $(wildcard helper/lib/*.c)
LIB_OBJ  = $(LIB_SRC:helper/lib/%.c=$(B)/lib/%.o)
MOD_LIB_OBJ = $(B)/mod/proto.o $(B)/mod/util.o
HDRS     = $(wildcard helper/lib/*.h)

all: $(B)/pam_vivo.so $(B)/vivo-helper $(B)/vivo-enroll

# Rebuild the module when the compiled-in helper path changes.
$(B)/helper-path.stamp: FORCE
	@mkdir -p $(B)
	@echo '$(HELPER_PATH)' | cmp -s - $@ || echo '$(HELPER_PATH)' > $@

$(B)/lib/%.o: helper/lib/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PROD_WARN) -fPIE $(PKG_CFLAGS) -c $< -o $@

$(B)/libvivo.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# The module: PIC, libc + libpam only, two exported symbols.
$(B)/mod/%.o: helper/lib/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PROD_WARN) -fPIC -fvisibility=hidden -c $< -o $@

$(B)/mod/pam_vivo.o: pam_vivo/pam_vivo.c $(HDRS) $(B)/helper-path.stamp
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PROD_WARN) -fPIC -fvisibility=hidden \
	    -DVIVO_HELPER_PATH='"$(HELPER_PATH)"' -c $< -o $@

$(B)/pam_vivo.so: $(B)/mod/pam_vivo.o $(MOD_LIB_OBJ) pam_vivo/pam_vivo.map
	$(CC) -shared $(ALL_CFLAGS) $(LDHARDEN) -Wl,--no-undefined \
	    -Wl,--version-script=pam_vivo/pam_vivo.map \
	    -o $@ $(B)/mod/pam_vivo.o $(MOD_LIB_OBJ) -lpam $(LDFLAGS)

$(B)/vivo-helper: helper/vivo-helper.c $(B)/libvivo.a
	$(CC) $(ALL_CFLAGS) $(PROD_WARN) -fPIE -pie $(LDHARDEN) $(PKG_CFLAGS) -o $@ $< \
	    $(B)/libvivo.a $(PKG_LIBS) $(LDFLAGS)

# vivo-enroll links libpam: authtok set checks the password with a PAM stack.
# Under ASan, libcrypt is linked in from the start: ASan looks up the real
# crypt() when it starts, and pam_unix, dlopen()ed later with libcrypt,
# would otherwise call through a NULL pointer.
ENROLL_LIBS = -lpam
ifeq ($(SANITIZE),1)
ENROLL_LIBS += -Wl,--no-as-needed -lcrypt -Wl,--as-needed
endif
# (relinked when the Makefile changes: ENROLL_LIBS lives here)
$(B)/vivo-enroll: helper/vivo-enroll.c $(B)/libvivo.a Makefile
	$(CC) $(ALL_CFLAGS) $(PROD_WARN) -fPIE -pie $(LDHARDEN) $(PKG_CFLAGS) -o $@ $< \
	    $(B)/libvivo.a $(PKG_LIBS) $(ENROLL_LIBS) $(LDFLAGS)

# ---- tests ---------------------------------------------------------------
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# the one fake transport (tests/common/fake_card.c), shared with the fuzzers
$(B)/tests/%: tests/unit/%.c tests/unit/t.h tests/unit/t_tmp.h \
    tests/common/fake_card.c tests/common/fake_card.h $(B)/libvivo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie $(PKG_CFLAGS) -Ihelper/lib -Itests/common \
	    -o $@ $< tests/common/fake_card.c $(B)/libvivo.a $(PKG_LIBS) $(LDFLAGS)

$(B)/tests/pamdrive: tests/tools/pamdrive.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< -lpam $(LDFLAGS)

$(B)/tests/exports: tests/tools/exports.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< -ldl $(LDFLAGS)

$(B)/tests/nopidfd.so: tests/tools/nopidfd.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl $(LDFLAGS)

$(B)/tests/nodump.so: tests/tools/nodump.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl $(LDFLAGS)

$(B)/tests/hmac_roll: tests/tools/hmac_roll.c $(B)/libvivo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie $(PKG_CFLAGS) -Ihelper/lib -o $@ $< \
	    $(B)/libvivo.a $(PKG_LIBS) $(LDFLAGS)

TEST_TOOLS = $(B)/tests/pamdrive $(B)/tests/exports $(B)/tests/hmac_roll \
             $(B)/tests/nopidfd.so $(B)/tests/nodump.so

test-tools: all $(TEST_TOOLS)

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

deps:
	@sh tests/install-deps.sh

# After `deps`, everything tests/install-deps.sh installs is there: a test
# that would skip for want of it fails instead (VIVO_REQUIRE_DEPS=1).
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TEST_TOOLS)
	@sh tests/run-unit.sh $(UNIT_BIN)
	@sh tests/test-install.sh
	@VIVO_REQUIRE_DEPS=1 sh tests/test-manpages.sh
	@sh tests/test-docs.sh
	@VIVO_REQUIRE_DEPS=1 sh tests/test-format.sh
ifneq ($(SANITIZE),1)
	@$(MAKE) --no-print-directory fuzz-regress
	@# the virtual implants, checked on their own (python3-fido2's client
	@# for CTAP2): independent of the product, so a bug is not mirrored
	@bash tests/vimplant/selftest.sh
endif
	@VIVO_BUILD=$(CURDIR)/$(B) VIVO_SANITIZE=$(SANITIZE) \
	    sh tests/run-integration.sh
ifneq ($(SANITIZE),1)
	@VIVO_REQUIRE_DEPS=1 sh tests/test-package.sh
endif

demo: deps
	@$(MAKE) --no-print-directory all $(TEST_TOOLS)
	@unshare --mount --net --propagation private /usr/bin/python3 tests/demo.py

# ---- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR)/pam_vivo \
	    $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/security
	install -m 0644 $(B)/pam_vivo.so $(DESTDIR)$(PAMDIR)/pam_vivo.so
	install -m 0755 $(B)/vivo-helper $(DESTDIR)$(HELPER_PATH)
	install -m 0755 $(B)/vivo-enroll $(DESTDIR)$(BINDIR)/vivo-enroll
	test -e $(DESTDIR)$(SYSCONFDIR)/security/pam_vivo.conf || \
	    install -m 0644 conf/pam_vivo.conf \
	        $(DESTDIR)$(SYSCONFDIR)/security/pam_vivo.conf

uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_vivo.so $(DESTDIR)$(HELPER_PATH) \
	    $(DESTDIR)$(BINDIR)/vivo-enroll

# Apply .clang-format to every C source (tests/test-format.sh checks it).
format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

# Further targets, each in its own file: fuzzing (make fuzz), the Debian
# package and man pages, benchmarks (make bench).
-include tests/fuzz/fuzz.mk
-include man/man.mk
-include bench/bench.mk

.PHONY: all deps check unit test-tools demo install uninstall clean format FORCE
