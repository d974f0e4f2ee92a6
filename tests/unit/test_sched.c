/*
 * test_sched.c: unit tests for sim/sched.c, the (time, sequence) min-heap of events.
 *
 * Why: the pop order of the queue is the simulation's order of events; if it ever depended
 * on anything but (at_ns, seq) a seed would stop replaying. These tests pin that order
 * against a plain reference (linear scan for the minimum) under ties, growth and
 * interleaving, and check the ownership rules (deinit frees queued payloads: run under
 * ASan to see a leak).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"
#include "sched.h"

static struct sg_event event_at(int64_t at_ns, uint64_t tag)
{
    struct sg_event ev = {
        .at_ns = at_ns, .seq = 0, .kind = SG_EV_TIMER, .node = 1, .from = 0,
        .tag = tag, .generation = 0, .payload = NULL, .len = 0,
    };
    return ev;
}

static bool precedes(const struct sg_event *a, const struct sg_event *b)
{
    return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq);
}

static void sched__pops_in_time_order__for_unordered_pushes(void **state)
{
    (void)state;
    static const int64_t times[] = {50, -7, 1000000000000, 3, 0, 49, 51, INT64_MIN, INT64_MAX};
    static const int64_t sorted[] = {INT64_MIN, -7, 0, 3, 49, 50, 51, 1000000000000, INT64_MAX};
    const size_t n = sizeof times / sizeof times[0];
    struct sg_sched s;
    sg_sched_init(&s);
    for (size_t i = 0; i < n; i++) {
        struct sg_event ev = event_at(times[i], i);
        assert_true(sg_sched_push(&s, &ev));
    }
    assert_int_equal(s.count, n);
    for (size_t i = 0; i < n; i++) {
        struct sg_event out;
        assert_true(sg_sched_pop(&s, &out));
        assert_true(out.at_ns == sorted[i]);
        assert_true(times[out.tag] == out.at_ns);
    }
    assert_int_equal(s.count, 0);
    sg_sched_deinit(&s);
}

static void sched__pops_in_time_order__with_ties_by_seq(void **state)
{
    (void)state;
    struct sg_sched s;
    sg_sched_init(&s);
    /* Tags 0..29 at three times pushed round-robin: each time's tags must come back in
     * push order, and seq must be the push index whatever the caller put in it. */
    for (uint64_t i = 0; i < 30; i++) {
        struct sg_event ev = event_at((int64_t)(i % 3) * 10, i);
        ev.seq = 12345;
        assert_true(sg_sched_push(&s, &ev));
    }
    uint64_t expected_tag[3] = {0, 1, 2};
    int64_t last_at = INT64_MIN;
    for (int i = 0; i < 30; i++) {
        struct sg_event out;
        assert_true(sg_sched_pop(&s, &out));
        assert_true(out.at_ns >= last_at);
        last_at = out.at_ns;
        size_t group = (size_t)(out.at_ns / 10);
        assert_int_equal(out.tag, expected_tag[group]);
        assert_int_equal(out.seq, out.tag);
        expected_tag[group] += 3;
    }
    assert_int_equal(s.seq_next, 30);
    sg_sched_deinit(&s);
}

static void sched__copies_every_field__except_seq(void **state)
{
    (void)state;
    struct sg_sched s;
    sg_sched_init(&s);
    uint8_t *payload = malloc(3);
    assert_non_null(payload);
    memcpy(payload, "abc", 3);
    struct sg_event ev = {
        .at_ns = 77, .seq = 999, .kind = SG_EV_DELIVER, .node = 3, .from = 2,
        .tag = 0xabcdef, .generation = 5, .payload = payload, .len = 3,
    };
    assert_true(sg_sched_push(&s, &ev));
    assert_int_equal(ev.seq, 999); /* The caller's copy is not touched. */
    struct sg_event out;
    assert_true(sg_sched_pop(&s, &out));
    assert_true(out.at_ns == 77);
    assert_int_equal(out.seq, 0);
    assert_int_equal(out.kind, SG_EV_DELIVER);
    assert_int_equal(out.node, 3);
    assert_int_equal(out.from, 2);
    assert_int_equal(out.tag, 0xabcdef);
    assert_int_equal(out.generation, 5);
    assert_ptr_equal(out.payload, payload);
    assert_int_equal(out.len, 3);
    free(out.payload); /* Popped: the payload is ours now. */
    sg_sched_deinit(&s);
}

static void sched__stays_sorted__past_initial_capacity_with_10000_random_events(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct sg_prng p;
    sg_prng_init(&p, 77, 1);
    struct sg_sched s;
    sg_sched_init(&s);
    /* Times in a narrow window so that ties are frequent (about 20 per time). */
    for (uint64_t i = 0; i < N; i++) {
        struct sg_event ev = event_at(sg_prng_range(&p, -250, 250), i);
        assert_true(sg_sched_push(&s, &ev));
    }
    assert_int_equal(s.count, N);
    assert_true(s.capacity >= N);

    static bool popped[N];
    memset(popped, 0, sizeof popped);
    struct sg_event prev;
    assert_true(sg_sched_pop(&s, &prev));
    popped[prev.tag] = true;
    for (int i = 1; i < N; i++) {
        struct sg_event out;
        assert_true(sg_sched_pop(&s, &out));
        assert_true(precedes(&prev, &out));
        assert_int_equal(out.seq, out.tag);
        assert_false(popped[out.tag]);
        popped[out.tag] = true;
        prev = out;
    }
    struct sg_event none;
    assert_false(sg_sched_pop(&s, &none));
    sg_sched_deinit(&s);
}

