/*
 * test_ids.c: unit tests for core/ids.c: request normalisation, UUIDs, the request hash
 * and RFC 3339 times (DESIGN §1 "Validation", §8 "Identifiers", §8.1 "Normalisation").
 *
 * Why: normalisation decides what counts as "the same request" for idempotency; the hash
 * over the normalised fields is persisted and compared on every retry, so its encoding is
 * pinned here by a known answer computed independently (nettle over the documented bytes,
 * and a constant from another SHA-256 implementation). Withdrawal ids are UUIDv4 text from
 * the env's randomness, so they are checked against a scripted random source.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

static const char UUID_LOWER[] = "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c";
static const char UUID_UPPER[] = "6F1C2B3A-1D2E-4F5A-8B9C-0D1E2F3A4B5C";

/* ---- a scripted env: random_u64 returns values from a script, then a counter ---- */

struct fake_env {
    uint64_t counter;
    const uint64_t *script;
    size_t script_len, script_pos;
};

static uint64_t fake_random(void *ctx)
{
    struct fake_env *f = ctx;
    if (f->script_pos < f->script_len) return f->script[f->script_pos++];
    return ++f->counter * 0x9e3779b97f4a7c15ULL;
}

static int64_t fake_now(void *ctx)
{
    (void)ctx;
    return 0;
}

static void fake_send(void *ctx, uint32_t to, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    (void)to;
    (void)bytes;
    (void)len;
    fail_msg("ids must not send");
}

static void fake_timer(void *ctx, int64_t mono_ns, uint64_t tag)
{
    (void)ctx;
    (void)mono_ns;
    (void)tag;
    fail_msg("ids must not arm timers");
}

static void fake_trace(void *ctx, const struct sg_trace_rec *record)
{
    (void)ctx;
    (void)record;
}

static bool fake_fault(void *ctx, const char *point)
{
    (void)ctx;
    (void)point;
    return false;
}

__attribute__((noreturn)) static void fake_panic(void *ctx, const char *file, int line,
                                                 const char *expr)
{
    (void)ctx;
    fail_msg("panic %s:%d: %s", file, line, expr);
    abort();
}

static struct sg_env make_env(struct fake_env *f)
{
    struct sg_env env = {
        .ctx = f, .node_id = 1, .vfs_name = NULL, .data_dir = "", .commit_count = NULL,
        .now_wall_ns = fake_now, .now_mono_ns = fake_now, .random_u64 = fake_random,
        .send = fake_send, .timer_at = fake_timer, .trace = fake_trace,
        .fault_point = fake_fault, .panic = fake_panic,
    };
    return env;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Checks the shape of a lower-case UUIDv4 text. */
static void assert_uuid_v4(const char *u)
{
    assert_int_equal(strlen(u), SG_UUID_LEN);
    for (size_t i = 0; i < SG_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) assert_int_equal(u[i], '-');
        else assert_true(is_lower_hex(u[i]));
    }
    assert_int_equal(u[14], '4');                         /* version nibble */
    assert_non_null(strchr("89ab", u[19]));               /* RFC 4122 variant */
    assert_true(sg_uuid_valid(u, strlen(u)));
}

