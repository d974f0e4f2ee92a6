/*
 * test_trace.c: unit tests for sim/trace.c, the XXH3-64 hashed trace log.
 *
 * Why: the trace hash is how a run proves it replayed; --check-determinism relies on the
 * kept records to name where two runs part ways. The hash is checked against XXH3-64 of
 * the binary encoding of trace.h built independently here byte by byte (the one-shot API,
 * not the streaming one), so a change in record encoding or framing cannot go unnoticed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "trace.h"

struct rec {
    int64_t at_ns;
    uint32_t node;
    const char *text;
};

static const struct rec sample[] = {
    {0, 0, "world start seed=42"},
    {1000, 1, "orch recv CreateWithdrawal key=k1"},
    {1000, 2, "identity ok user=u1"},
    {2500, 3, "risk score=17"},
    {2500, 1, "orch state=APPROVED"},
    {-5, 4294967295u, ""},
    {INT64_MIN, 7, "min time"},
    {INT64_MAX, 8, "max time with  two spaces"},
};
#define SAMPLE_COUNT (sizeof sample / sizeof sample[0])

static void append_all(struct sg_trace_log *t, const struct rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) sg_trace_log_append(t, recs[i].at_ns, recs[i].node,
                                                       recs[i].text);
}

static void trace__same_hash__for_same_records(void **state)
{
    (void)state;
    struct sg_trace_log a, b;
    assert_true(sg_trace_log_init(&a, false));
    assert_true(sg_trace_log_init(&b, true));
    append_all(&a, sample, SAMPLE_COUNT);
    append_all(&b, sample, SAMPLE_COUNT);
    assert_int_equal(a.count, SAMPLE_COUNT);
    assert_int_equal(b.count, SAMPLE_COUNT);
    /* keep only adds storage; it does not change the hash. */
    assert_int_equal(sg_trace_log_hash(&a), sg_trace_log_hash(&b));
    /* Reading the hash does not disturb the stream: it can be read again and continued. */
    assert_int_equal(sg_trace_log_hash(&a), sg_trace_log_hash(&a));
    sg_trace_log_append(&a, 9, 9, "more");
    sg_trace_log_append(&b, 9, 9, "more");
    assert_int_equal(sg_trace_log_hash(&a), sg_trace_log_hash(&b));
    sg_trace_log_deinit(&a);
    sg_trace_log_deinit(&b);
}

static uint64_t hash_of(const struct rec *recs, size_t n)
{
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, false));
    append_all(&t, recs, n);
    uint64_t h = sg_trace_log_hash(&t);
    sg_trace_log_deinit(&t);
    return h;
}

static void trace__different_hash__for_one_changed_record(void **state)
{
    (void)state;
    const uint64_t base = hash_of(sample, SAMPLE_COUNT);
    struct rec changed[SAMPLE_COUNT];

    memcpy(changed, sample, sizeof changed);
    changed[3].text = "risk score=18";
    assert_true(hash_of(changed, SAMPLE_COUNT) != base);

    memcpy(changed, sample, sizeof changed);
    changed[2].at_ns = 1001;
    assert_true(hash_of(changed, SAMPLE_COUNT) != base);

    memcpy(changed, sample, sizeof changed);
    changed[4].node = 2;
    assert_true(hash_of(changed, SAMPLE_COUNT) != base);

    /* Order matters: swapping two records changes the hash. */
    memcpy(changed, sample, sizeof changed);
    changed[1] = sample[2];
    changed[2] = sample[1];
    assert_true(hash_of(changed, SAMPLE_COUNT) != base);

    /* Framing matters: moving a space between the node and the text is another record. */
    const struct rec a[] = {{1, 2, "x"}};
    const struct rec b[] = {{1, 2, " x"}};
    const struct rec c[] = {{12, 0, "x"}};
    assert_true(hash_of(a, 1) != hash_of(b, 1));
    assert_true(hash_of(a, 1) != hash_of(c, 1));
    /* A dropped record changes the hash. */
    assert_true(hash_of(sample, SAMPLE_COUNT - 1) != base);
}

