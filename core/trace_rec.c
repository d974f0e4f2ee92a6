/*
 * trace_rec.c: the text templates of the trace record kinds (see trace_rec.h).
 *
 * A template is literal text with placeholders: {s<n>} string slot n, {i<n>} integer slot
 * n in decimal, {x<n>} integer slot n as 16 lower-case hex digits. The renderer is a small
 * loop instead of printf so that a kind is one line here and its arguments are typed in
 * the record, not in a format string that the call site must match.
 */
#include "trace_rec.h"

#include <stdbool.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

static const char *const templates[SG_TR_KIND_COUNT] = {
    [SG_TR_TEXT] = "{s0}",
    [SG_TR_SEND] = "send {i0}->{i1} len={i2} h={x3} copies={i4}",
    [SG_TR_DELIVER] = "deliver {i0}->{i1} len={i2}{s0}",
    [SG_TR_TIMER] = "timer {x0}",
    [SG_TR_STEP_ERROR] = "step error {s0}",
    [SG_TR_BROKER_APPEND] = "broker append n={i0} from={i1}",
    [SG_TR_BROKER_REFUSES_FETCH] = "broker refuses fetch from={i0}",
    [SG_TR_BROKER_IGNORES] = "broker ignores payload {i0}",
    [SG_TR_CONSUME_POISON] = "consume poison {s0}",
    [SG_TR_CONSUME_DUPLICATE] = "consume duplicate {s0} {s1}",
    [SG_TR_CONSUME] = "consume {s0} {s1} {s2}",
    [SG_TR_CONSUMER_TIMEOUT] = "consumer timeout {s0} ({i0} partitions)",
    [SG_TR_SQLITE_ERROR] = "sqlite_error rc={i0} ext={i1} at={s0}",
    [SG_TR_DB_JOURNAL_MODE_NOT] = "db_journal_mode_not {s0}",
    [SG_TR_DECIDER_IGNORES] = "decider ignores payload {i0}",
    [SG_TR_DB_SCHEMA_NEWER] = "db_schema_newer {s0} have={i0} know={i1}",
    [SG_TR_DB_MIGRATED] = "db_migrated {s0} from={i0} to={i1}",
    [SG_TR_START] = "start {s0} {s1}",
    [SG_TR_DROP_UNDECODABLE] = "drop undecodable message len={i0}",
    [SG_TR_REPLY] = "reply to={i0} code={s0} wid={s1} status={s2}",
    [SG_TR_REPLY_GET] = "reply to={i0} code=OK get wid={s0} status={s1}",
    [SG_TR_ORCH_IGNORES] = "orch ignores payload {i0}",
    [SG_TR_RESERVE] = "reserve wid={s0} fence={i0}",
    [SG_TR_RESERVE_FAILED] = "reserve failed wid={s0} err={s1}",
    [SG_TR_FENCED_OUT] = "fenced out wid={s0} fence={i0}",
    [SG_TR_CREATED] = "created wid={s0}",
    [SG_TR_TRANSITION] = "transition wid={s0} {s1}->{s2}",
    [SG_TR_OUTBOX] = "outbox {s0} {s1} {s2}",
    [SG_TR_RELAY_PRODUCE] = "relay produce n={i0} last_seq={i1}",
    [SG_TR_RELAY_PERSISTED] = "relay persisted last_seq={i0}",
    [SG_TR_RELAY_RETRY] = "relay retry",
    [SG_TR_LEDGER] = "ledger {s0} wid={s1} amount={i0}",
    [SG_TR_LEDGER_REFUSES] = "ledger refuses {s0} wid={s1}: balance overflow",
    [SG_TR_PAYOUT] = "payout {s0} wid={s1} {s2}",
    [SG_TR_SAGA_STEP] = "step wid={s0} {s1}->{s2}",
};

void sg_trace_emit(const struct sg_env *env, const struct sg_trace_rec *rec)
{
    SG_ASSERT(env, rec != NULL);
    SG_ASSERT(env, rec->kind < SG_TR_KIND_COUNT);
    env->trace(env->ctx, rec);
}

/* Appends n bytes at *len, keeping what fits below cap - 1; *len counts every byte. */
static void put(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
    if (*len + 1 < cap) {
        size_t room = cap - 1 - *len;
        memcpy(buf + *len, p, n < room ? n : room);
    }
    *len += n;
}

/* Decimal (hex: 16 digits) digits of v into out (at least 24 bytes); returns the count. */
static size_t digits(int64_t v, bool hex, char *out)
{
    char tmp[24];
    size_t n = 0;
    if (hex) {
        uint64_t u = (uint64_t)v;
        for (int k = 0; k < 16; k++, u >>= 4) tmp[n++] = "0123456789abcdef"[u & 15u];
    } else {
        /* Negate in unsigned arithmetic: INT64_MIN has no positive int64_t. */
        uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        do {
            tmp[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u && n < sizeof tmp);
        if (v < 0) tmp[n++] = '-';
    }
    for (size_t k = 0; k < n; k++) out[k] = tmp[n - 1 - k];
    return n;
}

size_t sg_trace_rec_text(const struct sg_trace_rec *rec, char *buf, size_t cap)
{
    SG_ASSERT_PURE(rec->kind < SG_TR_KIND_COUNT);
    SG_ASSERT_PURE(buf != NULL || cap == 0);
    const char *t = templates[rec->kind];
    size_t len = 0;
    while (*t) {
        const char *open = strchr(t, '{');
        size_t lit = open ? (size_t)(open - t) : strlen(t);
        put(buf, cap, &len, t, lit);
        if (!open) break;
        /* A placeholder is exactly "{" kind digit "}" (the table above is the only input). */
        SG_ASSERT_PURE(open[3] == '}');
        size_t slot = (size_t)(open[2] - '0');
        if (open[1] == 's') {
            SG_ASSERT_PURE(slot < SG_TR_STRS);
            const char *s = rec->s[slot] ? rec->s[slot] : "";
            put(buf, cap, &len, s, strlen(s));
        } else {
            SG_ASSERT_PURE(slot < SG_TR_INTS);
            SG_ASSERT_PURE(open[1] == 'i' || open[1] == 'x');
            char num[24];
            put(buf, cap, &len, num, digits(rec->i[slot], open[1] == 'x', num));
        }
        t = open + 4;
    }
    if (cap) buf[len < cap ? len : cap - 1] = '\0';
    return len;
}
