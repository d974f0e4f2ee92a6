/*
 * trace.c: the run's trace log: binary records folded into one streaming XXH3-64 hash.
 *
 * Why: two runs of one seed must be byte-for-byte the same run. Hashing every record gives
 * a 64-bit fingerprint that is cheap to print and compare; keeping the records' text as
 * well lets --check-determinism name the first record where two runs part ways.
 *
 * Invariants:
 * - The hash covers exactly the encoding of trace.h of every added record, in order.
 *   Each record is packed into a stack buffer and fed to XXH3 in one update (a string
 *   longer than the buffer is fed on its own); the streaming API makes that equal to
 *   hashing the concatenation.
 * - Text is rendered only for a sink or a kept log. When keep is true, records[0..count)
 *   hold each line without its newline, owned here; slots records[count..records_cap) are
 *   NULL, so deinit can free every slot.
 * - No I/O: the optional sink does any writing.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h> /* snprintf only: formatting, no I/O (STYLE.md "Determinism"). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "banned.h"

enum { TRACE_PACK_MAX = 256, TRACE_TEXT_STACK = 512 };
#define TRACE_RECORDS_CAPACITY_INITIAL 256u

/* Makes room for one more kept record. Out of memory aborts: append has no error channel,
 * and a kept log that silently skipped a record would name the wrong divergence. */
static void records_reserve(struct sg_trace_log *t)
{
    SG_ASSERT_PURE(t->count <= t->records_cap);
    if (t->count < t->records_cap) return;
    size_t cap_new = t->records_cap == 0 ? TRACE_RECORDS_CAPACITY_INITIAL : t->records_cap * 2;
    SG_ASSERT_PURE(cap_new > t->records_cap);
    SG_ASSERT_PURE(cap_new <= SIZE_MAX / sizeof(char *));
    char **records_new = realloc(t->records, cap_new * sizeof(char *));
    SG_ASSERT_PURE(records_new != NULL);
    for (size_t i = t->records_cap; i < cap_new; i++) records_new[i] = NULL;
    t->records = records_new;
    t->records_cap = cap_new;
}

/* The record's text line "<at_ns> <node> <text>", malloc'ed. */
static char *line_of(int64_t at_ns, uint32_t node, const struct sg_trace_rec *rec)
{
    char prefix[48];
    int n = snprintf(prefix, sizeof prefix, "%" PRId64 " %" PRIu32 " ", at_ns, node);
    SG_ASSERT_PURE(n > 0 && (size_t)n < sizeof prefix);
    size_t text_len = sg_trace_rec_text(rec, NULL, 0);
    SG_ASSERT_PURE(text_len < SIZE_MAX - (size_t)n);
    char *line = malloc((size_t)n + text_len + 1);
    SG_ASSERT_PURE(line != NULL); /* See records_reserve for why this aborts. */
    memcpy(line, prefix, (size_t)n);
    sg_trace_rec_text(rec, line + n, text_len + 1);
    return line;
}

struct pack {
    XXH3_state_t *state;
    size_t n;
    uint8_t buf[TRACE_PACK_MAX];
};

static void pack_flush(struct pack *p)
{
    /* Update fails only for a NULL input with a non-zero length, which cannot happen here. */
    XXH_errorcode rc = XXH3_64bits_update(p->state, p->buf, p->n);
    SG_ASSERT_PURE(rc == XXH_OK);
    p->n = 0;
}

static void pack_bytes(struct pack *p, const void *bytes, size_t len)
{
    if (p->n + len > sizeof p->buf) pack_flush(p);
    if (len > sizeof p->buf) {
        XXH_errorcode rc = XXH3_64bits_update(p->state, bytes, len);
        SG_ASSERT_PURE(rc == XXH_OK);
        return;
    }
    if (len) memcpy(p->buf + p->n, bytes, len);
    p->n += len;
}

/* Little-endian stores; compilers turn each into one move on little-endian hosts. */
static void store_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static void store_le64(uint8_t *b, uint64_t v)
{
    store_le32(b, (uint32_t)v);
    store_le32(b + 4, (uint32_t)(v >> 32));
}

enum { TRACE_HEAD_BYTES = 8 + 4 + 4 + 8 * SG_TR_INTS };