/* Appends v's width low bytes, little-endian, to buf at *len. */
static void put_le(uint8_t *buf, size_t *len, uint64_t v, size_t width)
{
    for (size_t k = 0; k < width; k++) buf[(*len)++] = (uint8_t)(v >> (8 * k));
}

/* The encoding of trace.h for one record, written out independently of trace.c. */
static size_t encode(uint8_t *buf, int64_t at_ns, uint32_t node, const struct sg_trace_rec *r)
{
    size_t len = 0;
    put_le(buf, &len, (uint64_t)at_ns, 8);
    put_le(buf, &len, node, 4);
    put_le(buf, &len, (uint64_t)r->kind, 4);
    for (size_t k = 0; k < SG_TR_INTS; k++) put_le(buf, &len, (uint64_t)r->i[k], 8);
    for (size_t k = 0; k < SG_TR_STRS; k++) {
        size_t n = r->s[k] ? strlen(r->s[k]) : 0;
        put_le(buf, &len, n, 4);
        if (n) memcpy(buf + len, r->s[k], n);
        len += n;
    }
    return len;
}

static void trace__hash_equals_xxh3_of_binary_encoding__computed_independently(void **state)
{
    (void)state;
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, false));
    assert_int_equal(sg_trace_log_hash(&t), XXH3_64bits("", 0));

    uint8_t *all = NULL;
    size_t all_len = 0;
    for (size_t i = 0; i < SAMPLE_COUNT + 1; i++) {
        /* The samples as free text, then one typed record with every slot in use. */
        struct sg_trace_rec r = {.kind = SG_TR_TEXT, .s = {i < SAMPLE_COUNT ? sample[i].text : ""}};
        int64_t at = i < SAMPLE_COUNT ? sample[i].at_ns : 77;
        uint32_t node = i < SAMPLE_COUNT ? sample[i].node : 3;
        if (i == SAMPLE_COUNT)
            r = (struct sg_trace_rec){.kind = SG_TR_REPLY, .i = {1, -2, INT64_MIN, INT64_MAX, 5},
                                      .s = {"OK", "wid", NULL}};
        uint8_t rec[512];
        size_t n = encode(rec, at, node, &r);
        all = realloc(all, all_len + n);
        assert_non_null(all);
        memcpy(all + all_len, rec, n);
        all_len += n;

        sg_trace_log_add(&t, at, node, &r);
        /* Equal after every record, not only at the end. */
        assert_int_equal(sg_trace_log_hash(&t), XXH3_64bits(all, all_len));
    }
    free(all);
    sg_trace_log_deinit(&t);
}

static void trace__long_string__hashes_like_its_encoding(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct sg_trace_rec r = {.kind = SG_TR_SQLITE_ERROR, .i = {10, 266}, .s = {big}};
    uint8_t *buf = malloc(sizeof big + 128);
    assert_non_null(buf);
    size_t n = encode(buf, 5, 1, &r);
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, true));
    sg_trace_log_add(&t, 5, 1, &r);
    assert_int_equal(sg_trace_log_hash(&t), XXH3_64bits(buf, n));
    /* Its kept line is whole, however long. */
    assert_int_equal(strlen(t.records[0]), strlen("5 1 sqlite_error rc=10 ext=266 at=") + 2999);
    free(buf);
    sg_trace_log_deinit(&t);
}

static void trace__typed_record__differs_by_kind_and_slot(void **state)
{
    (void)state;
    const struct sg_trace_rec base = {.kind = SG_TR_RESERVE, .i = {1}, .s = {"w1"}};
    struct sg_trace_rec other[4] = {base, base, base, base};
    other[0].kind = SG_TR_FENCED_OUT;
    other[1].i[0] = 2;
    other[2].i[4] = 1; /* a slot the text does not show still counts */
    other[3].s[1] = "";
    uint64_t h[5];
    for (size_t k = 0; k < 5; k++) {
        struct sg_trace_log t;
        assert_true(sg_trace_log_init(&t, false));
        sg_trace_log_add(&t, 0, 1, k == 0 ? &base : &other[k - 1]);
        h[k] = sg_trace_log_hash(&t);
        sg_trace_log_deinit(&t);
    }
    assert_true(h[0] != h[1]);
    assert_true(h[0] != h[2]);
    assert_true(h[0] != h[3]);
    /* NULL and "" are one encoding: both render as nothing. */
    assert_int_equal(h[0], h[4]);
}