/* Normalises with good defaults for every field not under test. */
static bool norm(const char *user, const char *asset, int64_t amount, const char *dest,
                 const char *key, struct sg_request *out, const char **why)
{
    *why = NULL;
    return sg_request_normalise(user, asset, amount, dest, key, out, why);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- normalisation ---- */

static void ids__normalise_trims_and_cases__on_every_field(void **state)
{
    (void)state;
    struct sg_request r;
    const char *why;
    assert_true(norm(" \t6F1C2B3A-1d2e-4F5A-8B9C-0D1E2F3A4B5C\r\n", "\v  btc\f ", 42,
                     "  bc1q addr  ", "\t key one \n", &r, &why));
    assert_string_equal(r.user_id, UUID_LOWER);
    assert_string_equal(r.asset, "BTC");
    assert_true(r.amount_minor == 42);
    /* inner whitespace is kept; only the ends are trimmed */
    assert_string_equal(r.destination_addr, "bc1q addr");
    assert_string_equal(r.key, "key one");
}

static void ids__normalise_upper_cases_ascii_only__for_non_ascii_asset(void **state)
{
    (void)state;
    struct sg_request r;
    const char *why;
    /* "éth-x1" in UTF-8: the two bytes of é are not ASCII letters and stay as they are */
    assert_true(norm(UUID_LOWER, "\xc3\xa9th-x1", 1, "d", "k", &r, &why));
    assert_string_equal(r.asset, "\xc3\xa9TH-X1");
    /* lengths are bytes: 8 two-byte characters are exactly 16 bytes and fit */
    assert_true(norm(UUID_LOWER, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                     1, "d", "k", &r, &why));
    assert_int_equal(strlen(r.asset), 16);
    /* a ninth two-byte character makes 18 bytes: too long */
    assert_false(norm(UUID_LOWER,
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                      1, "d", "k", &r, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "asset"));
    /* a non-breaking space (U+00A0) is not ASCII whitespace: not trimmed */
    assert_true(norm(UUID_LOWER, "\xc2\xa0" "eth", 1, "d", "k", &r, &why));
    assert_string_equal(r.asset, "\xc2\xa0" "ETH");
}

static void ids__normalise_rejects_naming_field__when_missing_or_blank(void **state)
{
    (void)state;
    static const char *const blanks[] = {NULL, "", "   ", "\t\r\n"};
    struct sg_request r;
    const char *why;
    for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
        const char *b = blanks[i];
        assert_false(norm(b, "BTC", 1, "d", "k", &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "user_id"));
        assert_false(norm(UUID_LOWER, b, 1, "d", "k", &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "asset"));
        assert_false(norm(UUID_LOWER, "BTC", 1, b, "k", &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "destination_addr"));
        assert_false(norm(UUID_LOWER, "BTC", 1, "d", b, &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "idempotency_key"));
    }
}

static void ids__normalise_rejects_amount__when_not_positive(void **state)
{
    (void)state;
    static const int64_t bad[] = {0, -1, -100, INT64_MIN};
    struct sg_request r;
    const char *why;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(norm(UUID_LOWER, "BTC", bad[i], "d", "k", &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "amount_minor"));
    }
    assert_true(norm(UUID_LOWER, "BTC", 1, "d", "k", &r, &why));
    assert_true(r.amount_minor == 1);
    assert_true(norm(UUID_LOWER, "BTC", INT64_MAX, "d", "k", &r, &why));
    assert_true(r.amount_minor == INT64_MAX);
}

static void ids__normalise_rejects_user_id__when_not_a_uuid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c}",  /* braces */
        "urn:uuid:6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "6f1c2b3a1d2e4f5a8b9c0d1e2f3a4b5c",        /* no dashes (32) */
        "6f1c2b3-a1d2e-4f5a-8b9c-0d1e2f3a4b5c",    /* first dash one early */
        "6f1c2b3a-1d2e4-f5a-8b9c-0d1e2f3a4b5c",    /* second dash one late */
        "6f1c2b3a-1d2e-4f5a-8b9c0-d1e2f3a4b5c",    /* fourth dash one late */
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5",     /* 35 chars */
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c0",   /* 37 chars */
        "6f1c2b3g-1d2e-4f5a-8b9c-0d1e2f3a4b5c",    /* non-hex g */
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5z",    /* non-hex at the end */
        "6f1c2b3a 1d2e 4f5a 8b9c 0d1e2f3a4b5c",    /* spaces for dashes */
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e 2f3a4b5c",   /* inner space, 36 chars */
        "not a uuid",
    };
    struct sg_request r;
    const char *why;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(norm(bad[i], "BTC", 1, "d", "k", &r, &why));
        assert_non_null(why);
        assert_non_null(strstr(why, "user_id"));
    }
}

static void ids__normalise_rejects_naming_field__when_too_long(void **state)
{
    (void)state;
    struct sg_request r;
    const char *why;
    char *a17 = repeat('A', 17), *s129 = repeat('x', 129);
    assert_false(norm(UUID_LOWER, a17, 1, "d", "k", &r, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "asset"));
    assert_false(norm(UUID_LOWER, "BTC", 1, s129, "k", &r, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "destination_addr"));
    assert_false(norm(UUID_LOWER, "BTC", 1, "d", s129, &r, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "idempotency_key"));
    free(a17);
    free(s129);
}

