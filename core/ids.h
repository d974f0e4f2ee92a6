/*
 * ids.h: identifiers, request normalisation and the request hash (DESIGN §8, §8.1).
 *
 * - UUIDs: sg_uuid_v4 makes a lower-case UUIDv4 text from the env's randomness;
 *   sg_uuid_valid accepts 8-4-4-4-12 hex in any case (no braces, no other forms).
 * - Normalisation trims ASCII whitespace from every field (the key included), upper-cases
 *   the asset (ASCII only) and lower-cases the user id; lengths are bytes.
 * - The request hash is SHA-256 (nettle) over: user_id, asset, amount (8 bytes big-endian),
 *   destination_addr; each string as a u32 big-endian length then its bytes. The key is
 *   not hashed.
 * - Times: sg_rfc3339 formats wall-clock nanoseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ".
 */
#ifndef SG_IDS_H
#define SG_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

enum {
    SG_UUID_LEN = 36,
    SG_HASH_LEN = 32,
    SG_KEY_LEN_MAX = 128,
    SG_DEST_LEN_MAX = 128,
    SG_ASSET_MAX = 16,
    SG_TRACE_ID_LEN = 32,
};

struct sg_request {
    char user_id[SG_UUID_LEN + 1];
    char asset[SG_ASSET_MAX + 1];
    int64_t amount_minor;
    char destination_addr[SG_DEST_LEN_MAX + 1];
    char key[SG_KEY_LEN_MAX + 1];
};

void sg_uuid_v4(const struct sg_env *env, char out[SG_UUID_LEN + 1]);
bool sg_uuid_valid(const char *s, size_t len);
/* 32 lower-case hex digits from the env's randomness. */
void sg_trace_id_new(const struct sg_env *env, char out[SG_TRACE_ID_LEN + 1]);

/* Normalise and validate raw fields. On failure returns false and points *why at a
 * static description naming the field. */
bool sg_request_normalise(const char *user_id, const char *asset, int64_t amount_minor,
                          const char *destination_addr, const char *key,
                          struct sg_request *out, const char **why);
/* Trim ASCII whitespace of s into out (cap bytes incl. NUL); false when it does not fit. */
bool sg_trim_copy(const char *s, char *out, size_t cap, size_t *len_out);
void sg_request_hash(const struct sg_request *r, uint8_t out[SG_HASH_LEN]);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars + NUL; 64 bytes leave room for any int64). */
void sg_rfc3339(int64_t wall_ns, char out[64]);

#endif