static void trace__keeps_canonical_lines__when_keep_is_true(void **state)
{
    (void)state;
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, true));
    append_all(&t, sample, SAMPLE_COUNT);
    assert_non_null(t.records);
    assert_string_equal(t.records[0], "0 0 world start seed=42");
    assert_string_equal(t.records[1], "1000 1 orch recv CreateWithdrawal key=k1");
    assert_string_equal(t.records[5], "-5 4294967295 ");
    assert_string_equal(t.records[7], "9223372036854775807 8 max time with  two spaces");

    /* Growth well past any initial capacity keeps every line in order. */
    for (uint32_t i = 0; i < 3000; i++) {
        char text[32];
        snprintf(text, sizeof text, "tick %" PRIu32, i);
        sg_trace_log_append(&t, (int64_t)i * 1000, i % 5, text);
    }
    assert_int_equal(t.count, SAMPLE_COUNT + 3000);
    assert_true(t.records_cap >= t.count);
    assert_string_equal(t.records[SAMPLE_COUNT], "0 0 tick 0");
    assert_string_equal(t.records[SAMPLE_COUNT + 2999], "2999000 4 tick 2999");
    sg_trace_log_deinit(&t);
    assert_null(t.records);
    assert_int_equal(t.count, 0);
    sg_trace_log_deinit(&t); /* Safe to call twice. */
}

static void trace__keeps_nothing__when_keep_is_false(void **state)
{
    (void)state;
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, false));
    for (int i = 0; i < 1000; i++) append_all(&t, sample, SAMPLE_COUNT);
    assert_int_equal(t.count, 1000 * SAMPLE_COUNT);
    assert_null(t.records);
    assert_int_equal(t.records_cap, 0);
    sg_trace_log_deinit(&t);
}

static void init_kept(struct sg_trace_log *t, const struct rec *recs, size_t n)
{
    assert_true(sg_trace_log_init(t, true));
    append_all(t, recs, n);
}

static void trace__diverge_names_first_difference__for_middle_change(void **state)
{
    (void)state;
    struct rec changed[SAMPLE_COUNT];
    memcpy(changed, sample, sizeof changed);
    changed[4].text = "orch state=REJECTED";
    changed[6].text = "also different";
    struct sg_trace_log a, b;
    init_kept(&a, sample, SAMPLE_COUNT);
    init_kept(&b, changed, SAMPLE_COUNT);
    uint64_t index = UINT64_MAX;
    assert_true(sg_trace_log_diverge(&a, &b, &index));
    assert_int_equal(index, 4);
    index = UINT64_MAX;
    assert_true(sg_trace_log_diverge(&b, &a, &index));
    assert_int_equal(index, 4);
    sg_trace_log_deinit(&a);
    sg_trace_log_deinit(&b);

    /* A change of time alone (same node and text) is a divergence too. */
    memcpy(changed, sample, sizeof changed);
    changed[0].at_ns = 1;
    init_kept(&a, sample, SAMPLE_COUNT);
    init_kept(&b, changed, SAMPLE_COUNT);
    assert_true(sg_trace_log_diverge(&a, &b, &index));
    assert_int_equal(index, 0);
    sg_trace_log_deinit(&a);
    sg_trace_log_deinit(&b);
}