static void ids__normalise_accepts_boundary_lengths__after_trimming(void **state)
{
    (void)state;
    struct sg_request r;
    const char *why;
    char *a16 = repeat('a', 16), *d128 = repeat('d', 128), *k128 = repeat('k', 128);
    assert_true(norm(UUID_LOWER, a16, 1, d128, k128, &r, &why));
    assert_int_equal(strlen(r.asset), 16);
    assert_int_equal(strlen(r.destination_addr), 128);
    assert_int_equal(strlen(r.key), 128);
    assert_string_equal(r.destination_addr, d128);
    assert_string_equal(r.key, k128);
    /* lengths are judged after trimming: long whitespace padding does not count */
    size_t pad = 1000;
    char *padded = malloc(pad + 128 + pad + 1);
    assert_non_null(padded);
    memset(padded, ' ', pad);
    memcpy(padded + pad, k128, 128);
    memset(padded + pad + 128, '\t', pad);
    padded[pad + 128 + pad] = '\0';
    assert_true(norm(UUID_LOWER, " BTC ", 1, padded, padded, &r, &why));
    assert_string_equal(r.key, k128);
    assert_string_equal(r.destination_addr, k128);
    free(padded);
    free(a16);
    free(d128);
    free(k128);
}

/* ---- UUIDs ---- */

static void ids__uuid_valid__accepts_8_4_4_4_12_hex_in_any_case(void **state)
{
    (void)state;
    assert_true(sg_uuid_valid(UUID_LOWER, strlen(UUID_LOWER)));
    assert_true(sg_uuid_valid(UUID_UPPER, strlen(UUID_UPPER)));
    const char *mixed = "6f1C2b3A-1d2E-4f5a-8B9c-0D1e2F3a4B5c";
    assert_true(sg_uuid_valid(mixed, strlen(mixed)));
    const char *nil = "00000000-0000-0000-0000-000000000000";
    assert_true(sg_uuid_valid(nil, strlen(nil)));
    /* any version: the shape is what counts */
    const char *v1 = "c232ab00-9414-11ec-b3c8-9f6bdeced846";
    assert_true(sg_uuid_valid(v1, strlen(v1)));
}

static void ids__uuid_valid__rejects_other_forms(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c}", "6f1c2b3a1d2e4f5a8b9c0d1e2f3a4b5c",
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5", "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c0",
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b-c", "-6f1c2b3a1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5g", "6f1c2b3a_1d2e_4f5a_8b9c_0d1e2f3a4b5c",
        " 6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5", "", "------------------------------------",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sg_uuid_valid(bad[i], strlen(bad[i])));
    /* len is what is judged: a valid text given a shorter length is not a UUID */
    assert_false(sg_uuid_valid(UUID_LOWER, 35));
    assert_false(sg_uuid_valid(UUID_LOWER, 0));
    /* an embedded NUL within the 36 bytes is not hex */
    char nul[37];
    memcpy(nul, UUID_LOWER, 37);
    nul[20] = '\0';
    assert_false(sg_uuid_valid(nul, 36));
}

static void ids__uuid_v4__is_lower_case_v4_text__from_env_randomness(void **state)
{
    (void)state;
    struct fake_env f = {0};
    struct sg_env env = make_env(&f);
    char seen[64][SG_UUID_LEN + 1];
    for (size_t i = 0; i < 64; i++) {
        sg_uuid_v4(&env, seen[i]);
        assert_uuid_v4(seen[i]);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(seen[i], seen[j]);
    }
    /* randomness is consumed from the env (two words per id), nothing else */
    assert_true(f.counter == 128);
}

static void ids__uuid_v4__is_a_function_of_the_randomness__for_fixed_words(void **state)
{
    (void)state;
    static const uint64_t zeros[] = {0, 0};
    static const uint64_t ones[] = {UINT64_MAX, UINT64_MAX};
    static const uint64_t mix[] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    char a[SG_UUID_LEN + 1], b[SG_UUID_LEN + 1];

    struct fake_env f = {.script = zeros, .script_len = 2};
    struct sg_env env = make_env(&f);
    sg_uuid_v4(&env, a);
    assert_string_equal(a, "00000000-0000-4000-8000-000000000000");

    f = (struct fake_env){.script = ones, .script_len = 2};
    sg_uuid_v4(&env, a);
    assert_string_equal(a, "ffffffff-ffff-4fff-bfff-ffffffffffff");

    /* same randomness, same id; different randomness, different id */
    f = (struct fake_env){.script = mix, .script_len = 2};
    sg_uuid_v4(&env, a);
    f = (struct fake_env){.script = mix, .script_len = 2};
    sg_uuid_v4(&env, b);
    assert_string_equal(a, b);
    assert_uuid_v4(a);
    f = (struct fake_env){.script = zeros, .script_len = 2};
    sg_uuid_v4(&env, b);
    assert_string_not_equal(a, b);
}

