/*
 * report.c: sg_report_write_all: creates the report directory (like mkdir -p) and writes
 * report.json, junit.xml and index.html into it (see report.h).
 *
 * The three writers are independent; the first failure stops the sequence so the message
 * names the file that could not be written. Paths longer than PATH_CAP are refused
 * rather than truncated.
 */
#include "report.h"

#include <stdlib.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "assert.h"
#include "report_int.h"

enum { PATH_CAP = 4096 };

/* mkdir -p: every prefix ending before a '/' and the whole path. */
static bool make_dirs(const char *dir, char *err, size_t cap)
{
    char path[PATH_CAP];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        rp_error(err, cap, "bad report directory", dir, n ? ENAMETOOLONG : ENOENT);
        return false;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        struct stat st;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            rp_error(err, cap, "cannot create directory", path, errno);
            return false;
        }
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (err && cap)
                snprintf(err, cap, "cannot create directory '%s': '%s' is not a directory", dir,
                         path);
            return false;
        }
        path[i] = saved;
    }
    return true;
}

bool sg_report_write_all(const struct sg_report *r, const char *dir, char *err, size_t err_cap)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(dir != NULL);
    if (err && err_cap) err[0] = '\0';
    if (!make_dirs(dir, err, err_cap)) return false;
    static const char *const names[3] = {"report.json", "junit.xml", "index.html"};
    bool (*const writers[3])(const struct sg_report *, const char *, char *, size_t) = {
        sg_report_write_json, sg_report_write_junit, sg_report_write_html};
    for (size_t k = 0; k < 3; k++) {
        char path[PATH_CAP];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (len < 0 || (size_t)len >= sizeof path) {
            rp_error(err, err_cap, "cannot write into", dir, ENAMETOOLONG);
            return false;
        }
        if (!writers[k](r, path, err, err_cap)) return false;
    }
    return true;
}

void sg_report_seed_deinit(struct sg_report_seed *s)
{
    free(s->replay);
    s->replay = NULL;
}
