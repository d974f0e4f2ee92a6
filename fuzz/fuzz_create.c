/*
 * fuzz_create.c: CreateWithdrawal's request normalisation and the idempotency hash
 * (core/ids.h: sg_request_normalise, sg_request_hash).
 *
 * Why: the request hash decides whether a retry with the same idempotency key is "the same
 * request" (OK, same withdrawal) or "another payload" (FAILED_PRECONDITION). If
 * normalisation were not idempotent, or if padding or case that the design tells clients
 * not to care about changed the hash, honest retries would be refused (DESIGN §1
 * "Validation", "Idempotency").
 *
 * Input: bytes 0-7 are amount_minor (big-endian int64); byte 8 picks a variation (below);
 * the rest holds up to four fields separated by NUL bytes, in this order: user_id, asset,
 * destination_addr, idempotency_key. A field the input does not reach is NULL (the
 * normaliser reads NULL as empty). Shorter inputs are ignored.
 *
 * Properties (a violation traps):
 * - sg_request_normalise never crashes; a refusal names a reason;
 * - an accepted request is within the documented limits: user_id a lower-case UUID, asset
 *   upper case with 1..16 bytes, destination and key 1..128 bytes, none with ASCII
 *   whitespace at either end, amount_minor as given and > 0;
 * - normalising the normalised fields accepts them and gives the same struct and hash;
 * - the variation, which pads every field with ASCII whitespace on both sides, changes the
 *   case of every ASCII letter of user_id and of asset (what the design allows clients to
 *   vary), gets the same answer: the same struct and hash, or the same refusal;
 * - the key is not hashed; the destination is.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ids.h"

enum { FIELD_COUNT = 4, PAD_MAX = 3 };

static const char pads[] = " \t\n\r\v\f";

static bool is_pad(char c)
{
    return c != '\0' && strchr(pads, c) != NULL;
}

static bool is_trimmed(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || (!is_pad(s[0]) && !is_pad(s[n - 1]));
}

/* s padded on both sides (NULL reads as ""), letters changed by mode: 0 keep, 1 upper,
 * 2 lower, 3 swap. The caller frees. */
static char *vary(const char *s, unsigned v, unsigned mode)
{
    if (!s) s = "";
    size_t n = strlen(s), before = v % (PAD_MAX + 1), after = (v >> 2) % (PAD_MAX + 1);
    char *out = malloc(before + n + after + 1);
    FUZZ_CHECK(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < before; i++) out[o++] = pads[(v + i) % (sizeof pads - 1)];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool up = c >= 'A' && c <= 'Z', low = c >= 'a' && c <= 'z';
        if ((mode == 1 || mode == 3) && low) c = (char)(c - 'a' + 'A');
        else if ((mode == 2 || mode == 3) && up) c = (char)(c - 'A' + 'a');
        out[o++] = c;
    }
    for (size_t i = 0; i < after; i++) out[o++] = pads[(v + 3 + i) % (sizeof pads - 1)];
    out[o] = '\0';
    return out;
}

static void check_limits(const struct sg_request *r, int64_t amount)
{
    FUZZ_CHECK(strlen(r->user_id) == SG_UUID_LEN);
    FUZZ_CHECK(sg_uuid_valid(r->user_id, strlen(r->user_id)));
    for (const char *c = r->user_id; *c; c++) FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'));
    size_t asset = strlen(r->asset);
    FUZZ_CHECK(asset >= 1 && asset <= SG_ASSET_MAX);
    for (const char *c = r->asset; *c; c++) FUZZ_CHECK(!(*c >= 'a' && *c <= 'z'));
    size_t dest = strlen(r->destination_addr), key = strlen(r->key);
    FUZZ_CHECK(dest >= 1 && dest <= SG_DEST_LEN_MAX);
    FUZZ_CHECK(key >= 1 && key <= SG_KEY_LEN_MAX);
    FUZZ_CHECK(is_trimmed(r->asset));
    FUZZ_CHECK(is_trimmed(r->destination_addr));
    FUZZ_CHECK(is_trimmed(r->key));
    FUZZ_CHECK(r->amount_minor == amount);
    FUZZ_CHECK(r->amount_minor > 0);
}

/* Normalises again: the same struct (memset by the normaliser, so memcmp is exact) and
 * the same hash. */
static void check_same(const struct sg_request *r, const uint8_t hash[SG_HASH_LEN],
                       const char *u, const char *a, int64_t amount, const char *d,
                       const char *k)
{
    struct sg_request again;
    const char *why = NULL;
    FUZZ_CHECK(sg_request_normalise(u, a, amount, d, k, &again, &why));
    FUZZ_CHECK(memcmp(&again, r, sizeof again) == 0);
    uint8_t h[SG_HASH_LEN];
    sg_request_hash(&again, h);
    FUZZ_CHECK(memcmp(h, hash, SG_HASH_LEN) == 0);
}

/* What the hash covers: not the key; the destination, yes. */
static void check_hash_fields(const struct sg_request *r, const uint8_t hash[SG_HASH_LEN])
{
    struct sg_request other = *r;
    uint8_t h[SG_HASH_LEN];
    other.key[0] = other.key[0] == 'k' ? 'K' : 'k';
    sg_request_hash(&other, h);
    FUZZ_CHECK(memcmp(h, hash, SG_HASH_LEN) == 0);
    other = *r;
    other.destination_addr[0] = other.destination_addr[0] == 'd' ? 'D' : 'd';
    sg_request_hash(&other, h);
    FUZZ_CHECK(memcmp(h, hash, SG_HASH_LEN) != 0);
}

static void check(const char *f[FIELD_COUNT], int64_t amount, unsigned v)
{
    struct sg_request r;
    const char *why = NULL;
    bool ok = sg_request_normalise(f[0], f[1], amount, f[2], f[3], &r, &why);
    char *u = vary(f[0], v, (v >> 4) & 1 ? 1 : 2);
    char *a = vary(f[1], v >> 1, (v >> 5) & 1 ? 2 : 3);
    char *d = vary(f[2], v >> 2, 0);
    char *k = vary(f[3], v >> 3, 0);
    if (!ok) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        struct sg_request r2;
        const char *why2 = NULL;
        FUZZ_CHECK(!sg_request_normalise(u, a, amount, d, k, &r2, &why2));
        FUZZ_CHECK(why2 != NULL && strcmp(why, why2) == 0);
    } else {
        check_limits(&r, amount);
        uint8_t hash[SG_HASH_LEN];
        sg_request_hash(&r, hash);
        check_same(&r, hash, r.user_id, r.asset, r.amount_minor, r.destination_addr, r.key);
        check_same(&r, hash, u, a, amount, d, k);
        check_hash_fields(&r, hash);
    }
    free(u);
    free(a);
    free(d);
    free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) return 0;
    uint64_t raw = 0;
    for (int i = 0; i < 8; i++) raw = raw << 8 | data[i];
    int64_t amount = (int64_t)raw;
    unsigned v = data[8];
    size_t n = size - 9;
    char *text = malloc(n + 1);
    FUZZ_CHECK(text != NULL);
    if (n) memcpy(text, data + 9, n);
    text[n] = '\0';
    const char *f[FIELD_COUNT] = {NULL, NULL, NULL, NULL};
    size_t at = 0;
    for (int i = 0; i < FIELD_COUNT && at <= n; i++) {
        f[i] = text + at;
        at += strlen(text + at) + 1;
    }
    check(f, amount, v);
    free(text);
    return 0;
}
