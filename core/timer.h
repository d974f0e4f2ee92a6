/*
 * timer.h: how a node's timer tag is laid out: the kind in the top 8 bits, an argument
 * in the low 56 (a slot, a row id, or a sub-index and generation). Stale timers are
 * normal (a timer is never cancelled): each handler checks its generation or state.
 */
#ifndef SG_TIMER_H
#define SG_TIMER_H

#include <stdint.h>

enum sg_timer_kind {
    SG_TIMER_RELAY_POLL = 1,
    SG_TIMER_RELAY_RETRY,
    SG_TIMER_CONSUMER,
    SG_TIMER_BROKER_POLL,
    SG_TIMER_ORCH_WORK,
    SG_TIMER_ORCH_DEADLINE,
    SG_TIMER_BROKER_FLUSH,
};

static inline uint64_t sg_tag(enum sg_timer_kind kind, uint64_t arg)
{
    return ((uint64_t)kind << 56) | (arg & 0x00ffffffffffffffULL);
}
static inline enum sg_timer_kind sg_tag_kind(uint64_t tag)
{
    return (enum sg_timer_kind)(tag >> 56);
}
static inline uint64_t sg_tag_arg(uint64_t tag)
{
    return tag & 0x00ffffffffffffffULL;
}

#endif
