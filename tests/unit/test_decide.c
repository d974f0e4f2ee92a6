/*
 * test_decide.c: unit tests for core/decide.c, the identity and risk decisions
 * (DESIGN §1 "Decisions"; decide.h).
 *
 * Why: a redelivered command must always get the same decision, and the checker
 * recomputes decisions to judge I7; so decisions must be pure functions of
 * (withdrawal, config), follow the documented keyed-hash ratio, and give the exact
 * reasons the orchestrator stores as failure_reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "config.h"
#include "decide.h"
#include "simtest.h"

static const char USER[] = "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c";
static const char DENIED[] = "00000000-0000-4000-8000-00000000dead";

/* A distinct UUID-shaped withdrawal id per i. */
static void wid(uint32_t i, char out[37])
{
    snprintf(out, 37, "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
}

static void decide__identity_rejects__for_deny_listed_user(void **state)
{
    (void)state;
    struct sg_config c;
    st_config_approving(&c); /* no random rejections, one deny entry, the default limits */
    strcpy(c.deny_users[1], USER);
    c.deny_user_count = 2;
    char id[37];
    for (uint32_t i = 0; i < 100; i++) {
        wid(i, id);
        struct sg_decision d = sg_decide_identity(&c, id, DENIED);
        assert_false(d.approved);
        assert_string_equal(d.reason, "identity: user denied");
        d = sg_decide_identity(&c, id, USER); /* the second entry counts too */
        assert_false(d.approved);
        assert_string_equal(d.reason, "identity: user denied");
        d = sg_decide_identity(&c, id, "11111111-2222-4333-8444-555555555555");
        assert_true(d.approved);
        assert_string_equal(d.reason, "");
    }
    /* the deny list wins over a ratio that would reject anyway */
    c.identity_reject_num = 100;
    c.identity_reject_den = 100;
    struct sg_decision d = sg_decide_identity(&c, "w", DENIED);
    assert_false(d.approved);
    assert_string_equal(d.reason, "identity: user denied");
    /* entries past deny_user_count are not in the list */
    st_config_approving(&c);
    strcpy(c.deny_users[1], USER);
    c.deny_user_count = 1;
    d = sg_decide_identity(&c, "w", USER);
    assert_true(d.approved);
}

static void decide__ratio_extremes__never_or_always_reject(void **state)
{
    (void)state;
    struct sg_config c;
    st_config_approving(&c);
    char id[37];
    for (uint32_t i = 0; i < 2000; i++) {
        wid(i, id);
        /* 0/100 never */
        c.identity_reject_num = 0, c.identity_reject_den = 100;
        c.risk_reject_num = 0, c.risk_reject_den = 100;
        assert_true(sg_decide_identity(&c, id, USER).approved);
        assert_true(sg_decide_risk(&c, id, "BTC", 1).approved);
        /* den 0 never, whatever num */
        c.identity_reject_num = 5, c.identity_reject_den = 0;
        c.risk_reject_num = 100, c.risk_reject_den = 0;
        assert_true(sg_decide_identity(&c, id, USER).approved);
        assert_true(sg_decide_risk(&c, id, "BTC", 1).approved);
        /* 100/100 always, with the ratio's reason */
        c.identity_reject_num = 100, c.identity_reject_den = 100;
        c.risk_reject_num = 100, c.risk_reject_den = 100;
        struct sg_decision d = sg_decide_identity(&c, id, USER);
        assert_false(d.approved);
        assert_string_equal(d.reason, "identity: verification failed");
        d = sg_decide_risk(&c, id, "BTC", 1);
        assert_false(d.approved);
        assert_string_equal(d.reason, "risk: flagged");
    }
}

static void decide__ratio_5_of_100__rejects_3_to_7_percent__over_10000_ids(void **state)
{
    (void)state;
    struct sg_config c;
    st_config_approving(&c);
    c.identity_reject_num = 5, c.identity_reject_den = 100;
    c.risk_reject_num = 5, c.risk_reject_den = 100;
    char id[37];
    uint32_t ident = 0, risk = 0, both = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        wid(i, id);
        bool ri = !sg_decide_identity(&c, id, USER).approved;
        bool rr = !sg_decide_risk(&c, id, "BTC", 1).approved;
        ident += ri;
        risk += rr;
        both += ri && rr;
    }
    assert_in_range(ident, 300, 700);
    assert_in_range(risk, 300, 700);
    /* identity and risk are keyed by different hash seeds: not the same withdrawals
     * (independent 5% draws coincide about 0.25% of the time) */
    assert_true(both < ident && both < risk);
    assert_in_range(both, 0, 100);
}