/* Feeds the record's encoding (trace.h) to the hash. */
static void hash_record(XXH3_state_t *state, int64_t at_ns, uint32_t node,
                        const struct sg_trace_rec *rec)
{
    struct pack p = {.state = state, .n = TRACE_HEAD_BYTES};
    store_le64(p.buf, (uint64_t)at_ns);
    store_le32(p.buf + 8, node);
    store_le32(p.buf + 12, (uint32_t)rec->kind);
    for (size_t k = 0; k < SG_TR_INTS; k++) store_le64(p.buf + 16 + 8 * k, (uint64_t)rec->i[k]);
    for (size_t k = 0; k < SG_TR_STRS; k++) {
        size_t len = rec->s[k] ? strlen(rec->s[k]) : 0;
        SG_ASSERT_PURE(len <= UINT32_MAX);
        uint8_t len_le[4];
        store_le32(len_le, (uint32_t)len);
        pack_bytes(&p, len_le, sizeof len_le);
        pack_bytes(&p, rec->s[k], len);
    }
    pack_flush(&p);
}

bool sg_trace_log_init(struct sg_trace_log *t, bool keep)
{
    SG_ASSERT_PURE(t != NULL);
    *t = (struct sg_trace_log){.xxh_state = NULL, .sink = NULL, .sink_ctx = NULL,
                               .keep = keep, .records = NULL, .records_cap = 0};
    XXH3_state_t *state = XXH3_createState();
    if (state == NULL) goto fail_create;
    if (XXH3_64bits_reset(state) != XXH_OK) goto fail_reset;
    t->xxh_state = state;
    SG_ASSERT_PURE(t->count == 0);
    return true;

fail_reset:
    XXH3_freeState(state);
fail_create:
    return false;
}

void sg_trace_log_deinit(struct sg_trace_log *t)
{
    SG_ASSERT_PURE(t != NULL);
    if (t->records == NULL) SG_ASSERT_PURE(t->records_cap == 0);
    for (size_t i = 0; i < t->records_cap; i++) free(t->records[i]);
    free(t->records);
    t->records = NULL;
    t->records_cap = 0;
    XXH3_freeState(t->xxh_state);
    t->xxh_state = NULL;
    t->count = 0;
}

void sg_trace_log_add(struct sg_trace_log *t, int64_t at_ns, uint32_t node,
                      const struct sg_trace_rec *rec)
{
    SG_ASSERT_PURE(t != NULL);
    SG_ASSERT_PURE(t->xxh_state != NULL);
    SG_ASSERT_PURE(rec != NULL && rec->kind < SG_TR_KIND_COUNT);
    SG_ASSERT_PURE(t->count < UINT64_MAX);
    hash_record(t->xxh_state, at_ns, node, rec);
    if (t->keep) {
        records_reserve(t);
        size_t slot = (size_t)t->count;
        SG_ASSERT_PURE(t->records[slot] == NULL);
        t->records[slot] = line_of(at_ns, node, rec);
    }
    t->count++;
    if (t->sink != NULL) {
        char stack[TRACE_TEXT_STACK];
        size_t len = sg_trace_rec_text(rec, stack, sizeof stack);
        char *text = len < sizeof stack ? stack : malloc(len + 1);
        SG_ASSERT_PURE(text != NULL);
        if (text != stack) sg_trace_rec_text(rec, text, len + 1);
        t->sink(t->sink_ctx, at_ns, node, text);
        if (text != stack) free(text);
    }
}

void sg_trace_log_append(struct sg_trace_log *t, int64_t at_ns, uint32_t node,
                         const char *text)
{
    SG_ASSERT_PURE(text != NULL);
    sg_trace_log_add(t, at_ns, node, &(const struct sg_trace_rec){.kind = SG_TR_TEXT, .s = {text}});
}

uint64_t sg_trace_log_hash(const struct sg_trace_log *t)
{
    SG_ASSERT_PURE(t != NULL);
    SG_ASSERT_PURE(t->xxh_state != NULL);
    /* Digest does not disturb the streaming state: appends may continue afterwards. */
    return XXH3_64bits_digest(t->xxh_state);
}

/* On false, *index_out is set to the common count so callers never read an unset value. */
bool sg_trace_log_diverge(const struct sg_trace_log *a, const struct sg_trace_log *b,
                          uint64_t *index_out)
{
    SG_ASSERT_PURE(a != NULL);
    SG_ASSERT_PURE(b != NULL);
    SG_ASSERT_PURE(index_out != NULL);
    SG_ASSERT_PURE(a->keep);
    SG_ASSERT_PURE(b->keep);

    uint64_t common = a->count < b->count ? a->count : b->count;
    for (uint64_t i = 0; i < common; i++) {
        if (strcmp(a->records[(size_t)i], b->records[(size_t)i]) != 0) {
            *index_out = i;
            return true;
        }
    }
    *index_out = common;
    return a->count != b->count;
}
