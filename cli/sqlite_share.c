/*
 * sqlite_share.c: sampling the share of CPU time spent inside SQLite (see sqlite_share.h).
 *
 * Why a sampler: core and sim may not read clocks, and SQLite is called from dozens of
 * places; a SIGPROF sampler in cli/ measures the whole run without touching either.
 * The handler only unwinds and compares addresses (backtrace is called once before the
 * timer starts, so that its lazy set-up does not happen inside a signal handler).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr */
#endif
#include "sqlite_share.h"

#include <sqlite3.h>
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <sys/time.h>

enum { FRAMES_MAX = 64, PERIOD_US = 200 };

static uintptr_t code_lo, code_hi; /* SQLite's executable segment */
static volatile sig_atomic_t busy;
static volatile uint64_t samples, in_sqlite;

/* dl_iterate_phdr callback: the executable PT_LOAD segment holding sqlite3_step. */
static int find_sqlite(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t want = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (want >= lo && want < hi) {
            code_lo = lo;
            code_hi = hi;
            return 1;
        }
    }
    return 0;
}

static void on_prof(int sig)
{
    (void)sig;
    if (busy) return;
    busy = 1;
    void *frames[FRAMES_MAX];
    int n = backtrace(frames, FRAMES_MAX);
    bool inside = false;
    for (int i = 0; i < n && !inside; i++)
        inside = (uintptr_t)frames[i] >= code_lo && (uintptr_t)frames[i] < code_hi;
    samples = samples + 1;
    if (inside) in_sqlite = in_sqlite + 1;
    busy = 0;
}

static void set_timer(long period_us)
{
    struct itimerval it = {{0, period_us}, {0, period_us}};
    (void)setitimer(ITIMER_PROF, &it, NULL);
}

bool sg_sqlite_share_start(void)
{
    void *probe[4];
    (void)backtrace(probe, 4);
    code_lo = code_hi = 0;
    dl_iterate_phdr(find_sqlite, (void *)(uintptr_t)&sqlite3_step);
    if (code_lo == 0) return false;
    samples = in_sqlite = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prof;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0) return false;
    set_timer(PERIOD_US);
    return true;
}

struct sg_sqlite_share sg_sqlite_share_stop(void)
{
    set_timer(0);
    signal(SIGPROF, SIG_IGN);
    return (struct sg_sqlite_share){samples, in_sqlite};
}

#else

bool sg_sqlite_share_start(void)
{
    return false;
}

struct sg_sqlite_share sg_sqlite_share_stop(void)
{
    return (struct sg_sqlite_share){0, 0};
}

#endif