static void ids__trace_id_new__is_32_lower_hex__and_varies(void **state)
{
    (void)state;
    struct fake_env f = {0};
    struct sg_env env = make_env(&f);
    char a[SG_TRACE_ID_LEN + 1], b[SG_TRACE_ID_LEN + 1];
    sg_trace_id_new(&env, a);
    sg_trace_id_new(&env, b);
    assert_int_equal(strlen(a), SG_TRACE_ID_LEN);
    for (size_t i = 0; i < SG_TRACE_ID_LEN; i++) assert_true(is_lower_hex(a[i]));
    assert_string_not_equal(a, b);
}

/* ---- the request hash ---- */

static void put_str(struct sha256_ctx *c, const char *s)
{
    size_t n = strlen(s);
    uint8_t be[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    sha256_update(c, 4, be);
    sha256_update(c, n, (const uint8_t *)s);
}

/* The documented encoding, built here independently of ids.c. */
static void reference_hash(const char *user, const char *asset, int64_t amount,
                           const char *dest, uint8_t out[SG_HASH_LEN])
{
    struct sha256_ctx c;
    sha256_init(&c);
    put_str(&c, user);
    put_str(&c, asset);
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)((uint64_t)amount >> (56 - 8 * i));
    sha256_update(&c, 8, be);
    put_str(&c, dest);
    sha256_digest(&c, SG_HASH_LEN, out);
}

static void ids__request_hash__matches_known_answer__for_documented_encoding(void **state)
{
    (void)state;
    /* SHA-256 of u32be(36) user | u32be(3) "BTC" | i64be(12345) | u32be(7) "bc1qxyz",
     * computed with Python's hashlib. */
    static const uint8_t known[SG_HASH_LEN] = {
        0xa1, 0xcb, 0x6a, 0xfd, 0x4a, 0xac, 0x05, 0x73, 0x46, 0xcf, 0x8c, 0x90, 0x85, 0x9f, 0x20, 0x6c,
        0x6f, 0x88, 0x90, 0xea, 0x91, 0x76, 0x02, 0xc5, 0x09, 0xca, 0x53, 0xa0, 0xca, 0x91, 0x61, 0xd3};
    struct sg_request r;
    const char *why;
    assert_true(norm(UUID_UPPER, "  btc ", 12345, "bc1qxyz", "k-1", &r, &why));
    uint8_t got[SG_HASH_LEN], ref[SG_HASH_LEN];
    sg_request_hash(&r, got);
    reference_hash(UUID_LOWER, "BTC", 12345, "bc1qxyz", ref);
    assert_memory_equal(got, ref, SG_HASH_LEN);
    assert_memory_equal(got, known, SG_HASH_LEN);
    /* a large amount exercises every byte of the big-endian encoding */
    assert_true(norm(UUID_LOWER, "ETH", 0x0102030405060708LL, "dest", "k", &r, &why));
    sg_request_hash(&r, got);
    reference_hash(UUID_LOWER, "ETH", 0x0102030405060708LL, "dest", ref);
    assert_memory_equal(got, ref, SG_HASH_LEN);
}

static void ids__request_hash__equal_for_alike_requests__and_ignores_key(void **state)
{
    (void)state;
    struct sg_request a, b;
    const char *why;
    uint8_t ha[SG_HASH_LEN], hb[SG_HASH_LEN];
    assert_true(norm(UUID_LOWER, "BTC", 500, "addr-1", "key-a", &a, &why));
    assert_true(norm(" " "6F1C2B3A-1D2E-4F5A-8B9C-0D1E2F3A4B5C" "\t", "  btc ", 500,
                     " addr-1 ", "key-a", &b, &why));
    sg_request_hash(&a, ha);
    sg_request_hash(&b, hb);
    assert_memory_equal(ha, hb, SG_HASH_LEN);
    /* the key is not hashed */
    assert_true(norm(UUID_LOWER, "BTC", 500, "addr-1", "a-completely-different-key", &b, &why));
    sg_request_hash(&b, hb);
    assert_memory_equal(ha, hb, SG_HASH_LEN);
}

