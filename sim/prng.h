/*
 * prng.h: the simulator's pseudo-random generator, written here so that a seed replays
 * identically across library and compiler upgrades (DESIGN §4).
 *
 * Generator: xoshiro256** (Blackman & Vigna), state seeded by splitmix64. Streams: a run
 * seed and a stream id (node, fault class) derive an independent generator, so adding a
 * stream never reshuffles another. No floats anywhere: probabilities are integer ratios.
 */
#ifndef SG_PRNG_H
#define SG_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct sg_prng {
    uint64_t s[4];
};

/* Seed from (run seed, stream id). Any seed is valid, 0 included. */
void sg_prng_init(struct sg_prng *p, uint64_t seed, uint64_t stream);
uint64_t sg_prng_next(struct sg_prng *p);
/* Uniform in [0, bound), bound > 0, without modulo bias. */
uint64_t sg_prng_below(struct sg_prng *p, uint64_t bound);
/* Uniform in [lo, hi], lo <= hi. */
int64_t sg_prng_range(struct sg_prng *p, int64_t lo, int64_t hi);
/* True with probability num/den (den > 0; num >= den is always true, num 0 never). */
bool sg_prng_chance(struct sg_prng *p, uint64_t num, uint64_t den);
/* splitmix64 step, exposed for deriving ids from seeds. */
uint64_t sg_splitmix64(uint64_t *state);

#endif
