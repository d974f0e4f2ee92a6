/*
 * chaos.c (live): the chaos run (see chaos.h).
 */
#include "chaos.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_json.h"
#include "live_env.h"
#include "paths.h"
#include "supervisor.h"

#define MS 1000000LL

enum { TERMINAL_WAIT_MS = 45000, SETTLE_MS = 30000 };

struct load_thread {
    struct sg_live_load_opts opts;
    struct sg_live_load_result *out;
    bool ok;
    char err[256];
};

static void *load_main(void *arg)
{
    struct load_thread *t = arg;
    t->ok = sg_live_load_run(&t->opts, t->out, t->err, sizeof t->err);
    return NULL;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void note(struct sg_chaos_result *r, int64_t t0, enum sg_role role,
                 enum sg_chaos_what what)
{
    if (r->n_events == SG_CHAOS_EVENTS_MAX) return;
    r->events[r->n_events++] = (struct sg_chaos_event){sg_live_mono_ns() - t0, role, what};
}

/* DATA/chaos.json for the console: the kills so far and the verdict (running, ok or
 * violation); replaced atomically. */
static void publish(const struct sg_live_opts *o, const struct sg_chaos_result *r,
                    const char *verdict)
{
    char *tmp = sg_live_path(o->data_dir, NULL, "chaos.json.tmp");
    char *path = sg_live_path(o->data_dir, NULL, "chaos.json");
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "{\"kills\":%llu,\"pauses\":%llu,\"verdict\":\"%s\"}\n",
                (unsigned long long)r->kills, (unsigned long long)r->pauses, verdict);
        if (fclose(f) == 0) rename(tmp, path);
    }
    free(tmp);
    free(path);
}

/* One nemesis step: kill (and restart) or pause (and resume) a node. */
static void strike(const struct sg_live_opts *o, uint64_t *rng, int64_t t0,
                   struct sg_chaos_result *r)
{
    enum sg_role role = (enum sg_role)(next_rand(rng) % SG_ROLE_COUNT);
    bool pause = next_rand(rng) % 4 == 0;
    int pid = sg_live_running_pid(o->data_dir, sg_role_name(role));
    if (pid <= 0) return;
    if (pause) {
        kill(pid, SIGSTOP);
        note(r, t0, role, SG_CHAOS_PAUSE);
        r->pauses++;
        sg_live_sleep_ms(300 + (unsigned)(next_rand(rng) % 700));
        kill(pid, SIGCONT);
        note(r, t0, role, SG_CHAOS_RESUME);
        return;
    }
    kill(pid, SIGKILL);
    note(r, t0, role, SG_CHAOS_KILL);
    r->kills++;
    sg_live_sleep_ms(200 + (unsigned)(next_rand(rng) % 400));
    if (sg_live_up(o, true) != 0) r->restarts_failed++;
    note(r, t0, role, SG_CHAOS_RESTART);
}

static bool judge(const struct sg_live_opts *o, struct sg_chaos_result *r, char *err,
                  size_t cap)
{
    char *hist = sg_live_path(o->data_dir, NULL, "history.jsonl");
    struct sg_history h;
    sg_history_init(&h);
    bool ok = sg_live_load_write_history(&r->load, hist);
    if (!ok) snprintf(err, cap, "cannot write %s", hist);
    ok = ok && sg_history_load_json(hist, &h, err, cap); /* the format the checker reads */
    char *dbs[6] = {sg_live_path(o->data_dir, "orchestrator", "orch.db"),
                    sg_live_path(o->data_dir, "identity", "identity.db"),
                    sg_live_path(o->data_dir, "risk", "risk.db"),
                    sg_live_path(o->data_dir, "broker", "broker.db"),
                    sg_live_path(o->data_dir, "ledger", "ledger.db"),
                    sg_live_path(o->data_dir, "payout", "payout.db")};
    struct sg_config cfg;
    sg_live_config(&cfg, o->bugs);
    if (ok) {
        struct sg_check_input in = {.vfs_name = NULL, .orch_db = dbs[0], .identity_db = dbs[1],
                                    .risk_db = dbs[2], .broker_db = dbs[3],
                                    .ledger_db = dbs[4], .payout_db = dbs[5], .history = &h,
                                    .cfg = &cfg, .liveness = true};
        r->ok = sg_check_run(&in, &r->report) && r->restarts_failed == 0;
        r->judged = true;
    }
    for (int i = 0; i < 6; i++) free(dbs[i]);
    sg_history_deinit(&h);
    free(hist);
    return ok;
}

bool sg_live_chaos(const struct sg_live_opts *in, struct sg_chaos_result *r, char *err,
                   size_t cap)
{
    memset(r, 0, sizeof *r);
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    bool ok = sg_live_up(&o, true) == 0;
    if (!ok) snprintf(err, cap, "the nodes did not come up (see DATA/<role>/stderr.log)");
    int64_t t0 = sg_live_mono_ns();
    atomic_bool stop = false;
    struct load_thread lt = {.out = &r->load,
                             .opts = {.grpc_addr = o.grpc_addr, .rate = o.rate,
                                      .duration_ms = o.duration_ms, .clients = o.clients,
                                      .dup_pct = o.dup_pct, .retry_pct = 10, .get_pct = 20,
                                      .settle_ms = SETTLE_MS, .seed = o.seed, .t0_mono_ns = t0,
                                      .stop = &stop}};
    pthread_t th;
    if (ok && pthread_create(&th, NULL, load_main, &lt) != 0) {
        snprintf(err, cap, "cannot start the load");
        ok = false;
    }
    if (ok) {
        uint64_t rng = o.seed ^ 0x5ca1ab1eULL;
        int64_t end = t0 + o.duration_ms * MS;
        for (int64_t next = t0 + o.kill_every_ms * MS; next < end; next += o.kill_every_ms * MS) {
            int64_t wait = next - sg_live_mono_ns();
            if (wait > 0) sg_live_sleep_ms((unsigned)(wait / MS));
            strike(&o, &rng, t0, r);
            publish(&o, r, "running");
            fprintf(stderr, "chaos %5.1fs: kills=%llu pauses=%llu\n",
                    (double)(sg_live_mono_ns() - t0) / 1e9, (unsigned long long)r->kills,
                    (unsigned long long)r->pauses);
        }
        /* Heal: every node up while the load's open calls settle. */
        if (sg_live_up(&o, true) != 0) r->restarts_failed++;
        pthread_join(th, NULL);
        ok = lt.ok;
        if (!ok) snprintf(err, cap, "load: %s", lt.err);
    }
    if (ok) {
        if (sg_live_up(&o, true) != 0) r->restarts_failed++;
        r->terminal_timeouts = sg_live_load_await_terminal(o.grpc_addr, &r->load, TERMINAL_WAIT_MS);
        sg_live_sleep_ms(1500); /* the last offset commits */
    }
    r->seconds = (double)(sg_live_mono_ns() - t0) / 1e9;
    int down = sg_live_down(&o);
    if (ok && down != 0) {
        snprintf(err, cap, "the nodes did not stop");
        ok = false;
    }
    if (ok) ok = judge(&o, r, err, cap);
    publish(&o, r, !ok ? "error" : r->ok ? "ok" : "violation");
    free(grpc_owned);
    return ok;
}

void sg_live_chaos_result_free(struct sg_chaos_result *r)
{
    sg_live_load_result_free(&r->load);
}