static void ids__request_hash__differs__when_any_hashed_field_differs(void **state)
{
    (void)state;
    struct sg_request base, r;
    const char *why;
    uint8_t hb[SG_HASH_LEN], h[SG_HASH_LEN];
    assert_true(norm(UUID_LOWER, "BTC", 500, "addr-1", "k", &base, &why));
    sg_request_hash(&base, hb);

    assert_true(norm("6f1c2b3a-1d2e-4f5a-8b9c-0d1e2f3a4b5d", "BTC", 500, "addr-1", "k", &r, &why));
    sg_request_hash(&r, h);
    assert_memory_not_equal(h, hb, SG_HASH_LEN);
    assert_true(norm(UUID_LOWER, "ETH", 500, "addr-1", "k", &r, &why));
    sg_request_hash(&r, h);
    assert_memory_not_equal(h, hb, SG_HASH_LEN);
    assert_true(norm(UUID_LOWER, "BTC", 501, "addr-1", "k", &r, &why));
    sg_request_hash(&r, h);
    assert_memory_not_equal(h, hb, SG_HASH_LEN);
    assert_true(norm(UUID_LOWER, "BTC", 500, "addr-2", "k", &r, &why));
    sg_request_hash(&r, h);
    assert_memory_not_equal(h, hb, SG_HASH_LEN);
}

/* ---- RFC 3339 ---- */

static void ids__rfc3339__formats_utc_millis__for_known_instants(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {999999, "1970-01-01T00:00:00.000Z"},          /* sub-millisecond truncated */
        {1000000, "1970-01-01T00:00:00.001Z"},
        {1764074096789000000LL, "2025-11-25T12:34:56.789Z"},
        {1764074096789999999LL, "2025-11-25T12:34:56.789Z"},
        {1709251199999000000LL, "2024-02-29T23:59:59.999Z"}, /* leap day */
        {1709251200000000000LL, "2024-03-01T00:00:00.000Z"},
        {951782400000000000LL, "2000-02-29T00:00:00.000Z"},  /* 400-year leap */
        {4107542400000000000LL, "2100-03-01T00:00:00.000Z"}, /* 2100 is not leap */
        {4107542400000000000LL - 86400000000000LL, "2100-02-28T00:00:00.000Z"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_rfc3339(cases[i].ns, out);
        assert_string_equal(out, cases[i].text);
    }
}

static void ids__rfc3339__floors_towards_the_past__for_negative_times(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1000000, "1969-12-31T23:59:59.999Z"},
        {-1000001, "1969-12-31T23:59:59.998Z"},
        {-1000000000LL, "1969-12-31T23:59:59.000Z"},
        {-1000000001LL, "1969-12-31T23:59:58.999Z"},
        {-86400000000000LL, "1969-12-31T00:00:00.000Z"},
        {-14182940000000000LL, "1969-07-20T20:17:40.000Z"},
        {-2208988800000000000LL, "1900-01-01T00:00:00.000Z"},
        {INT64_MIN, "1677-09-21T00:12:43.145Z"},             /* the int64 extremes */
        {INT64_MAX, "2262-04-11T23:47:16.854Z"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_rfc3339(cases[i].ns, out);
        assert_string_equal(out, cases[i].text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids__normalise_trims_and_cases__on_every_field),
        cmocka_unit_test(ids__normalise_upper_cases_ascii_only__for_non_ascii_asset),
        cmocka_unit_test(ids__normalise_rejects_naming_field__when_missing_or_blank),
        cmocka_unit_test(ids__normalise_rejects_amount__when_not_positive),
        cmocka_unit_test(ids__normalise_rejects_user_id__when_not_a_uuid),
        cmocka_unit_test(ids__normalise_rejects_naming_field__when_too_long),
        cmocka_unit_test(ids__normalise_accepts_boundary_lengths__after_trimming),
        cmocka_unit_test(ids__uuid_valid__accepts_8_4_4_4_12_hex_in_any_case),
        cmocka_unit_test(ids__uuid_valid__rejects_other_forms),
        cmocka_unit_test(ids__uuid_v4__is_lower_case_v4_text__from_env_randomness),
        cmocka_unit_test(ids__uuid_v4__is_a_function_of_the_randomness__for_fixed_words),
        cmocka_unit_test(ids__trace_id_new__is_32_lower_hex__and_varies),
        cmocka_unit_test(ids__request_hash__matches_known_answer__for_documented_encoding),
        cmocka_unit_test(ids__request_hash__equal_for_alike_requests__and_ignores_key),
        cmocka_unit_test(ids__request_hash__differs__when_any_hashed_field_differs),
        cmocka_unit_test(ids__rfc3339__formats_utc_millis__for_known_instants),
        cmocka_unit_test(ids__rfc3339__floors_towards_the_past__for_negative_times),
    };
    return cmocka_run_group_tests_name("ids", tests, NULL, NULL);
}
