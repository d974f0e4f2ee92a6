/*
 * load.c (live): the load generator (see load.h).
 */
#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codes.h"
#include "status.h"
#include "grpcc.h"
#include "history_json.h"
#include "live_env.h"
#include "supervisor.h"
#include "wire.h"

#define MS 1000000LL

enum { CALL_TIMEOUT_MS = 2000, BACKOFF_MIN_MS = 50, BACKOFF_MAX_MS = 1000, USERS = 20,
       LAT_MAX = 1 << 22 };

static const char create_path[] = "/cbsaga.orchestrator.v1.OrchestratorService/CreateWithdrawal";
static const char get_path[] = "/cbsaga.orchestrator.v1.OrchestratorService/GetWithdrawal";

struct shared {
    const struct sg_live_load_opts *o;
    struct sg_live_load_result *out;
    pthread_mutex_t mu;
    double *lat_ms;                 /* every create attempt's latency */
    size_t n_lat, lat_mark;         /* lat_mark: the progress line's window start */
    uint64_t creates_mark;
    int64_t end_ns, hard_end_ns;    /* monotonic */
    uint64_t run_id;
};

struct req {
    char user[40], asset[8], dest[32], key[64];
    int64_t amount;
};

struct worker {
    struct shared *sh;
    uint32_t id;
    uint64_t rng;
    struct sg_grpcc conn, twin;
    bool conn_ok, twin_ok;
    uint64_t n;
};

struct twin_call {
    struct worker *w;
    const struct req *q;
    pthread_t th;
};

static uint64_t next_rand(uint64_t *s) /* splitmix64: the load's own seeded stream */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t now_ns(void) { return sg_live_mono_ns(); }

static bool stopped(const struct shared *sh)
{
    return sh->o->stop && atomic_load(sh->o->stop);
}

static bool ensure(struct worker *w, struct sg_grpcc *c, bool *ok)
{
    if (*ok) return true;
    char err[256];
    *ok = sg_grpcc_open(c, w->sh->o->grpc_addr, err, sizeof err) == 0;
    return *ok;
}

static void drop(struct sg_grpcc *c, bool *ok)
{
    if (*ok) sg_grpcc_close(c);
    *ok = false;
}

/* One attempt of a create on connection c; recorded in the history. */
static uint32_t attempt_create(struct worker *w, struct sg_grpcc *c, bool *ok,
                               const struct req *q, char *wid, size_t cap)
{
    struct shared *sh = w->sh;
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest m =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    m.user_id = (char *)q->user;
    m.asset = (char *)q->asset;
    m.amount_minor = q->amount;
    m.destination_addr = (char *)q->dest;
    m.idempotency_key = (char *)q->key;
    uint8_t buf[512];
    size_t len = cbsaga__orchestrator__v1__create_withdrawal_request__pack(&m, buf);
    int64_t t1 = now_ns();
    struct sg_grpcc_reply r = {.status = -1};
    if (ensure(w, c, ok)) sg_grpcc_call(c, create_path, buf, len, NULL, CALL_TIMEOUT_MS, &r);
    int64_t t2 = now_ns();
    uint32_t code = r.status < 0 ? SG_CODE_TIMEOUT : (uint32_t)r.status;
    char status[16] = "";
    if (r.status == 0) {
        Cbsaga__Orchestrator__V1__CreateWithdrawalResponse *resp =
            cbsaga__orchestrator__v1__create_withdrawal_response__unpack(NULL, r.body_len, r.body);
        if (resp) {
            snprintf(wid, cap, "%s", resp->withdrawal_id);
            snprintf(status, sizeof status, "%s", resp->status);
            cbsaga__orchestrator__v1__create_withdrawal_response__free_unpacked(resp, NULL);
        }
    } else if (r.withdrawal_id[0]) {
        snprintf(wid, cap, "%s", r.withdrawal_id);
    }
    if (r.status < 0) drop(c, ok); /* a late answer must not meet the next call */
    sg_grpcc_reply_free(&r);
    pthread_mutex_lock(&sh->mu);
    struct sg_hist_rec *h = sg_history_add(&sh->out->history);
    if (h) {
        h->client = SG_NODE_CLIENT0 + w->id;
        h->op = SG_OP_CREATE;
        snprintf(h->key, sizeof h->key, "%s", q->key);
        snprintf(h->user_id, sizeof h->user_id, "%s", q->user);
        snprintf(h->asset, sizeof h->asset, "%s", q->asset);
        h->amount_minor = q->amount;
        snprintf(h->destination_addr, sizeof h->destination_addr, "%s", q->dest);
        h->invoke_ns = t1 - sh->o->t0_mono_ns;
        h->complete_ns = t2 - sh->o->t0_mono_ns;
        h->code = code;
        h->outcome = code == SG_CODE_TIMEOUT ? SG_OUTCOME_UNKNOWN : sg_outcome_of_code(code);
        if (code == SG_CODE_OK) snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", wid);
        snprintf(h->status, sizeof h->status, "%s", status);
    }
    sh->out->creates++;
    if (r.status < 0) sh->out->transport_errors++;
    else sh->out->by_code[code < 16 ? code : 15]++;
    if (sh->n_lat < LAT_MAX) sh->lat_ms[sh->n_lat++] = (double)(t2 - t1) / 1e6;
    pthread_mutex_unlock(&sh->mu);
    return code;
}

