/*
 * world_input.h: a fuzzer's bytes as a whole simulated run (the fuzz_world target and
 * `sagasim replay --fuzz-input fuzz_world FILE` share it).
 *
 * Byte 0 picks a catalogue scenario from a fixed, append-only list (byte 0 mod its size;
 * a byte below the size always names the same scenario), bytes 1-2 the seed (big-endian), and every later bit a fault: bit k (byte 3 + k/8, bit k%8) lets the fault
 * with ordinal k go ahead, and every fault the input does not reach is skipped: the bytes
 * are a fault tape (world.h "Fault tape"; the format `shrink` writes). The run is the
 * scenario's own, with SG_WORLD_INPUT_WITHDRAWALS withdrawals, so a finding replays with
 * `sagasim replay --tape` as well.
 */
#ifndef SG_WORLD_INPUT_H
#define SG_WORLD_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run.h"

enum { SG_WORLD_INPUT_WITHDRAWALS = 20, SG_WORLD_INPUT_FAULTS_MAX = 8 * 4096 };

struct sg_world_input {
    const char *scenario;   /* a catalogue name */
    uint64_t seed;
    uint64_t *keep;         /* the ordinals that go ahead, sorted (heap) */
    size_t n_keep;
};

/* The scenarios byte 0 picks from, in their fixed order; returns how many. */
size_t sg_world_input_scenarios(const char *const **names);
/* Decodes any bytes (none are refused; fewer than 3 mean scenario 0, seed 0, no faults). */
bool sg_world_input_decode(const uint8_t *data, size_t len, struct sg_world_input *in);
void sg_world_input_free(struct sg_world_input *in);
/* The run configuration (rc borrows in->keep: keep `in` alive while rc is used). */
bool sg_world_input_config(const struct sg_world_input *in, uint64_t bugs,
                           struct sg_run_config *rc, char *err, size_t cap);

#endif
