/*
 * values.c: strict scalar syntax of scenario files (see values.h).
 *
 * Hand-written rather than strtoull/strtod: those accept signs, leading spaces, hex,
 * octal, locale-dependent decimal points and silently stop at junk, and a duration must
 * come out as an exact integer number of nanoseconds without passing through a double.
 */
#include "values.h"

#include <stddef.h>
#include <string.h>

#include "assert.h"

enum { FRACTION_DIGITS_MAX = 12 };

/* Reads a run of decimal digits at *p (at least one), advancing *p past it. */
static const char *scan_digits(const char **p, uint64_t *v_out, unsigned *count_out)
{
    SG_ASSERT_PURE(p != NULL && *p != NULL);
    uint64_t v = 0;
    unsigned n = 0;
    const char *s = *p;
    for (; *s >= '0' && *s <= '9'; s++, n++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return "is too large";
        v = v * 10 + d;
    }
    if (n == 0) return "is not a whole number";
    if (n > 1 && **p == '0') return "has a leading zero (octal is not supported: write it without)";
    *p = s;
    *v_out = v;
    *count_out = n;
    SG_ASSERT_PURE(n > 0);
    return NULL;
}

const char *sg_value_whole(const char *s, uint64_t *out)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(out != NULL);
    if (*s == '\0') return "is empty";
    if (*s == '-' || *s == '+') return "must not have a sign";
    unsigned n = 0;
    uint64_t v = 0;
    const char *err = scan_digits(&s, &v, &n);
    if (err) return err;
    if (*s == '.' || *s == 'e' || *s == 'E') return "is not a whole number";
    if (*s != '\0') return "has trailing characters after the number";
    *out = v;
    return NULL;
}

struct unit {
    const char *name;
    uint64_t mult;   /* one unit is mult * 10^exp nanoseconds */
    unsigned exp;
};

static const struct unit units[] = {
    {"ns", 1, 0}, {"us", 1, 3}, {"ms", 1, 6}, {"s", 1, 9}, {"m", 6, 10},
};

static uint64_t pow10u(unsigned e)
{
    SG_ASSERT_PURE(e <= 19);
    uint64_t p = 1;
    for (unsigned i = 0; i < e; i++) p *= 10;
    SG_ASSERT_PURE(p > 0);
    return p;
}

/* whole.frac (frac_digits digits) units of u, exactly, in nanoseconds. */
static const char *to_ns(uint64_t whole, uint64_t frac, unsigned frac_digits,
                         const struct unit *u, uint64_t *ns_out)
{
    SG_ASSERT_PURE(frac_digits <= FRACTION_DIGITS_MAX);
    SG_ASSERT_PURE(frac < pow10u(frac_digits));
    uint64_t unit_ns = u->mult * pow10u(u->exp);
    if (whole > (uint64_t)INT64_MAX / unit_ns) return "is too large";
    uint64_t part = 0; /* frac * unit_ns / 10^frac_digits, which must be whole */
    if (frac_digits <= u->exp) {
        part = frac * u->mult * pow10u(u->exp - frac_digits);
    } else {
        uint64_t div = pow10u(frac_digits - u->exp);
        if ((frac * u->mult) % div != 0) return "is not a whole number of nanoseconds";
        part = frac * u->mult / div;
    }
    uint64_t ns = whole * unit_ns;
    if (part > (uint64_t)INT64_MAX - ns) return "is too large";
    *ns_out = ns + part;
    return NULL;
}

const char *sg_value_duration(const char *s, bool allow_negative, int64_t *out_ns)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(out_ns != NULL);
    bool negative = *s == '-';
    if (negative && !allow_negative) return "must not be negative";
    if (*s == '+') return "must not have a '+' sign";
    const char *p = s + negative;
    if (*p == '\0') return "is empty (expected e.g. 250ms, 1.5s, 2m)";
    uint64_t whole = 0, frac = 0;
    unsigned n = 0, frac_digits = 0;
    const char *err = scan_digits(&p, &whole, &n);
    if (err && *p >= '0' && *p <= '9') return err; /* too large, or a leading zero */
    if (err) return "is not a duration (expected e.g. 250ms, 1.5s, 2m)";
    if (*p == '.') {
        p++;
        const char *f = p;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++frac_digits > FRACTION_DIGITS_MAX) return "has too many decimals";
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (p == f) return "is not a duration (expected digits after '.')";
    }
    if (*p == '\0' && whole == 0 && frac_digits == 0) {
        *out_ns = 0; /* "0" needs no unit */
        return NULL;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].name) != 0) continue;
        uint64_t ns = 0;
        err = to_ns(whole, frac, frac_digits, &units[i], &ns);
        if (err) return err;
        *out_ns = negative ? -(int64_t)ns : (int64_t)ns;
        return NULL;
    }
    if (*p == '\0') return "has no unit (ns, us, ms, s or m)";
    return "has an unknown unit (expected ns, us, ms, s or m right after the number)";
}

static const char *ratio_part(const char *s, size_t len, uint32_t *out)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(out != NULL);
    char buf[24];
    if (len == 0 || len >= sizeof buf) return "is not a ratio (expected e.g. 5/100)";
    memcpy(buf, s, len);
    buf[len] = '\0';
    uint64_t v = 0;
    if (sg_value_whole(buf, &v) != NULL) return "is not a ratio (expected e.g. 5/100)";
    if (v > UINT32_MAX) return "is too large";
    *out = (uint32_t)v;
    return NULL;
}

const char *sg_value_ratio(const char *s, uint32_t *num_out, uint32_t *den_out)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(num_out != NULL && den_out != NULL);
    const char *slash = strchr(s, '/');
    if (!slash) return "is not a ratio (expected e.g. 5/100)";
    uint32_t num = 0, den = 0;
    const char *err = ratio_part(s, (size_t)(slash - s), &num);
    if (!err) err = ratio_part(slash + 1, strlen(slash + 1), &den);
    if (err) return err;
    if (den == 0) return "has a zero denominator";
    if (num > den) return "is more than 1 (the numerator exceeds the denominator)";
    *num_out = num;
    *den_out = den;
    return NULL;
}

const char *sg_value_bool(const char *s, bool *out)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(out != NULL);
    if (strcmp(s, "true") == 0) *out = true;
    else if (strcmp(s, "false") == 0) *out = false;
    else return "is not a boolean (true or false)";
    return NULL;
}
