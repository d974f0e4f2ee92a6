/*
 * report.c: sg_report_write_all: creates the report directory (like mkdir -p) and writes
 * report.json, junit.xml and index.html into it (see report.h).
 *
 * The three writers are independent; the first failure stops the sequence so the message
 * names the file that could not be written. The timeline is drawn once, here, and the
 * same text goes into index.html and report.json (which keeps it for report merge). Paths are built on the heap: a directory of
 * any length the OS accepts works (the OS's own ENAMETOOLONG is reported as it comes).
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

/* a + b as a new heap string (aborts on out-of-memory). */
static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (!s) abort();
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

/* mkdir -p: every prefix ending before a '/' and the whole path. */
static bool make_dirs(const char *dir, char *err, size_t cap)
{
    size_t n = strlen(dir);
    if (n == 0) {
        rp_error(err, cap, "bad report directory", dir, ENOENT);
        return false;
    }
    char *path = concat(dir, "");
    bool ok = true;
    for (size_t i = 1; i <= n && ok; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        struct stat st;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            rp_error(err, cap, "cannot create directory", path, errno);
            ok = false;
        } else if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (err && cap)
                snprintf(err, cap, "cannot create directory '%s': '%s' is not a directory", dir,
                         path);
            ok = false;
        }
        path[i] = saved;
    }
    free(path);
    return ok;
}

bool sg_report_write_all(const struct sg_report *r, const char *dir, char *err, size_t err_cap)
{
    SG_ASSERT_PURE(r != NULL);
    SG_ASSERT_PURE(dir != NULL);
    if (err && err_cap) err[0] = '\0';
    if (!make_dirs(dir, err, err_cap)) return false;
    struct sg_report drawn = *r;
    struct sg_report_timeline tl;
    char *html = NULL;
    if (r->timeline && !r->timeline->html) {
        html = rp_timeline_html(r->timeline);
        if (html == NULL) {
            rp_error(err, err_cap, "out of memory drawing the timeline for", dir, ENOMEM);
            return false;
        }
        tl = *r->timeline;
        tl.html = html;
        drawn.timeline = &tl;
    }
    static const char *const names[3] = {"/report.json", "/junit.xml", "/index.html"};
    bool (*const writers[3])(const struct sg_report *, const char *, char *, size_t) = {
        sg_report_write_json, sg_report_write_junit, sg_report_write_html};
    bool ok = true;
    for (size_t k = 0; k < 3 && ok; k++) {
        char *path = concat(dir, names[k]);
        ok = writers[k](&drawn, path, err, err_cap);
        free(path);
    }
    free(html);
    return ok;
}

void sg_report_seed_deinit(struct sg_report_seed *s)
{
    free(s->replay);
    s->replay = NULL;
}
