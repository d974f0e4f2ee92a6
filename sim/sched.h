/*
 * sched.h: the simulator's event queue: a binary min-heap keyed by (time, sequence).
 *
 * The sequence number is assigned on push and breaks ties, so two events at the same
 * virtual time run in the order they were scheduled: never by address. The queue owns
 * nothing an event points to; the caller frees payloads it pops or drops.
 */
#ifndef SG_SCHED_H
#define SG_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sg_event_kind {
    SG_EV_DELIVER = 1, /* a message arrives at node `node` (payload: bytes, len) */
    SG_EV_TIMER,       /* a node's timer `tag` fires (generation guards stale timers) */
    SG_EV_CLIENT,      /* a workload client wakes up */
    SG_EV_CONTROL,     /* world control: phase change, crash, restart (tag says which) */
};

struct sg_event {
    int64_t at_ns;     /* virtual (true) time */
    uint64_t seq;      /* assigned by sg_sched_push */
    uint32_t kind;     /* enum sg_event_kind */
    uint32_t node;
    uint32_t from;
    uint64_t tag;
    uint64_t generation;
    uint8_t *payload;  /* owned by whoever pops the event */
    size_t len;
};

struct sg_sched {
    struct sg_event *heap;
    size_t count;
    size_t capacity;
    uint64_t seq_next;
};

void sg_sched_init(struct sg_sched *s);
/* Frees queued payloads too; safe to call twice. */
void sg_sched_deinit(struct sg_sched *s);
/* Copies *ev (seq is overwritten). Returns false when memory is exhausted. */
bool sg_sched_push(struct sg_sched *s, const struct sg_event *ev);
/* Pops the earliest event into *out; false when empty. */
bool sg_sched_pop(struct sg_sched *s, struct sg_event *out);
/* The earliest event, or NULL. */
const struct sg_event *sg_sched_peek(const struct sg_sched *s);

#endif
