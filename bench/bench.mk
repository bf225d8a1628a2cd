# SPDX-License-Identifier: BSD-2-Clause
# make bench - what one authentication costs the host (issue #7), against
# the floor (a minimal C PC/SC program) and a peer (pam_exec + pyscard;
# for fido2, pam_exec + python3-fido2).
# Not part of `make check`. Needs root (private mount and network
# namespaces, private pcscd + vpcd, virtual implants: the integration
# tests' harness).
#
#   make bench                  BENCH_RUNS=200 runs per measurement
#   make bench BENCH_RUNS=10    a quick smoke run
#
# Prints a table and writes bench/results.json; docs/performance.md
# explains every number.

BENCH_RUNS ?= 200
BB = build/bench
BENCH_TOOLS = $(BB)/tsfifo $(BB)/spawnt $(BB)/floor $(BB)/helperwrap \
              $(BB)/mapdiff $(BB)/micro
BENCH_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) -O2 -g

$(BB)/tsfifo $(BB)/spawnt $(BB)/helperwrap: $(BB)/%: bench/%.c
	@mkdir -p $(BB)
	$(CC) $(BENCH_CFLAGS) -fPIE -pie $(LDHARDEN) -o $@ $<

$(BB)/floor: bench/floor.c
	@mkdir -p $(BB)
	$(CC) $(BENCH_CFLAGS) -fPIE -pie $(LDHARDEN) \
	    $(shell $(PKG_CONFIG) --cflags libpcsclite) -o $@ $< \
	    $(shell $(PKG_CONFIG) --libs libpcsclite)

$(BB)/mapdiff: bench/mapdiff.c
	@mkdir -p $(BB)
	$(CC) $(BENCH_CFLAGS) -fPIE -pie $(LDHARDEN) -o $@ $< -lpam

# links the helper's own library, as vivo-helper does
$(BB)/micro: bench/micro.c build/libvivo.a
	@mkdir -p $(BB)
	$(CC) $(BENCH_CFLAGS) -fPIE -pie $(LDHARDEN) $(PKG_CFLAGS) -Ihelper/lib \
	    -o $@ $< build/libvivo.a $(PKG_LIBS)

bench-tools: $(BENCH_TOOLS)

bench:
ifeq ($(SANITIZE),1)
	@echo "make bench: measure the normal build, not SANITIZE=1" >&2; exit 1
endif
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "make bench needs root (private mount namespace, pcscd)" >&2; \
	    exit 1; fi
	@sh bench/install-deps.sh
	@$(MAKE) --no-print-directory all test-tools bench-tools
	@VIVO_BUILD=$(CURDIR)/build BENCH_RUNS=$(BENCH_RUNS) \
	    unshare --mount --net --propagation private /usr/bin/python3 bench/bench.py

.PHONY: bench bench-tools
