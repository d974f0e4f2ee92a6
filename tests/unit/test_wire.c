/*
 * test_wire.c: unit tests for core/wire.c: the saga's events and the node envelope
 * (DESIGN §1 "Transactional outbox", §8 "Node envelope", §8.1 "Events and routes").
 *
 * Why: every outbox payload and broker record is one packed Event, and consumers act on
 * what sg_event_decode and its accessors return; the route decides the topic. A mismatch
 * between the pack table and the accessors would send a command to the wrong topic or
 * make a consumer misread the withdrawal. Consumers must also survive poison records
 * (DESIGN §8.1), so garbage and truncated bytes are decoded here under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static const char WID[] = "3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d";
static const char USER[] = "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c";
static const char EVENT_ID[] = "0a0b0c0d-0e0f-4011-8213-141516171819";
static const char TRACE[] = "00112233445566778899aabbccddeeff";
static const char CREATED[] = "2025-11-25T12:34:56.789Z";

static bool carries_ref(enum sg_event_type t)
{
    return t == SG_EVT_WITHDRAWAL_REQUESTED || t == SG_EVT_VERIFY_IDENTITY_REQUESTED ||
           t == SG_EVT_RISK_CHECK_REQUESTED || t == SG_EVT_PLACE_HOLD ||
           t == SG_EVT_SETTLE_HOLD || t == SG_EVT_RELEASE_HOLD || t == SG_EVT_PAYOUT_REQUESTED;
}

static bool carries_reason(enum sg_event_type t)
{
    return t == SG_EVT_WITHDRAWAL_FAILED || t == SG_EVT_WITHDRAWAL_CANCELED ||
           t == SG_EVT_IDENTITY_REJECTED || t == SG_EVT_RISK_REJECTED ||
           t == SG_EVT_HOLD_REJECTED || t == SG_EVT_PAYOUT_FAILED;
}

static const struct sg_event_fields FIELDS = {
    .withdrawal_id = WID, .user_id = USER, .asset = "BTC", .amount_minor = 123456789012LL,
    .destination_addr = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", .reason = "risk: flagged",
};

static SgEvent *pack_decode(enum sg_event_type t, const struct sg_event_fields *f,
                            uint8_t **bytes, size_t *len)
{
    assert_int_equal(sg_event_pack(t, f, EVENT_ID, TRACE, CREATED, bytes, len), SG_OK);
    assert_non_null(*bytes);
    assert_true(*len > 0);
    return sg_event_decode(*bytes, *len);
}

/* xorshift64*: deterministic garbage, independent of the simulator's PRNG */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

/* Any decoded event must be safe to read through every accessor. */
static void assert_accessors_safe(const SgEvent *ev)
{
    enum sg_event_type t = sg_event_type_of(ev);
    assert_true(t <= SG_EVT_COUNT);
    assert_non_null(sg_event_withdrawal_id(ev));
    assert_non_null(sg_event_reason(ev));
    const SgWithdrawalRef *ref = sg_event_ref(ev);
    if (ref) {
        assert_true(t < SG_EVT_COUNT && carries_ref(t));
        assert_non_null(ref->withdrawal_id);
    }
}

