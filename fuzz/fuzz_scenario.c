/*
 * fuzz_scenario.c: the scenario loader on any text (scenarios/scenario_file.h:
 * sg_scenario_load_text).
 *
 * Why: scenario files are written by hand and given to the CLI by path; the loader is a
 * strict YAML walker over libyaml events with its own number, duration and ratio syntax.
 * Whatever the text, it must answer OK or one error line an editor can jump to.
 *
 * Input: the whole input is the file's text (no NUL needed; NULs are just bytes).
 *
 * Properties (a violation traps):
 * - loading never crashes and never answers NOT_FOUND;
 * - an error is one line: "fuzz.yaml:<line>:<column>: <message>", line and column >= 1,
 *   the line at most one past the text's line count (every line break libyaml counts:
 *   LF, CR, CRLF, NEL, LS, PS), a non-empty message, no control characters;
 * - on an error the caller's config and info are untouched (the documented contract), and
 *   loading the same text again gives the same error (the loader has no state);
 * - on success rc->seed is the seed given and rc->scenario is the origin.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scenario_file.h"

#define ORIGIN "fuzz.yaml"

enum { SEED = 7, POISON = 0xa5 };

/* Parses "<digits>:" at *p; the value, or 0 when there are no digits. */
static size_t number_at(const char **p)
{
    size_t v = 0;
    bool any = false;
    while (**p >= '0' && **p <= '9' && v < ((size_t)1 << 40)) {
        v = v * 10 + (size_t)(**p - '0');
        ++*p;
        any = true;
    }
    if (!any || **p != ':') return 0;
    ++*p;
    return v;
}

static bool all_bytes(const void *p, size_t n, uint8_t b)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != b) return false;
    return true;
}

static void check_error(const char *err, const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) {
        bool lf = data[i] == '\n', cr = data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n');
        bool nel = i + 1 < size && data[i] == 0xc2 && data[i + 1] == 0x85;
        bool ls_ps = i + 2 < size && data[i] == 0xe2 && data[i + 1] == 0x80 &&
                     (data[i + 2] == 0xa8 || data[i + 2] == 0xa9);
        lines += lf || cr || nel || ls_ps;
    }
    size_t len = strlen(err);
    FUZZ_CHECK(len > 0);
    for (size_t i = 0; i < len; i++) FUZZ_CHECK((unsigned char)err[i] >= 0x20);
    FUZZ_CHECK(strncmp(err, ORIGIN ":", sizeof ORIGIN) == 0);
    const char *p = err + sizeof ORIGIN;
    size_t line = number_at(&p);
    size_t column = number_at(&p);
    /* lines + 1: libyaml puts the end of a stream whose last line has no line break on
     * the next line ("# a comment" alone: "fuzz.yaml:2:1: the file is empty ..."). */
    FUZZ_CHECK(line >= 1 && line <= lines + 1);
    FUZZ_CHECK(column >= 1);
    FUZZ_CHECK(p[0] == ' ' && p[1] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_run_config rc;
    static struct sg_scenario_info info;
    char err[SG_SCENARIO_ERR_LEN];
    memset(&rc, POISON, sizeof rc);
    memset(&info, POISON, sizeof info);
    const char *text = size ? (const char *)data : "";
    enum sg_scenario_status st =
        sg_scenario_load_text(ORIGIN, text, size, SEED, &rc, &info, err, sizeof err);
    FUZZ_CHECK(st == SG_SCENARIO_OK || st == SG_SCENARIO_INVALID);
    if (st == SG_SCENARIO_OK) {
        FUZZ_CHECK(rc.seed == SEED);
        FUZZ_CHECK(strcmp(rc.scenario, ORIGIN) == 0);
        FUZZ_CHECK(strlen(info.purpose) <= SG_SCENARIO_PURPOSE_MAX);
        return 0;
    }
    check_error(err, data, size);
    FUZZ_CHECK(all_bytes(&rc, sizeof rc, POISON));
    FUZZ_CHECK(all_bytes(&info, sizeof info, POISON));
    char again[SG_SCENARIO_ERR_LEN];
    st = sg_scenario_load_text(ORIGIN, text, size, SEED, &rc, NULL, again, sizeof again);
    FUZZ_CHECK(st == SG_SCENARIO_INVALID);
    FUZZ_CHECK(strcmp(err, again) == 0);
    return 0;
}
