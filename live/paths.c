/*
 * paths.c (live): data directory files (see paths.h).
 */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *sg_live_path(const char *dir, const char *role, const char *file)
{
    size_t n = strlen(dir) + (role ? strlen(role) + 1 : 0) + (file ? strlen(file) + 1 : 0) + 1;
    char *p = malloc(n);
    if (!p) abort();
    if (role && file) snprintf(p, n, "%s/%s/%s", dir, role, file);
    else if (role) snprintf(p, n, "%s/%s", dir, role);
    else if (file) snprintf(p, n, "%s/%s", dir, file);
    else snprintf(p, n, "%s", dir);
    return p;
}

static bool mkdir_one(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST;
}

/* mkdir -p: every missing parent too. */
static bool mkdir_parents(const char *dir)
{
    char *p = sg_live_path(dir, NULL, NULL);
    bool ok = true;
    for (char *s = p + 1; ok && *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        ok = mkdir_one(p);
        *s = '/';
    }
    ok = ok && mkdir_one(p);
    free(p);
    return ok;
}

bool sg_live_mkdirs(const char *dir, const char *role)
{
    if (!mkdir_parents(dir)) return false;
    if (!role) return true;
    char *p = sg_live_path(dir, role, NULL);
    bool ok = mkdir_one(p);
    free(p);
    return ok;
}

int sg_live_running_pid(const char *dir, const char *role)
{
    char *lock = sg_live_path(dir, role, "lock");
    int fd = open(lock, O_RDONLY | O_CLOEXEC);
    free(lock);
    if (fd < 0) return 0;
    /* Holding the lock ourselves for a moment means nobody else does: not running. */
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    if (!held) return 0;
    char *pidp = sg_live_path(dir, role, "pid");
    FILE *f = fopen(pidp, "r");
    free(pidp);
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1) pid = 0;
        fclose(f);
    }
    return pid > 0 ? pid : -1; /* -1: running, starting up (no pid file yet) */
}