/* Field by field: struct padding is not guaranteed to be copied, so no memcmp. */
static void assert_event_equal(const struct sg_event *a, const struct sg_event *b)
{
    assert_true(a->at_ns == b->at_ns);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->node, b->node);
    assert_int_equal(a->from, b->from);
    assert_int_equal(a->tag, b->tag);
    assert_int_equal(a->generation, b->generation);
    assert_ptr_equal(a->payload, b->payload);
    assert_int_equal(a->len, b->len);
}

/* Removes and returns the least element of a plain array by linear scan. */
static struct sg_event ref_pop(struct sg_event *ref, size_t *count)
{
    size_t least = 0;
    for (size_t i = 1; i < *count; i++) {
        if (precedes(&ref[i], &ref[least])) least = i;
    }
    struct sg_event out = ref[least];
    ref[least] = ref[*count - 1];
    (*count)--;
    return out;
}

static void sched__peek_matches_pop__while_interleaving_with_pushes(void **state)
{
    (void)state;
    enum { OPS = 5000 };
    static struct sg_event ref[OPS];
    size_t ref_count = 0;
    struct sg_prng p;
    sg_prng_init(&p, 5, 5);
    struct sg_sched s;
    sg_sched_init(&s);
    int64_t now_ns = 0;
    for (uint64_t i = 0; i < OPS; i++) {
        if (ref_count == 0 || sg_prng_chance(&p, 3, 5)) {
            /* Events are scheduled at or after "now", as the world does. */
            struct sg_event ev = event_at(now_ns + sg_prng_range(&p, 0, 40), i);
            assert_true(sg_sched_push(&s, &ev));
            ev.seq = s.seq_next - 1;
            ref[ref_count++] = ev;
        } else {
            const struct sg_event *top = sg_sched_peek(&s);
            assert_non_null(top);
            struct sg_event top_copy = *top;
            struct sg_event out;
            assert_true(sg_sched_pop(&s, &out));
            assert_event_equal(&top_copy, &out);
            struct sg_event want = ref_pop(ref, &ref_count);
            assert_int_equal(out.seq, want.seq);
            assert_int_equal(out.tag, want.tag);
            assert_true(out.at_ns == want.at_ns);
            now_ns = out.at_ns;
        }
        assert_int_equal(s.count, ref_count);
    }
    sg_sched_deinit(&s);
}

static void sched__deinit_frees_payloads__left_in_queue(void **state)
{
    (void)state;
    struct sg_sched s;
    sg_sched_init(&s);
    for (uint64_t i = 0; i < 200; i++) {
        struct sg_event ev = event_at((int64_t)(200 - i), i);
        ev.len = 16 + (size_t)i;
        ev.payload = malloc(ev.len);
        assert_non_null(ev.payload);
        memset(ev.payload, (int)(i & 0xff), ev.len);
        assert_true(sg_sched_push(&s, &ev));
    }
    /* Pop a few and free them ourselves; deinit must free exactly the rest (ASan checks
     * both leaks and double frees). */
    for (int i = 0; i < 10; i++) {
        struct sg_event out;
        assert_true(sg_sched_pop(&s, &out));
        assert_int_equal(out.payload[0], out.tag & 0xff);
        free(out.payload);
    }
    assert_int_equal(s.count, 190);
    sg_sched_deinit(&s);
    assert_null(s.heap);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.capacity, 0);
    sg_sched_deinit(&s); /* Safe to call twice. */
    assert_null(sg_sched_peek(&s));
}

static void sched__pop_returns_false__when_empty(void **state)
{
    (void)state;
    struct sg_sched s;
    sg_sched_init(&s);
    struct sg_event out = event_at(42, 7);
    assert_null(sg_sched_peek(&s));
    assert_false(sg_sched_pop(&s, &out));
    assert_int_equal(s.count, 0);

    struct sg_event ev = event_at(1, 1);
    assert_true(sg_sched_push(&s, &ev));
    assert_non_null(sg_sched_peek(&s));
    assert_true(sg_sched_pop(&s, &out));
    assert_int_equal(out.tag, 1);
    assert_null(sg_sched_peek(&s));
    assert_false(sg_sched_pop(&s, &out));
    assert_false(sg_sched_pop(&s, &out));
    assert_int_equal(s.count, 0);
    sg_sched_deinit(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sched__pops_in_time_order__for_unordered_pushes),
        cmocka_unit_test(sched__pops_in_time_order__with_ties_by_seq),
        cmocka_unit_test(sched__copies_every_field__except_seq),
        cmocka_unit_test(sched__stays_sorted__past_initial_capacity_with_10000_random_events),
        cmocka_unit_test(sched__peek_matches_pop__while_interleaving_with_pushes),
        cmocka_unit_test(sched__deinit_frees_payloads__left_in_queue),
        cmocka_unit_test(sched__pop_returns_false__when_empty),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