static void wire__event_round_trips__for_every_type(void **state)
{
    (void)state;
    for (int i = 0; i < SG_EVT_COUNT; i++) {
        enum sg_event_type t = (enum sg_event_type)i;
        uint8_t *bytes = NULL;
        size_t len = 0;
        SgEvent *ev = pack_decode(t, &FIELDS, &bytes, &len);
        assert_non_null(ev);
        assert_string_equal(ev->event_id, EVENT_ID);
        assert_string_equal(ev->event_type, sg_event_name(t));
        assert_string_equal(ev->aggregate_type, "withdrawal");
        assert_string_equal(ev->aggregate_id, WID);
        assert_string_equal(ev->trace_id, TRACE);
        assert_string_equal(ev->created_at, CREATED);
        assert_int_equal(sg_event_type_of(ev), t);
        assert_string_equal(sg_event_withdrawal_id(ev), WID);
        assert_string_equal(sg_event_reason(ev), carries_reason(t) ? FIELDS.reason : "");
        const SgWithdrawalRef *ref = sg_event_ref(ev);
        if (carries_ref(t)) {
            assert_non_null(ref);
            assert_string_equal(ref->withdrawal_id, WID);
            assert_string_equal(ref->user_id, USER);
            assert_string_equal(ref->asset, "BTC");
            assert_true(ref->amount_minor == FIELDS.amount_minor);
            assert_string_equal(ref->destination_addr, FIELDS.destination_addr);
        } else {
            assert_null(ref);
        }
        /* packing is deterministic: the same event gives the same bytes */
        uint8_t *again = NULL;
        size_t len2 = 0;
        assert_int_equal(sg_event_pack(t, &FIELDS, EVENT_ID, TRACE, CREATED, &again, &len2),
                         SG_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(again, bytes, len);
        free(again);
        sg_event_free(ev);
        free(bytes);
    }
}

static void wire__event_payload_case__is_the_proto_field__for_every_type(void **state)
{
    (void)state;
    /* the oneof field numbers of events.proto, in enum order */
    static const int field[SG_EVT_COUNT] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                            21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
    for (int i = 0; i < SG_EVT_COUNT; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        SgEvent *ev = pack_decode((enum sg_event_type)i, &FIELDS, &bytes, &len);
        assert_non_null(ev);
        assert_int_equal((int)ev->payload_case, field[i]);
        sg_event_free(ev);
        free(bytes);
    }
}

static void wire__event_reason__is_empty__when_not_given(void **state)
{
    (void)state;
    struct sg_event_fields f = FIELDS;
    f.reason = NULL;
    for (int i = 0; i < SG_EVT_COUNT; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        SgEvent *ev = pack_decode((enum sg_event_type)i, &f, &bytes, &len);
        assert_non_null(ev);
        assert_string_equal(sg_event_reason(ev), "");
        assert_string_equal(sg_event_withdrawal_id(ev), WID);
        sg_event_free(ev);
        free(bytes);
    }
}

static void wire__event_route_and_name__match_design(void **state)
{
    (void)state;
    static const struct {
        enum sg_event_type t;
        const char *name, *route;
    } want[SG_EVT_COUNT] = {
        {SG_EVT_WITHDRAWAL_REQUESTED, "WithdrawalRequested", "evt.withdrawal"},
        {SG_EVT_WITHDRAWAL_IN_PROGRESS, "WithdrawalInProgress", "evt.withdrawal"},
        {SG_EVT_WITHDRAWAL_COMPLETED, "WithdrawalCompleted", "evt.withdrawal"},
        {SG_EVT_WITHDRAWAL_FAILED, "WithdrawalFailed", "evt.withdrawal"},
        {SG_EVT_WITHDRAWAL_CANCELED, "WithdrawalCanceled", "evt.withdrawal"},
        {SG_EVT_VERIFY_IDENTITY_REQUESTED, "VerifyIdentityRequested", "cmd.identity"},
        {SG_EVT_IDENTITY_VERIFIED, "IdentityVerified", "evt.identity"},
        {SG_EVT_IDENTITY_REJECTED, "IdentityRejected", "evt.identity"},
        {SG_EVT_RISK_CHECK_REQUESTED, "RiskCheckRequested", "cmd.risk"},
        {SG_EVT_RISK_APPROVED, "RiskApproved", "evt.risk"},
        {SG_EVT_RISK_REJECTED, "RiskRejected", "evt.risk"},
        {SG_EVT_PLACE_HOLD, "PlaceHold", "cmd.ledger"},
        {SG_EVT_HOLD_PLACED, "HoldPlaced", "evt.ledger"},
        {SG_EVT_HOLD_REJECTED, "HoldRejected", "evt.ledger"},
        {SG_EVT_SETTLE_HOLD, "SettleHold", "cmd.ledger"},
        {SG_EVT_HOLD_SETTLED, "HoldSettled", "evt.ledger"},
        {SG_EVT_RELEASE_HOLD, "ReleaseHold", "cmd.ledger"},
        {SG_EVT_HOLD_RELEASED, "HoldReleased", "evt.ledger"},
        {SG_EVT_PAYOUT_REQUESTED, "PayoutRequested", "cmd.payout"},
        {SG_EVT_PAYOUT_SUCCEEDED, "PayoutSucceeded", "evt.payout"},
        {SG_EVT_PAYOUT_FAILED, "PayoutFailed", "evt.payout"},
    };
    for (size_t i = 0; i < SG_EVT_COUNT; i++) {
        assert_string_equal(sg_event_name(want[i].t), want[i].name);
        assert_string_equal(sg_event_route(want[i].t), want[i].route);
        /* every Withdrawal* event, and only those, goes to evt.withdrawal */
        bool w = strncmp(want[i].name, "Withdrawal", 10) == 0;
        assert_true(w == (strcmp(want[i].route, "evt.withdrawal") == 0));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(sg_event_name(want[i].t), sg_event_name(want[j].t));
    }
}

static void wire__event_decode__is_null_or_untyped__for_truncations(void **state)
{
    (void)state;
    for (int i = 0; i < SG_EVT_COUNT; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        assert_int_equal(sg_event_pack((enum sg_event_type)i, &FIELDS, EVENT_ID, TRACE,
                                       CREATED, &bytes, &len), SG_OK);
        for (size_t cut = 0; cut < len; cut++) {
            /* a copy of exactly `cut` bytes, so ASan sees any read past the end */
            uint8_t *part = malloc(cut ? cut : 1);
            assert_non_null(part);
            memcpy(part, bytes, cut);
            SgEvent *ev = sg_event_decode(part, cut);
            if (ev) {
                assert_int_equal(sg_event_type_of(ev), SG_EVT_COUNT);
                assert_accessors_safe(ev);
                assert_null(sg_event_ref(ev));
                assert_string_equal(sg_event_withdrawal_id(ev), "");
                sg_event_free(ev);
            }
            free(part);
        }
        free(bytes);
    }
}

static void wire__event_decode__never_crashes__for_random_bytes(void **state)
{
    (void)state;
    uint64_t s = 0x5eedULL;
    size_t decoded = 0;
    for (int round = 0; round < 5000; round++) {
        size_t len = (size_t)(next_rand(&s) % 96);
        uint8_t *buf = malloc(len ? len : 1);
        assert_non_null(buf);
        for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)next_rand(&s);
        SgEvent *ev = sg_event_decode(buf, len);
        if (ev) {
            decoded++;
            assert_accessors_safe(ev);
            sg_event_free(ev);
        }
        free(buf);
    }
    assert_true(decoded < 5000); /* most random strings are not events */

    /* random bytes mutated into a valid event: flip one byte at every position */
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(sg_event_pack(SG_EVT_RISK_CHECK_REQUESTED, &FIELDS, EVENT_ID, TRACE,
                                   CREATED, &bytes, &len), SG_OK);
    for (size_t k = 0; k < len; k++) {
        uint8_t *m = malloc(len);
        assert_non_null(m);
        memcpy(m, bytes, len);
        m[k] = (uint8_t)(m[k] ^ (uint8_t)(1 + next_rand(&s) % 255));
        SgEvent *ev = sg_event_decode(m, len);
        if (ev) {
            assert_accessors_safe(ev);
            sg_event_free(ev);
        }
        free(m);
    }
    free(bytes);
}

