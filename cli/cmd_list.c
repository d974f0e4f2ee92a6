/*
 * cmd_list.c: the catalogues: `sagasim bugs`, `sagasim scenarios`, `sagasim crashpoints`.
 * One line per entry, tab-separated, sorted (bugs by name, DESIGN §8; scenarios by name,
 * read from the scenario files embedded at build time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "cli.h"
#include "scenario.h"
#include "scenario_file.h"

static int cmp_bug(const void *a, const void *b)
{
    const struct sg_bug_info *x = *(const struct sg_bug_info *const *)a;
    const struct sg_bug_info *y = *(const struct sg_bug_info *const *)b;
    return strcmp(x->name, y->name);
}

static void list_bugs(void)
{
    const struct sg_bug_info *sorted[SG_BUG_COUNT];
    for (int b = 0; b < SG_BUG_COUNT; b++) sorted[b] = sg_bug_info((enum sg_bug)b);
    qsort(sorted, SG_BUG_COUNT, sizeof sorted[0], cmp_bug);
    for (int b = 0; b < SG_BUG_COUNT; b++)
        printf("%s\tI%d\t%s\t%s\n", sorted[b]->name, sorted[b]->invariant, sorted[b]->scenario,
               sorted[b]->defect);
}

/* Name and purpose of each catalogue file; a file that does not load (a broken build)
 * is reported on stderr and makes the command fail. */
static int list_scenarios(void)
{
    int rc = SG_EXIT_OK;
    for (size_t i = 0; i < sg_scenario_count(); i++) {
        struct sg_scenario_info info;
        char err[SG_SCENARIO_ERR_LEN];
        if (sg_scenario_info_at(i, &info, err, sizeof err) == SG_SCENARIO_OK) {
            printf("%s\t%s\n", info.name, info.purpose);
        } else {
            fprintf(stderr, "%s\n", err);
            rc = SG_EXIT_USAGE;
        }
    }
    return rc;
}

static void list_crashpoints(void)
{
    size_t n = 0;
    const struct sg_crashpoint *cp = sg_crashpoints(&n);
    for (size_t i = 0; i < n; i++) printf("%s:%s\n", sg_role_name(cp[i].role), cp[i].point);
}

int sg_cmd_list(int argc, char **argv)
{
    const char *what = argv[0];
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fprintf(help ? stdout : stderr, "usage: sagasim %s\n%s", what,
                help ? "Lists the catalogue, one entry per line.\n" : "");
        return help ? SG_EXIT_OK : SG_EXIT_USAGE;
    }
    if (strcmp(what, "bugs") == 0) list_bugs();
    else if (strcmp(what, "scenarios") == 0) return list_scenarios();
    else list_crashpoints();
    return SG_EXIT_OK;
}
