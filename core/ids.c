/*
 * ids.c: UUIDs, normalisation, the request hash and RFC 3339 times (see ids.h).
 */
#include "ids.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

static const char hex[] = "0123456789abcdef";

void sg_uuid_v4(const struct sg_env *env, char out[SG_UUID_LEN + 1])
{
    uint8_t b[16];
    uint64_t hi = env->random_u64(env->ctx), lo = env->random_u64(env->ctx);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(hi >> (8 * i));
        b[8 + i] = (uint8_t)(lo >> (8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    SG_ASSERT(env, o == SG_UUID_LEN);
}

void sg_trace_id_new(const struct sg_env *env, char out[SG_TRACE_ID_LEN + 1])
{
    for (int w = 0; w < 2; w++) {
        uint64_t r = env->random_u64(env->ctx);
        for (int i = 0; i < 16; i++) out[w * 16 + i] = hex[(r >> (4 * i)) & 15];
    }
    out[SG_TRACE_ID_LEN] = '\0';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool sg_uuid_valid(const char *s, size_t len)
{
    if (len != SG_UUID_LEN) return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool sg_trim_copy(const char *s, char *out, size_t cap, size_t *len_out)
{
    if (!s) s = "";
    size_t len = strlen(s);
    while (len && is_space(*s)) s++, len--;
    while (len && is_space(s[len - 1])) len--;
    if (len >= cap) return false;
    memcpy(out, s, len);
    out[len] = '\0';
    if (len_out) *len_out = len;
    return true;
}

static bool field(const char *in, char *out, size_t cap, size_t max, const char **why,
                  const char *name_missing, const char *name_long)
{
    size_t len = 0;
    char tmp[512];
    if (!sg_trim_copy(in, tmp, sizeof tmp, &len) || len > max) {
        *why = name_long;
        return false;
    }
    if (len == 0) {
        *why = name_missing;
        return false;
    }
    SG_ASSERT_PURE(len < cap);
    memcpy(out, tmp, len + 1);
    return true;
}

bool sg_request_normalise(const char *user_id, const char *asset, int64_t amount_minor,
                          const char *destination_addr, const char *key,
                          struct sg_request *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!field(user_id, out->user_id, sizeof out->user_id, SG_UUID_LEN, why,
               "user_id is required", "user_id must be a UUID")) return false;
    if (!sg_uuid_valid(out->user_id, strlen(out->user_id))) {
        *why = "user_id must be a UUID";
        return false;
    }
    for (char *c = out->user_id; *c; c++)
        if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
    if (!field(asset, out->asset, sizeof out->asset, SG_ASSET_MAX, why,
               "asset is required", "asset is longer than 16 bytes")) return false;
    for (char *c = out->asset; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    if (amount_minor <= 0) {
        *why = "amount_minor must be greater than zero";
        return false;
    }
    out->amount_minor = amount_minor;
    if (!field(destination_addr, out->destination_addr, sizeof out->destination_addr,
               SG_DEST_LEN_MAX, why, "destination_addr is required",
               "destination_addr is longer than 128 bytes")) return false;
    return field(key, out->key, sizeof out->key, SG_KEY_LEN_MAX, why,
                 "idempotency_key is required", "idempotency_key is longer than 128 bytes");
}

static void hash_str(struct sha256_ctx *ctx, const char *s)
{
    size_t len = strlen(s);
    uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                     (uint8_t)len};
    sha256_update(ctx, sizeof be, be);
    sha256_update(ctx, len, (const uint8_t *)s);
}

void sg_request_hash(const struct sg_request *r, uint8_t out[SG_HASH_LEN])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    hash_str(&ctx, r->user_id);
    hash_str(&ctx, r->asset);
    uint8_t be[8];
    uint64_t a = (uint64_t)r->amount_minor;
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(a >> (56 - 8 * i));
    sha256_update(&ctx, sizeof be, be);
    hash_str(&ctx, r->destination_addr);
    sha256_digest(&ctx, SG_HASH_LEN, out);
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), valid for any int64. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void sg_rfc3339(int64_t wall_ns, char out[64])
{
    int64_t ms = wall_ns / 1000000;
    if (wall_ns < 0 && wall_ns % 1000000) ms--;
    int64_t secs = ms / 1000, msr = ms % 1000;
    if (msr < 0) msr += 1000, secs--;
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) sod += 86400, days--;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* snprintf's own widths past four-digit years */
        snprintf(out, 64, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", (long long)y, m, d,
                 (long long)(sod / 3600), (long long)(sod / 60 % 60), (long long)(sod % 60),
                 (long long)msr);
        return;
    }
    /* The same text digit by digit: snprintf was 1.6% of a calm run (every event has a
     * timestamp). */
    const int64_t fields[] = {y, m, d, sod / 3600, sod / 60 % 60, sod % 60, msr};
    static const char seps[] = "--T::.Z";
    static const int widths[] = {4, 2, 2, 2, 2, 2, 3};
    size_t at = 0;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        int64_t v = fields[f];
        for (int i = widths[f] - 1; i >= 0; i--, v /= 10)
            out[at + (size_t)i] = (char)('0' + v % 10);
        at += (size_t)widths[f];
        out[at++] = seps[f];
    }
    out[at] = '\0';
    SG_ASSERT_PURE(at == 24);
}