static void wire__event_decode__handles_crafted_edge_cases(void **state)
{
    (void)state;
    /* empty input: a valid, empty event with no payload */
    SgEvent *ev = sg_event_decode((const uint8_t *)"", 0);
    assert_non_null(ev);
    assert_int_equal(sg_event_type_of(ev), SG_EVT_COUNT);
    assert_string_equal(sg_event_withdrawal_id(ev), "");
    sg_event_free(ev);

    /* an unknown field (40, empty message): decodes with no known type */
    static const uint8_t unknown_field[] = {0xc2, 0x02, 0x00};
    ev = sg_event_decode(unknown_field, sizeof unknown_field);
    assert_non_null(ev);
    assert_int_equal(sg_event_type_of(ev), SG_EVT_COUNT);
    sg_event_free(ev);

    /* a ref-carrying payload whose WithdrawalRef is absent: typed, but no ref and no id */
    static const uint8_t empty_requested[] = {0x7a, 0x00}; /* field 15, length 0 */
    ev = sg_event_decode(empty_requested, sizeof empty_requested);
    assert_non_null(ev);
    assert_int_equal(sg_event_type_of(ev), SG_EVT_VERIFY_IDENTITY_REQUESTED);
    assert_null(sg_event_ref(ev));
    assert_string_equal(sg_event_withdrawal_id(ev), "");
    sg_event_free(ev);

    /* malformed: payload field with varint wire type, invalid wire type 7, a length past
     * the end, an overlong varint */
    static const uint8_t wrong_wire_type[] = {0x50, 0x01};
    static const uint8_t wire_type_7[] = {0x0f, 0x00};
    static const uint8_t length_past_end[] = {0x0a, 0x10, 'a', 'b'};
    static const uint8_t overlong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_null(sg_event_decode(wrong_wire_type, sizeof wrong_wire_type));
    assert_null(sg_event_decode(wire_type_7, sizeof wire_type_7));
    assert_null(sg_event_decode(length_past_end, sizeof length_past_end));
    assert_null(sg_event_decode(overlong, sizeof overlong));
    sg_event_free(NULL); /* freeing nothing is allowed */
}