static void decide__ratio__follows_documented_keyed_hash(void **state)
{
    (void)state;
    struct sg_config c;
    st_config_approving(&c);
    c.identity_reject_num = 7, c.identity_reject_den = 13;
    c.risk_reject_num = 3, c.risk_reject_den = 11;
    char id[37];
    for (uint32_t i = 0; i < 1000; i++) {
        wid(i, id);
        bool ident_hit = XXH3_64bits_withSeed(id, strlen(id), 1) % 13 < 7;
        bool risk_hit = XXH3_64bits_withSeed(id, strlen(id), 2) % 11 < 3;
        assert_true(sg_decide_identity(&c, id, USER).approved == !ident_hit);
        assert_true(sg_decide_risk(&c, id, "BTC", 1).approved == !risk_hit);
    }
}

static void decide__decisions_are_pure__for_repeated_and_interleaved_calls(void **state)
{
    (void)state;
    struct sg_config c;
    sg_config_default(&c); /* 5/100 ratios, deny list and limits all active */
    struct sg_config before;
    memcpy(&before, &c, sizeof c);
    char id[37], other[37];
    for (uint32_t i = 0; i < 500; i++) {
        wid(i, id);
        struct sg_decision a = sg_decide_identity(&c, id, USER);
        struct sg_decision r = sg_decide_risk(&c, id, "ETH", 12345);
        for (uint32_t k = 0; k < 5; k++) {
            wid(i * 7 + k + 100000, other); /* unrelated calls in between */
            (void)sg_decide_identity(&c, other, DENIED);
            (void)sg_decide_risk(&c, other, "BTC", INT64_MAX);
            struct sg_decision a2 = sg_decide_identity(&c, id, USER);
            struct sg_decision r2 = sg_decide_risk(&c, id, "ETH", 12345);
            assert_true(a.approved == a2.approved);
            assert_string_equal(a.reason, a2.reason);
            assert_true(r.approved == r2.approved);
            assert_string_equal(r.reason, r2.reason);
        }
        /* a copy of the config gives the same answers: nothing hidden in the address */
        struct sg_config copy = c;
        assert_true(sg_decide_identity(&copy, id, USER).approved == a.approved);
        assert_true(sg_decide_risk(&copy, id, "ETH", 12345).approved == r.approved);
    }
    assert_memory_equal(&c, &before, sizeof c); /* the config is not touched */
}

static void decide__risk_rejects__above_asset_limit_only(void **state)
{
    (void)state;
    struct sg_config c;
    st_config_approving(&c);
    int64_t btc = 0, eth = 0;
    for (size_t i = 0; i < c.limit_count; i++) {
        if (!strcmp(c.limits[i].asset, "BTC")) btc = c.limits[i].amount_minor_max;
        if (!strcmp(c.limits[i].asset, "ETH")) eth = c.limits[i].amount_minor_max;
    }
    assert_true(btc > 0 && eth > 0);
    struct sg_decision d = sg_decide_risk(&c, "w1", "BTC", btc);
    assert_true(d.approved);
    assert_string_equal(d.reason, "");
    d = sg_decide_risk(&c, "w1", "BTC", btc + 1);
    assert_false(d.approved);
    assert_string_equal(d.reason, "risk: amount exceeds limit");
    d = sg_decide_risk(&c, "w1", "ETH", eth);
    assert_true(d.approved);
    d = sg_decide_risk(&c, "w1", "ETH", eth + 1);
    assert_false(d.approved);
    assert_string_equal(d.reason, "risk: amount exceeds limit");
    /* the limit of one asset does not apply to another: ETH's limit is above BTC's */
    assert_true(eth > btc + 1);
    assert_true(sg_decide_risk(&c, "w1", "ETH", btc + 1).approved);
    /* assets without a limit are not limited */
    assert_true(sg_decide_risk(&c, "w1", "DOGE", INT64_MAX).approved);
    assert_true(sg_decide_risk(&c, "w1", "SOL", btc + 1).approved);
    /* a limit wins over a ratio that would reject anyway (its reason is reported) */
    c.risk_reject_num = 100, c.risk_reject_den = 100;
    d = sg_decide_risk(&c, "w1", "BTC", btc + 1);
    assert_false(d.approved);
    assert_string_equal(d.reason, "risk: amount exceeds limit");
    /* limits past limit_count do not count */
    st_config_approving(&c);
    c.limit_count = 0;
    assert_true(sg_decide_risk(&c, "w1", "BTC", btc + 1).approved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decide__identity_rejects__for_deny_listed_user),
        cmocka_unit_test(decide__ratio_extremes__never_or_always_reject),
        cmocka_unit_test(decide__ratio_5_of_100__rejects_3_to_7_percent__over_10000_ids),
        cmocka_unit_test(decide__ratio__follows_documented_keyed_hash),
        cmocka_unit_test(decide__decisions_are_pure__for_repeated_and_interleaved_calls),
        cmocka_unit_test(decide__risk_rejects__above_asset_limit_only),
    };
    return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
