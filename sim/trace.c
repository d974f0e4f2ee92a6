/*
 * trace.c: the run's trace log: canonical records folded into one streaming XXH3-64 hash.
 *
 * Why: two runs of one seed must be byte-for-byte the same run. Hashing every record gives
 * a 64-bit fingerprint that is cheap to print and compare; keeping the records as well lets
 * --check-determinism name the first record where two runs part ways.
 *
 * Invariants:
 * - The hash covers exactly the bytes "<at_ns> <node> <text>\n" of every appended record,
 *   in append order, with at_ns and node in decimal. The record is fed to XXH3 in three
 *   pieces (prefix, text, newline); the streaming API makes that equal to hashing the
 *   concatenation, so no per-record buffer is needed unless records are kept.
 * - When keep is true, records[0..count) hold each line without its newline, owned here.
 *   Slots records[count..records_cap) are NULL, so deinit can free every slot.
 * - No I/O: snprintf formats the prefix only; the optional sink does any writing.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h> /* snprintf only: formatting, no I/O (STYLE.md "Determinism"). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assert.h"
#include "banned.h"

/* "-9223372036854775808 4294967295 " is 32 bytes; leave room for the terminator. */
#define TRACE_PREFIX_MAX 48u
#define TRACE_RECORDS_CAPACITY_INITIAL 256u

static size_t format_prefix(char *buf, size_t buf_size, int64_t at_ns, uint32_t node)
{
    int n = snprintf(buf, buf_size, "%" PRId64 " %" PRIu32 " ", at_ns, node);
    SG_ASSERT_PURE(n > 0);
    SG_ASSERT_PURE((size_t)n < buf_size);
    return (size_t)n;
}

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

static char *line_dup(const char *prefix, size_t prefix_len, const char *text, size_t text_len)
{
    SG_ASSERT_PURE(text_len < SIZE_MAX - prefix_len);
    char *line = malloc(prefix_len + text_len + 1);
    SG_ASSERT_PURE(line != NULL); /* See records_reserve for why this aborts. */
    memcpy(line, prefix, prefix_len);
    memcpy(line + prefix_len, text, text_len);
    line[prefix_len + text_len] = '\0';
    return line;
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

void sg_trace_log_append(struct sg_trace_log *t, int64_t at_ns, uint32_t node,
                         const char *text)
{
    SG_ASSERT_PURE(t != NULL);
    SG_ASSERT_PURE(t->xxh_state != NULL);
    SG_ASSERT_PURE(text != NULL);
    SG_ASSERT_PURE(t->count < UINT64_MAX);

    char prefix[TRACE_PREFIX_MAX];
    size_t prefix_len = format_prefix(prefix, sizeof prefix, at_ns, node);
    size_t text_len = strlen(text);
    XXH3_state_t *state = t->xxh_state;
    /* Update fails only for a NULL input with a non-zero length, which cannot happen here. */
    XXH_errorcode rc_prefix = XXH3_64bits_update(state, prefix, prefix_len);
    XXH_errorcode rc_text = XXH3_64bits_update(state, text, text_len);
    XXH_errorcode rc_newline = XXH3_64bits_update(state, "\n", 1);
    SG_ASSERT_PURE(rc_prefix == XXH_OK);
    SG_ASSERT_PURE(rc_text == XXH_OK);
    SG_ASSERT_PURE(rc_newline == XXH_OK);

    if (t->keep) {
        records_reserve(t);
        size_t slot = (size_t)t->count;
        SG_ASSERT_PURE(t->records[slot] == NULL);
        t->records[slot] = line_dup(prefix, prefix_len, text, text_len);
    }
    t->count++;
    if (t->sink != NULL) t->sink(t->sink_ctx, at_ns, node, text);
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
