/*
 * pcsc.h - readers and taps through pcsc-lite.
 */
#ifndef VIVO_PCSC_H
#define VIVO_PCSC_H

#include "card.h"
#include "config.h"

#include <stdint.h>

/* Errors: VIVO_ERR_READER_* (err.h). */

typedef struct vivo_pcsc vivo_pcsc_t;

/* Connect to pcscd. readers: the config's name filters. 0 / error. */
int vivo_pcsc_new(vivo_pcsc_t **out, const struct vivo_config *c);
void vivo_pcsc_free(vivo_pcsc_t **p);

/* Called once, after the readers were first looked at: how many match. */
typedef void (*vivo_ready_fn)(void *arg, size_t nreaders);

/*
 * Wait until a chip arrives on a matching reader, before `deadline`
 * (vivo_now_ms() based). A chip already present when a reader is first
 * seen is stale: it counts only after it was removed and presented again.
 * Readers may come and go meanwhile. 0 with the reader's name, or
 * VIVO_ERR_READER_*.
 */
int vivo_pcsc_wait_tap(vivo_pcsc_t *p, int64_t deadline, vivo_ready_fn ready,
    void *arg, char *reader, size_t readersz);

/* Connect to the chip on `reader`; fills t (valid until disconnect) and
 * the ATR. 0 / VIVO_ERR_CARD_COMM. */
int vivo_pcsc_connect(vivo_pcsc_t *p, const char *reader,
    struct vivo_transport *t, uint8_t *atr, size_t *atrlen);
void vivo_pcsc_disconnect(vivo_pcsc_t *p);

/* For probe: the matching readers and whether a chip is on each.
 * names[i] point into p and stay valid until the next call. */
int vivo_pcsc_list(vivo_pcsc_t *p, const char **names, int *present,
    size_t cap, size_t *n);

const char *vivo_pcsc_strerr(int e);

#endif