static void trace__diverge_names_shorter_count__for_strict_prefix(void **state)
{
    (void)state;
    struct sg_trace_log full, prefix, empty;
    init_kept(&full, sample, SAMPLE_COUNT);
    init_kept(&prefix, sample, 5);
    init_kept(&empty, sample, 0);
    uint64_t index = UINT64_MAX;
    assert_true(sg_trace_log_diverge(&full, &prefix, &index));
    assert_int_equal(index, 5);
    index = UINT64_MAX;
    assert_true(sg_trace_log_diverge(&prefix, &full, &index));
    assert_int_equal(index, 5);
    index = UINT64_MAX;
    assert_true(sg_trace_log_diverge(&empty, &full, &index));
    assert_int_equal(index, 0);
    sg_trace_log_deinit(&full);
    sg_trace_log_deinit(&prefix);
    sg_trace_log_deinit(&empty);
}

static void trace__diverge_returns_false__for_identical_logs(void **state)
{
    (void)state;
    struct sg_trace_log a, b, e1, e2;
    init_kept(&a, sample, SAMPLE_COUNT);
    init_kept(&b, sample, SAMPLE_COUNT);
    init_kept(&e1, sample, 0);
    init_kept(&e2, sample, 0);
    uint64_t index = UINT64_MAX;
    assert_false(sg_trace_log_diverge(&a, &b, &index));
    assert_false(sg_trace_log_diverge(&a, &a, &index));
    assert_false(sg_trace_log_diverge(&e1, &e2, &index));
    assert_int_equal(sg_trace_log_hash(&a), sg_trace_log_hash(&b));
    sg_trace_log_deinit(&a);
    sg_trace_log_deinit(&b);
    sg_trace_log_deinit(&e1);
    sg_trace_log_deinit(&e2);
}

struct sink_capture {
    size_t calls;
    struct rec got[SAMPLE_COUNT];
    char text[SAMPLE_COUNT][64];
};

static void capture_sink(void *sink_ctx, int64_t at_ns, uint32_t node, const char *text)
{
    struct sink_capture *c = sink_ctx;
    assert_true(c->calls < SAMPLE_COUNT);
    c->got[c->calls].at_ns = at_ns;
    c->got[c->calls].node = node;
    /* Copy: the text is only borrowed for the duration of the call. */
    assert_true(strlen(text) < sizeof c->text[0]);
    strcpy(c->text[c->calls], text);
    c->got[c->calls].text = c->text[c->calls];
    c->calls++;
}

static void trace__sink_receives_every_record__in_order(void **state)
{
    (void)state;
    struct sink_capture capture = {.calls = 0};
    struct sg_trace_log t;
    assert_true(sg_trace_log_init(&t, false));
    t.sink = capture_sink;
    t.sink_ctx = &capture;
    append_all(&t, sample, SAMPLE_COUNT);
    assert_int_equal(capture.calls, SAMPLE_COUNT);
    for (size_t i = 0; i < SAMPLE_COUNT; i++) {
        assert_true(capture.got[i].at_ns == sample[i].at_ns);
        assert_int_equal(capture.got[i].node, sample[i].node);
        assert_string_equal(capture.got[i].text, sample[i].text);
    }
    /* The sink sees what is hashed: the same records without a sink hash the same. */
    assert_int_equal(sg_trace_log_hash(&t), hash_of(sample, SAMPLE_COUNT));
    sg_trace_log_deinit(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace__same_hash__for_same_records),
        cmocka_unit_test(trace__different_hash__for_one_changed_record),
        cmocka_unit_test(trace__hash_equals_xxh3_of_binary_encoding__computed_independently),
        cmocka_unit_test(trace__long_string__hashes_like_its_encoding),
        cmocka_unit_test(trace__typed_record__differs_by_kind_and_slot),
        cmocka_unit_test(trace__keeps_canonical_lines__when_keep_is_true),
        cmocka_unit_test(trace__keeps_nothing__when_keep_is_false),
        cmocka_unit_test(trace__diverge_names_first_difference__for_middle_change),
        cmocka_unit_test(trace__diverge_names_shorter_count__for_strict_prefix),
        cmocka_unit_test(trace__diverge_returns_false__for_identical_logs),
        cmocka_unit_test(trace__sink_receives_every_record__in_order),
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