/* ---- the envelope ---- */

struct capture {
    uint8_t *bytes;
    size_t len;
    uint32_t to;
    int sends;
};

static void cap_send(void *ctx, uint32_t to, const uint8_t *bytes, size_t len)
{
    struct capture *c = ctx;
    free(c->bytes);
    c->bytes = malloc(len ? len : 1);
    assert_non_null(c->bytes);
    memcpy(c->bytes, bytes, len);
    c->len = len;
    c->to = to;
    c->sends++;
}

static int64_t cap_now(void *ctx)
{
    (void)ctx;
    return 0;
}

static uint64_t cap_random(void *ctx)
{
    (void)ctx;
    return 4;
}

static void cap_timer(void *ctx, int64_t mono_ns, uint64_t tag)
{
    (void)ctx;
    (void)mono_ns;
    (void)tag;
}

static void cap_trace(void *ctx, const struct sg_trace_rec *record)
{
    (void)ctx;
    (void)record;
}

static bool cap_fault(void *ctx, const char *point)
{
    (void)ctx;
    (void)point;
    return false;
}

__attribute__((noreturn)) static void cap_panic(void *ctx, const char *file, int line,
                                                const char *expr)
{
    (void)ctx;
    fail_msg("panic %s:%d: %s", file, line, expr);
    abort();
}

static SgEnvelope produce_envelope(SgRecord **recs, SgRecord *r0, SgRecord *r1,
                                   Sagasim__Node__V1__ProduceRequest *pr)
{
    sagasim__node__v1__record__init(r0);
    r0->topic = (char *)"cbsaga.evt.withdrawal";
    r0->key = (char *)WID;
    r0->value.data = (uint8_t *)"value-0";
    r0->value.len = 7;
    sagasim__node__v1__record__init(r1);
    r1->topic = (char *)"cbsaga.cmd.risk";
    r1->key = (char *)USER;
    r1->value.data = (uint8_t *)"\x00\x01\x02";
    r1->value.len = 3;
    recs[0] = r0;
    recs[1] = r1;
    sagasim__node__v1__produce_request__init(pr);
    pr->n_records = 2;
    pr->records = recs;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.trace_id = (char *)TRACE;
    e.correlation_id = 77;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE;
    e.produce = pr;
    return e;
}

