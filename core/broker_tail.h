/*
 * broker_tail.h: the newest records of one partition, kept in memory so that a fetch near
 * the log end is answered without reading broker.db.
 *
 * Contract:
 * - sg_tail_push is called only after the records' transaction committed, in offset order,
 *   so the tail always holds consecutive offsets ending at the partition's log end - 1.
 *   It keeps the last SG_TAIL_MAX records; older ones are freed.
 * - sg_tail_get answers a read from `from` (at most max records) only when the tail holds
 *   `from`; otherwise it returns false and the caller reads broker.db. The records it
 *   fills borrow the tail's memory: valid until the next push or sg_tail_clear.
 * - The tail is volatile, as the broker's other memory: a crash or stop clears it and a
 *   restarted broker starts empty (the log on disk is the truth).
 */
#ifndef SG_BROKER_TAIL_H
#define SG_BROKER_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "wire.h"

enum { SG_TAIL_MAX = 64 };

struct sg_tail_rec {
    uint64_t offset;
    char *key;      /* key, then the value's bytes, in one allocation */
    uint8_t *value;
    size_t value_len;
};

struct sg_tail {
    struct sg_tail_rec rec[SG_TAIL_MAX]; /* a ring: rec[(head + i) % SG_TAIL_MAX] */
    uint32_t head, n;
};

/* Appends a committed record at `offset` (the previous one's + 1, or any offset when the
 * tail is empty). */
void sg_tail_push(const struct sg_env *env, struct sg_tail *t, uint64_t offset,
                  const char *key, const uint8_t *value, size_t value_len);

/* Fills out[0..*n_out) with the records from `from` on (at most max), borrowing the
 * tail's memory; false (and nothing filled) when the tail does not hold `from`. */
bool sg_tail_get(const struct sg_env *env, const struct sg_tail *t, uint64_t from,
                 uint32_t max, SgRecord *out, size_t *n_out);

/* Frees every record; the tail is empty afterwards. Safe to call twice. */
void sg_tail_clear(struct sg_tail *t);

#endif