static void *twin_main(void *arg)
{
    struct twin_call *t = arg;
    char wid[64] = "";
    attempt_create(t->w, &t->w->twin, &t->w->twin_ok, t->q, wid, sizeof wid);
    return NULL;
}

static bool definite(uint32_t code)
{
    return code == SG_CODE_OK || code == SG_CODE_FAILED_PRECONDITION ||
           code == SG_CODE_INVALID_ARGUMENT;
}

static void sleep_ms(int64_t ms)
{
    if (ms > 0) sg_live_sleep_ms((unsigned)ms);
}

/* A create call: attempts until a definite answer or the settle time runs out. */
static uint32_t create_call(struct worker *w, const struct req *q, bool twin, char *wid,
                            size_t cap)
{
    struct shared *sh = w->sh;
    int64_t backoff = BACKOFF_MIN_MS;
    for (;;) {
        struct twin_call t = {.w = w, .q = q};
        bool twin_started = twin && pthread_create(&t.th, NULL, twin_main, &t) == 0;
        twin = false;
        uint32_t code = attempt_create(w, &w->conn, &w->conn_ok, q, wid, cap);
        if (twin_started) pthread_join(t.th, NULL);
        if (definite(code)) return code;
        if (now_ns() + backoff * MS > sh->hard_end_ns) {
            pthread_mutex_lock(&sh->mu);
            sh->out->unanswered++;
            pthread_mutex_unlock(&sh->mu);
            return code;
        }
        sleep_ms(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

static void get_call(struct worker *w, const char *id)
{
    struct shared *sh = w->sh;
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest m =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    m.withdrawal_id = (char *)id;
    uint8_t buf[128];
    size_t len = cbsaga__orchestrator__v1__get_withdrawal_request__pack(&m, buf);
    int64_t t1 = now_ns();
    struct sg_grpcc_reply r = {.status = -1};
    if (ensure(w, &w->conn, &w->conn_ok))
        sg_grpcc_call(&w->conn, get_path, buf, len, NULL, CALL_TIMEOUT_MS, &r);
    int64_t t2 = now_ns();
    char status[16] = "";
    if (r.status == 0) {
        Cbsaga__Orchestrator__V1__GetWithdrawalResponse *g =
            cbsaga__orchestrator__v1__get_withdrawal_response__unpack(NULL, r.body_len, r.body);
        if (g) {
            snprintf(status, sizeof status, "%s", g->status);
            cbsaga__orchestrator__v1__get_withdrawal_response__free_unpacked(g, NULL);
        }
    }
    if (r.status < 0) drop(&w->conn, &w->conn_ok);
    uint32_t code = r.status < 0 ? SG_CODE_TIMEOUT : (uint32_t)r.status;
    sg_grpcc_reply_free(&r);
    pthread_mutex_lock(&sh->mu);
    struct sg_hist_rec *h = sg_history_add(&sh->out->history);
    if (h) {
        h->client = SG_NODE_CLIENT0 + w->id;
        h->op = SG_OP_GET;
        snprintf(h->withdrawal_id, sizeof h->withdrawal_id, "%s", id);
        h->invoke_ns = t1 - sh->o->t0_mono_ns;
        h->complete_ns = t2 - sh->o->t0_mono_ns;
        h->code = code;
        h->outcome = code == SG_CODE_TIMEOUT ? SG_OUTCOME_UNKNOWN : sg_outcome_of_code(code);
        snprintf(h->status, sizeof h->status, "%s", status);
    }
    sh->out->gets++;
    pthread_mutex_unlock(&sh->mu);
}

static void fresh(struct worker *w, struct req *q)
{
    static const char *const assets[] = {"BTC", "ETH", "SOL"};
    uint64_t u = next_rand(&w->rng) % USERS;
    snprintf(q->user, sizeof q->user, "%08x-0000-4000-8000-%012llx",
             (unsigned)(0x5a000000u + u), (unsigned long long)u);
    snprintf(q->asset, sizeof q->asset, "%s", assets[next_rand(&w->rng) % 3]);
    snprintf(q->dest, sizeof q->dest, "addr-%llu", (unsigned long long)(next_rand(&w->rng) % 1000));
    snprintf(q->key, sizeof q->key, "load-%llx-%u-%llu", (unsigned long long)w->sh->run_id, w->id,
             (unsigned long long)w->n++);
    q->amount = 1 + (int64_t)(next_rand(&w->rng) % 100000);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct sg_live_load_opts *o = sh->o;
    int64_t interval = o->rate > 0 ? (int64_t)((double)o->clients * 1e9 / o->rate) : 0;
    int64_t next = now_ns() + (int64_t)(next_rand(&w->rng) % (uint64_t)(interval + 1));
    while (now_ns() < sh->end_ns && !stopped(sh)) {
        if (interval) {
            int64_t wait = next - now_ns();
            if (wait > 0) sleep_ms(wait / MS);
            next += interval;
        }
        struct req q;
        fresh(w, &q);
        char wid[64] = "";
        bool twin = next_rand(&w->rng) % 100 < o->dup_pct;
        if (create_call(w, &q, twin, wid, sizeof wid) != SG_CODE_OK || !wid[0]) continue;
        pthread_mutex_lock(&sh->mu);
        char **ids = realloc(sh->out->acked_ids, (sh->out->n_acked + 1) * sizeof *ids);
        if (ids) {
            sh->out->acked_ids = ids;
            ids[sh->out->n_acked++] = strdup(wid);
        }
        sh->out->ok++;
        pthread_mutex_unlock(&sh->mu);
        if (next_rand(&w->rng) % 100 < o->retry_pct) { /* an exact retry: same answer */
            char again[64] = "";
            create_call(w, &q, false, again, sizeof again);
        }
        if (next_rand(&w->rng) % 100 < o->get_pct) get_call(w, wid);
    }
    drop(&w->conn, &w->conn_ok);
    drop(&w->twin, &w->twin_ok);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void progress(struct shared *sh, double elapsed)
{
    pthread_mutex_lock(&sh->mu);
    size_t n = sh->n_lat - sh->lat_mark;
    double *win = malloc((n ? n : 1) * sizeof *win);
    if (win && n) memcpy(win, sh->lat_ms + sh->lat_mark, n * sizeof *win);
    uint64_t creates = sh->out->creates - sh->creates_mark;
    sh->lat_mark = sh->n_lat;
    sh->creates_mark = sh->out->creates;
    const struct sg_live_load_result *r = sh->out;
    fprintf(stderr, "load %5.1fs: %4llu creates/s p50=%.2fms p99=%.2fms ok=%llu aborted=%llu "
                    "unavailable=%llu precondition=%llu transport=%llu\n",
            elapsed, (unsigned long long)creates, win ? pct(win, n, 0.5) : 0.0,
            win ? pct(win, n, 0.99) : 0.0, (unsigned long long)r->ok,
            (unsigned long long)r->by_code[SG_CODE_ABORTED],
            (unsigned long long)r->by_code[SG_CODE_UNAVAILABLE],
            (unsigned long long)r->by_code[SG_CODE_FAILED_PRECONDITION],
            (unsigned long long)r->transport_errors);
    pthread_mutex_unlock(&sh->mu);
    free(win);
}

bool sg_live_load_run(const struct sg_live_load_opts *o, struct sg_live_load_result *out,
                      char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    sg_history_init(&out->history);
    struct sg_grpcc probe;
    if (sg_grpcc_open(&probe, o->grpc_addr, err, cap) != 0) return false;
    sg_grpcc_close(&probe);
    struct shared sh = {.o = o, .out = out};
    pthread_mutex_init(&sh.mu, NULL);
    sh.lat_ms = malloc(LAT_MAX * sizeof *sh.lat_ms);
    uint64_t seed = o->seed;
    sh.run_id = next_rand(&seed) ^ (uint64_t)sg_live_wall_ns();
    int64_t start = now_ns();
    sh.end_ns = start + o->duration_ms * MS;
    sh.hard_end_ns = sh.end_ns + o->settle_ms * MS;
    uint32_t n = o->clients ? o->clients : 1;
    struct worker *ws = calloc(n, sizeof *ws);
    uint32_t started = 0;
    for (uint32_t i = 0; ws && i < n; i++)
        ws[i] = (struct worker){.sh = &sh, .id = i, .rng = o->seed * 1000003u + i};
    pthread_t *th = calloc(n, sizeof *th);
    for (uint32_t i = 0; th && ws && sh.lat_ms && i < n; i++)
        if (pthread_create(&th[i], NULL, worker_main, &ws[i]) == 0) started++;
    for (int64_t tick = 1; now_ns() < sh.end_ns && !stopped(&sh); tick++) {
        int64_t wait = start + tick * 1000 * MS - now_ns();
        if (wait > 0) sleep_ms(wait / MS);
        if (!o->quiet) progress(&sh, (double)(now_ns() - start) / 1e9);
    }
    out->seconds = (double)(now_ns() - start) / 1e9;
    for (uint32_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    if (sh.n_lat) {
        out->create_p50_ms = pct(sh.lat_ms, sh.n_lat, 0.5);
        out->create_p99_ms = pct(sh.lat_ms, sh.n_lat, 0.99);
        out->create_max_ms = sh.lat_ms[sh.n_lat - 1];
    }
    free(th);
    free(ws);
    free(sh.lat_ms);
    pthread_mutex_destroy(&sh.mu);
    if (started == 0) snprintf(err, cap, "no client thread could start");
    return started > 0;
}

void sg_live_load_result_free(struct sg_live_load_result *r)
{
    for (size_t i = 0; i < r->n_acked; i++) free(r->acked_ids[i]);
    free(r->acked_ids);
    r->acked_ids = NULL;
    r->n_acked = 0;
    sg_history_deinit(&r->history);
}

bool sg_live_load_write_history(const struct sg_live_load_result *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = true;
    for (size_t i = 0; ok && i < r->history.count; i++)
        ok = sg_history_write_line(f, &r->history.recs[i]);
    return fclose(f) == 0 && ok;
}

/* One GetWithdrawal on c (opened on demand): whether the withdrawal is terminal. */
static bool is_terminal(struct sg_grpcc *c, bool *up, const char *grpc, const char *id)
{
    char err[256];
    if (!*up) *up = sg_grpcc_open(c, grpc, err, sizeof err) == 0;
    if (!*up) return false;
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest q =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    q.withdrawal_id = (char *)id;
    uint8_t buf[128];
    size_t len = cbsaga__orchestrator__v1__get_withdrawal_request__pack(&q, buf);
    struct sg_grpcc_reply r;
    sg_grpcc_call(c, get_path, buf, len, NULL, CALL_TIMEOUT_MS, &r);
    if (r.status < 0) drop(c, up);
    Cbsaga__Orchestrator__V1__GetWithdrawalResponse *g =
        r.status == 0 ? cbsaga__orchestrator__v1__get_withdrawal_response__unpack(NULL, r.body_len,
                                                                                r.body)
                      : NULL;
    bool terminal = g && sg_status_terminal(sg_status_parse(g->status));
    if (g) cbsaga__orchestrator__v1__get_withdrawal_response__free_unpacked(g, NULL);
    sg_grpcc_reply_free(&r);
    return terminal;
}

uint64_t sg_live_load_await_terminal(const char *grpc_addr, const struct sg_live_load_result *r,
                                     int64_t bound_ms)
{
    struct sg_grpcc c;
    bool up = false;
    int64_t end = now_ns() + bound_ms * MS;
    uint64_t open = 0;
    for (size_t i = 0; i < r->n_acked; i++) {
        bool terminal = false;
        while (!terminal && now_ns() < end) {
            terminal = is_terminal(&c, &up, grpc_addr, r->acked_ids[i]);
            if (!terminal) sleep_ms(5);
        }
        open += !terminal;
    }
    drop(&c, &up);
    return open;
}
