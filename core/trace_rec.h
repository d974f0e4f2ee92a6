/*
 * trace_rec.h: one trace record as typed binary data (DESIGN §8 "Trace").
 *
 * Why: formatting every record as text cost a fifth of the simulator's instructions, yet
 * the text is only read when a person or a report asks for it. A record is therefore a
 * kind plus up to SG_TR_INTS integers and SG_TR_STRS strings; the simulator hashes those
 * bytes directly (sim/trace.h) and renders text only for a trace file, a kept trace
 * (--check-determinism, report timelines) or live mode's node.log.
 *
 * Contract:
 * - Each kind has one text template (trace_rec.c); sg_trace_rec_text renders a record to
 *   exactly the line the former printf-style record printed, so readers of the text
 *   (timelines, the determinism diff, node.log) are unchanged.
 * - Unused integer slots are 0 and unused string slots NULL; NULL renders and hashes as
 *   "". Strings are borrowed: they must live until env->trace returns.
 * - Integers are int64_t; a template prints them in decimal, or as 16 lower-case hex digits
 *   of the same 64 bits ({x<n>}).
 * - SG_TR_TEXT carries free text in s[0]: rare records of the simulator (faults, crashes,
 *   phases) that are not worth a kind of their own.
 * - New kinds go at the end: a kind's number is part of the hashed bytes.
 */
#ifndef SG_TRACE_REC_H
#define SG_TRACE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"

enum sg_tr_kind {
    SG_TR_TEXT,
    SG_TR_SEND,
    SG_TR_DELIVER,
    SG_TR_TIMER,
    SG_TR_STEP_ERROR,
    SG_TR_BROKER_APPEND,
    SG_TR_BROKER_REFUSES_FETCH,
    SG_TR_BROKER_IGNORES,
    SG_TR_CONSUME_POISON,
    SG_TR_CONSUME_DUPLICATE,
    SG_TR_CONSUME,
    SG_TR_CONSUMER_TIMEOUT,
    SG_TR_SQLITE_ERROR,
    SG_TR_DB_JOURNAL_MODE_NOT,
    SG_TR_DECIDER_IGNORES,
    SG_TR_DB_SCHEMA_NEWER,
    SG_TR_DB_MIGRATED,
    SG_TR_START,
    SG_TR_DROP_UNDECODABLE,
    SG_TR_REPLY,
    SG_TR_REPLY_GET,
    SG_TR_ORCH_IGNORES,
    SG_TR_RESERVE,
    SG_TR_RESERVE_FAILED,
    SG_TR_FENCED_OUT,
    SG_TR_CREATED,
    SG_TR_TRANSITION,
    SG_TR_OUTBOX,
    SG_TR_RELAY_PRODUCE,
    SG_TR_RELAY_PERSISTED,
    SG_TR_RELAY_RETRY,
    SG_TR_LEDGER,
    SG_TR_LEDGER_REFUSES,
    SG_TR_PAYOUT,
    SG_TR_SAGA_STEP,
    SG_TR_KIND_COUNT,
};

enum { SG_TR_INTS = 5, SG_TR_STRS = 3 };

struct sg_trace_rec {
    enum sg_tr_kind kind;
    int64_t i[SG_TR_INTS];
    const char *s[SG_TR_STRS];
};

/* Hands one record to env->trace: SG_TRACE(env, SG_TR_CREATED, .s = {wid}). */
#define SG_TRACE(env, ...) \
    sg_trace_emit((env), &(const struct sg_trace_rec){.kind = __VA_ARGS__})
void sg_trace_emit(const struct sg_env *env, const struct sg_trace_rec *rec);

/* Renders the record's text into buf (always NUL-terminated when cap > 0, truncated to
 * cap - 1 bytes); returns the length of the whole text, like snprintf. */
size_t sg_trace_rec_text(const struct sg_trace_rec *rec, char *buf, size_t cap);

#endif
