/*
 * prng.c: xoshiro256** seeded through splitmix64 (see prng.h for why it lives here).
 *
 * Stream derivation: splitmix64 is started from seed ^ (stream * golden ratio constant)
 * and its next four outputs fill the state. splitmix64 never yields an all-zero state from
 * four consecutive outputs, so every (seed, stream) pair gives a valid generator.
 */
#include "prng.h"

#include "assert.h"
#include "banned.h"

uint64_t sg_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sg_prng_init(struct sg_prng *p, uint64_t seed, uint64_t stream)
{
    uint64_t sm = seed ^ (stream * 0xd1b54a32d192ed03ULL) ^ 0x5851f42d4c957f2dULL;
    for (int i = 0; i < 4; i++) p->s[i] = sg_splitmix64(&sm);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sg_prng_next(struct sg_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sg_prng_below(struct sg_prng *p, uint64_t bound)
{
    SG_ASSERT_PURE(bound > 0);
    /* Rejection sampling: discard the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
        uint64_t x = sg_prng_next(p);
        if (x < limit) return x % bound;
    }
}

int64_t sg_prng_range(struct sg_prng *p, int64_t lo, int64_t hi)
{
    SG_ASSERT_PURE(lo <= hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX) return (int64_t)sg_prng_next(p);
    return (int64_t)((uint64_t)lo + sg_prng_below(p, span + 1));
}

bool sg_prng_chance(struct sg_prng *p, uint64_t num, uint64_t den)
{
    SG_ASSERT_PURE(den > 0);
    if (num == 0) return false;
    if (num >= den) return true;
    return sg_prng_below(p, den) < num;
}