static void wire__send_then_decode__round_trips_envelope(void **state)
{
    (void)state;
    struct capture cap = {0};
    struct sg_env env = {
        .ctx = &cap, .node_id = SG_NODE_ORCH, .data_dir = "", .now_wall_ns = cap_now,
        .now_mono_ns = cap_now, .random_u64 = cap_random, .send = cap_send,
        .timer_at = cap_timer, .trace = cap_trace, .fault_point = cap_fault,
        .panic = cap_panic,
    };
    SgRecord *recs[2], r0, r1;
    Sagasim__Node__V1__ProduceRequest pr;
    SgEnvelope e = produce_envelope(recs, &r0, &r1, &pr);
    uint64_t counter = 41, id = 0;
    sg_wire_send(&env, &counter, SG_NODE_BROKER, &e, &id);
    assert_int_equal(cap.sends, 1);
    assert_int_equal(cap.to, SG_NODE_BROKER);
    assert_true(id == 42 && counter == 42); /* msg ids are unique per sender */
    SgEnvelope *d = sg_wire_decode(cap.bytes, cap.len);
    assert_non_null(d);
    assert_true(d->msg_id == 42);
    assert_true(d->correlation_id == 77);
    assert_int_equal(d->from, SG_NODE_ORCH);
    assert_int_equal(d->to, SG_NODE_BROKER);
    assert_string_equal(d->trace_id, TRACE);
    assert_int_equal(d->payload_case, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE);
    assert_int_equal(d->produce->n_records, 2);
    assert_string_equal(d->produce->records[0]->topic, "cbsaga.evt.withdrawal");
    assert_string_equal(d->produce->records[0]->key, WID);
    assert_int_equal(d->produce->records[0]->value.len, 7);
    assert_memory_equal(d->produce->records[0]->value.data, "value-0", 7);
    assert_string_equal(d->produce->records[1]->key, USER);
    assert_int_equal(d->produce->records[1]->value.len, 3);
    assert_memory_equal(d->produce->records[1]->value.data, "\x00\x01\x02", 3);
    sg_wire_free(d);
    /* the next send takes the next id */
    sg_wire_send(&env, &counter, SG_NODE_RISK, &e, NULL);
    d = sg_wire_decode(cap.bytes, cap.len);
    assert_non_null(d);
    assert_true(d->msg_id == 43);
    assert_int_equal(d->to, SG_NODE_RISK);
    sg_wire_free(d);
    free(cap.bytes);
}

static void wire__envelope_decode__rejects_garbage__without_crashing(void **state)
{
    (void)state;
    static const uint8_t wire_type_7[] = {0x0f, 0x00};
    static const uint8_t length_past_end[] = {0x2a, 0x40, 'x'};        /* trace_id */
    static const uint8_t overlong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t bad_payload[] = {0x6a, 0x03, 0x0a, 0x05, 0x00}; /* produce, cut */
    static const uint8_t all_ff[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_null(sg_wire_decode(wire_type_7, sizeof wire_type_7));
    assert_null(sg_wire_decode(length_past_end, sizeof length_past_end));
    assert_null(sg_wire_decode(overlong, sizeof overlong));
    assert_null(sg_wire_decode(bad_payload, sizeof bad_payload));
    assert_null(sg_wire_decode(all_ff, sizeof all_ff));
    sg_wire_free(NULL);

    /* truncations of a real envelope: NULL, or an envelope without its payload (the
     * payload is packed last) */
    SgRecord *recs[2], r0, r1;
    Sagasim__Node__V1__ProduceRequest pr;
    SgEnvelope e = produce_envelope(recs, &r0, &r1, &pr);
    e.msg_id = 9;
    e.from = SG_NODE_CLIENT0;
    e.to = SG_NODE_BROKER;
    size_t n = sagasim__node__v1__envelope__get_packed_size(&e);
    uint8_t *full = malloc(n);
    assert_non_null(full);
    assert_int_equal(sagasim__node__v1__envelope__pack(&e, full), n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, full, cut);
        SgEnvelope *d = sg_wire_decode(part, cut);
        if (d) {
            assert_int_equal(d->payload_case, SAGASIM__NODE__V1__ENVELOPE__PAYLOAD__NOT_SET);
            sg_wire_free(d);
        }
        free(part);
    }
    /* random bytes: whatever decodes is freed cleanly; most do not decode */
    uint64_t s = 0xfeedULL;
    size_t decoded = 0;
    for (int round = 0; round < 5000; round++) {
        size_t len = 1 + (size_t)(next_rand(&s) % 128);
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)next_rand(&s);
        SgEnvelope *d = sg_wire_decode(buf, len);
        if (d) {
            decoded++;
            sg_wire_free(d);
        }
        free(buf);
    }
    assert_true(decoded < 5000);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire__event_round_trips__for_every_type),
        cmocka_unit_test(wire__event_payload_case__is_the_proto_field__for_every_type),
        cmocka_unit_test(wire__event_reason__is_empty__when_not_given),
        cmocka_unit_test(wire__event_route_and_name__match_design),
        cmocka_unit_test(wire__event_decode__is_null_or_untyped__for_truncations),
        cmocka_unit_test(wire__event_decode__never_crashes__for_random_bytes),
        cmocka_unit_test(wire__event_decode__handles_crafted_edge_cases),
        cmocka_unit_test(wire__send_then_decode__round_trips_envelope),
        cmocka_unit_test(wire__envelope_decode__rejects_garbage__without_crashing),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
