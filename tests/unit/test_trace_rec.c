/*
 * test_trace_rec.c: unit tests for core/trace_rec.c, the text of binary trace records.
 *
 * Why: the text of a record is what people, the timeline and live node.log read; records
 * became binary for speed, and their text must stay exactly what the printf-style records
 * printed. Each check renders a record and compares it with snprintf of the former
 * format, including the extremes of the integer slots and truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace_rec.h"

static void render_equals(const struct sg_trace_rec *r, const char *want)
{
    char buf[256];
    size_t n = sg_trace_rec_text(r, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void trace_rec__text__matches_former_printf_formats(void **state)
{
    (void)state;
    char want[256];
    uint64_t h = 0xfedcba9876543210ULL;
    snprintf(want, sizeof want, "send %u->%u len=%zu h=%016llx copies=%zu", 1u, 0u,
             (size_t)163, (unsigned long long)h, (size_t)2);
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_SEND, .i = {1, 0, 163, (int64_t)h, 2}},
                  want);
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_TIMER, .i = {0x0300000000000007}},
                  "timer 0300000000000007");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_DELIVER, .i = {4, 1, 99}},
                  "deliver 4->1 len=99");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_DELIVER, .i = {4, 1, 99},
                                         .s = {" dropped"}},
                  "deliver 4->1 len=99 dropped");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_TRANSITION,
                                         .s = {"w-1", "REQUESTED", "IN_PROGRESS"}},
                  "transition wid=w-1 REQUESTED->IN_PROGRESS");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_REPLY, .i = {5},
                                         .s = {"OK", "w-2", NULL}},
                  "reply to=5 code=OK wid=w-2 status=");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_CONSUMER_TIMEOUT, .i = {3},
                                         .s = {"cbsaga-risk"}},
                  "consumer timeout cbsaga-risk (3 partitions)");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_RELAY_RETRY}, "relay retry");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_TEXT, .s = {"faults on"}}, "faults on");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_TEXT}, "");
}

static void trace_rec__integers__render_their_extremes(void **state)
{
    (void)state;
    char want[128];
    snprintf(want, sizeof want, "relay produce n=%" PRId64 " last_seq=%" PRId64, INT64_MIN,
             INT64_MAX);
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_RELAY_PRODUCE,
                                         .i = {INT64_MIN, INT64_MAX}},
                  want);
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_RELAY_PERSISTED, .i = {0}},
                  "relay persisted last_seq=0");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_TIMER, .i = {-1}},
                  "timer ffffffffffffffff");
    render_equals(&(struct sg_trace_rec){.kind = SG_TR_SQLITE_ERROR, .i = {10, -3},
                                         .s = {"commit"}},
                  "sqlite_error rc=10 ext=-3 at=commit");
}

static void trace_rec__text__truncates_and_reports_full_length(void **state)
{
    (void)state;
    const struct sg_trace_rec r = {.kind = SG_TR_CREATED, .s = {"0123456789"}};
    const char *full = "created wid=0123456789";
    char buf[8];
    memset(buf, 'z', sizeof buf);
    assert_int_equal(sg_trace_rec_text(&r, buf, sizeof buf), strlen(full));
    assert_string_equal(buf, "created");
    assert_int_equal(sg_trace_rec_text(&r, NULL, 0), strlen(full));
    char one[1] = {'z'};
    assert_int_equal(sg_trace_rec_text(&r, one, 1), strlen(full));
    assert_int_equal(one[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_rec__text__matches_former_printf_formats),
        cmocka_unit_test(trace_rec__integers__render_their_extremes),
        cmocka_unit_test(trace_rec__text__truncates_and_reports_full_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
