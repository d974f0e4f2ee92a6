/*
 * values.h: the strict scalar syntax of scenario files (internal to scenarios/; the unit
 * tests use it too).
 *
 * Every parser takes the whole text of one YAML scalar and returns NULL on success, or a
 * short reason ("has trailing characters after the number") for the caller to put after
 * the key's name. Nothing here uses floating point or locale-dependent functions.
 *
 *   whole number  decimal digits only: no sign, no '_', no leading zero ("010" is an
 *                 error, never octal 8 nor decimal 10), at most UINT64_MAX
 *   duration      [-]<digits>[.<digits>]<unit>, unit ns, us, ms, s or m (minutes); or a
 *                 bare "0". "1.5s" is exactly 1500000000 ns; a value that is not a whole
 *                 number of nanoseconds ("1.5ns") is an error; no spaces
 *   ratio         <whole number>/<whole number>, denominator >= 1, numerator <= denominator
 *   boolean       true or false (not yes/no/on/off)
 */
#ifndef SG_SCENARIO_VALUES_H
#define SG_SCENARIO_VALUES_H

#include <stdbool.h>
#include <stdint.h>

const char *sg_value_whole(const char *s, uint64_t *out);
/* allow_negative: a leading '-' is accepted (clock jumps move back as well as forward). */
const char *sg_value_duration(const char *s, bool allow_negative, int64_t *out_ns);
const char *sg_value_ratio(const char *s, uint32_t *num_out, uint32_t *den_out);
const char *sg_value_bool(const char *s, bool *out);

#endif
