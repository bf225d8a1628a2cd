# SPDX-License-Identifier: BSD-2-Clause
# Man pages (included by the top-level Makefile).
#
# The pages are plain man(7) roff, written by hand: `man -l man/pam_vivo.8`
# shows them straight from the tree, and nothing beyond groff (which man-db
# uses anyway) is needed to build or check them.
#
#   make man            render every page to $(B)/man/*.txt; any groff
#                       warning fails the target
#   make check-man      the pages against the code: every PAM argument,
#                       vivo-enroll command and option, and config key is
#                       documented, and nothing else (tests/test-manpages.sh)
#   make install-man    install into $(DESTDIR)$(MANDIR)/man{1,5,8}
#   make uninstall-man

MANDIR    ?= $(PREFIX)/share/man
MAN_PAGES  = man/vivo-enroll.1 man/pam_vivo.conf.5 man/pam_vivo.8
MAN_TXT    = $(MAN_PAGES:man/%=$(B)/man/%.txt)

man: $(MAN_TXT)

# groff -ww: all warnings; a page that warns is an error, and no half-made
# output is left behind.
$(B)/man/%.txt: man/%
	@mkdir -p $(dir $@)
	@echo "groff -ww -man $< > $@"
	@LC_ALL=C.UTF-8 groff -ww -man -Tutf8 -P-cbou $< >$@.tmp 2>$@.err; \
	    rc=$$?; if [ $$rc -ne 0 ] || [ -s $@.err ]; then cat $@.err >&2; \
	    rm -f $@ $@.tmp $@.err; exit 1; fi; rm -f $@.err; mv $@.tmp $@

check-man:
	@sh tests/test-manpages.sh

install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/vivo-enroll.1 $(DESTDIR)$(MANDIR)/man1/vivo-enroll.1
	install -m 0644 man/pam_vivo.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/pam_vivo.conf.5
	install -m 0644 man/pam_vivo.8 $(DESTDIR)$(MANDIR)/man8/pam_vivo.8

uninstall-man:
	rm -f $(DESTDIR)$(MANDIR)/man1/vivo-enroll.1 \
	    $(DESTDIR)$(MANDIR)/man5/pam_vivo.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/pam_vivo.8

.PHONY: man check-man install-man uninstall-man
