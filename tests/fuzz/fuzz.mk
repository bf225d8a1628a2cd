# SPDX-License-Identifier: BSD-2-Clause
# tests/fuzz/fuzz.mk - libFuzzer targets, one per parser (included by the
# top-level Makefile; run from the top of the tree).
#
#   make fuzz             build every target, run each for FUZZ_SECONDS
#                         (default 60) on a scratch copy of its corpus;
#                         fails on any crash, leak, UBSan report, timeout
#                         or broken invariant
#   make fuzz-regress     run every target once over its checked-in corpus
#                         and regressions (seconds; part of `make check`)
#   make fuzz-build       just build them
#   make fuzz-seeds       regenerate tests/fuzz/corpus (make-seeds.py)
#
# FUZZ_TARGETS=...        a subset, e.g. make fuzz FUZZ_TARGETS=fuzz_store
# FUZZ_CC                 clang (14 on Debian 12); needs libclang-rt-14-dev
#
# The product library is compiled again here, into build/fuzz/, with the
# same sanitizers as the targets (never the objects of build/lib).
# tests/fuzz/README.md says more.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B        = $(B)/fuzz
FUZZ_DIR      = tests/fuzz

FUZZ_TARGETS ?= fuzz_helper_request fuzz_helper_reply fuzz_config \
                fuzz_store fuzz_card_uid fuzz_card_hmac fuzz_u2f fuzz_ctap \
                fuzz_dirval

# -max_len per target: a little over the largest input the parser takes
# (a message body is at most VIVO_MSG_MAX = 4096 bytes).
FUZZ_MAXLEN_fuzz_helper_request = 4112
FUZZ_MAXLEN_fuzz_helper_reply   = 4112
FUZZ_MAXLEN_fuzz_config         = 4096
FUZZ_MAXLEN_fuzz_store          = 8192
FUZZ_MAXLEN_fuzz_card_uid       = 512
FUZZ_MAXLEN_fuzz_card_hmac      = 1024
FUZZ_MAXLEN_fuzz_u2f            = 4096
FUZZ_MAXLEN_fuzz_ctap           = 8192
FUZZ_MAXLEN_fuzz_dirval         = 4200

# Extra libFuzzer options per target. libconfig 1.5 leaks a string on some
# syntax errors (lsan.supp): after every input that leaks, libFuzzer's own
# leak check stops the world, which makes these two 70x slower. They rely
# on LeakSanitizer's check at exit instead, which covers every input run
# (but names no input: rerun the target on the files of
# build/fuzz/work/TARGET to find it).
FUZZ_OPTS_fuzz_config = -detect_leaks=0
FUZZ_OPTS_fuzz_store  = -detect_leaks=0
FUZZ_OPTS_fuzz_dirval = -detect_leaks=0

FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_BASE    = -std=gnu11 -D_GNU_SOURCE -g -O1 $(FUZZ_SAN)
# The product code: its own warnings, but a new clang warning must not
# stop the fuzzing build.
FUZZ_LIB_CFLAGS = $(FUZZ_BASE) $(filter-out -Werror,$(WARN)) \
                  -fsanitize=fuzzer-no-link $(PKG_CFLAGS)
FUZZ_CFLAGS  = $(FUZZ_BASE) $(WARN) -Wconversion -fsanitize=fuzzer-no-link \
               -Ihelper/lib -I$(FUZZ_DIR) -Itests/common $(PKG_CFLAGS)
FUZZ_LDFLAGS = $(FUZZ_SAN) -fsanitize=fuzzer

FUZZ_LIB_OBJ = $(LIB_SRC:helper/lib/%.c=$(FUZZ_B)/lib/%.o)
FUZZ_COMMON  = fuzz_common fuzz_msg
# the one fake transport, shared with the unit tests (tests/common)
FUZZ_COMMON_OBJ = $(FUZZ_COMMON:%=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/fake_card.o
FUZZ_HDRS    = $(wildcard $(FUZZ_DIR)/*.h) tests/common/fake_card.h
FUZZ_BIN     = $(FUZZ_TARGETS:%=$(FUZZ_B)/%)

$(FUZZ_B)/lib/%.o: helper/lib/%.c $(HDRS) | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_B)/libvivo-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_B)/obj/%.o: $(FUZZ_DIR)/%.c $(FUZZ_HDRS) $(HDRS) | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_B)/obj/fake_card.o: tests/common/fake_card.c $(FUZZ_HDRS) $(HDRS) | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/fuzz_%.o $(FUZZ_COMMON_OBJ) \
    $(FUZZ_B)/libvivo-fuzz.a
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_COMMON_OBJ) \
	    $(FUZZ_B)/libvivo-fuzz.a $(PKG_LIBS)

# Keep the objects (make would delete them as intermediates).
.SECONDARY: $(FUZZ_COMMON_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_B)/obj/%.o)

fuzz-check-cc:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "fuzz: $(FUZZ_CC) \
	not found (tests/install-deps.sh installs clang and libclang-rt-14-dev)" \
	>&2; exit 1; }

fuzz-build: $(FUZZ_BIN)

FUZZ_RUN = FUZZ_B=$(FUZZ_B) FUZZ_DIR=$(FUZZ_DIR) \
    $(foreach t,$(FUZZ_TARGETS),FUZZ_MAXLEN_$(t)=$(FUZZ_MAXLEN_$(t)) \
        FUZZ_OPTS_$(t)='$(FUZZ_OPTS_$(t))') \
    sh $(FUZZ_DIR)/run.sh

fuzz: fuzz-build
	@$(FUZZ_RUN) fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	@$(FUZZ_RUN) regress 0 $(FUZZ_TARGETS)

fuzz-seeds:
	/usr/bin/python3 $(FUZZ_DIR)/make-seeds.py

.PHONY: fuzz fuzz-regress fuzz-build fuzz-check-cc fuzz-seeds
