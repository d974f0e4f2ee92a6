/*
 * cmd_list.c: the catalogues: `sagasim bugs`, `sagasim scenarios`, `sagasim crashpoints`.
 * One line per entry, tab-separated, sorted (bugs by name, DESIGN §8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "cli.h"
#include "scenario.h"

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

static void list_scenarios(void)
{
    size_t n = 0;
    const struct sg_scenario *s = sg_scenarios(&n);
    for (size_t i = 0; i < n; i++) printf("%s\t%s\n", s[i].name, s[i].purpose);
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
    else if (strcmp(what, "scenarios") == 0) list_scenarios();
    else list_crashpoints();
    return SG_EXIT_OK;
}
