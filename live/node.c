/*
 * node.c (live): one node process (see live.h): the role's core node on the real env, the
 * framed TCP to its peers, and for the orchestrator the gRPC ingress.
 *
 * Steps run one at a time on the process's single libuv loop, exactly as the simulator
 * runs them one event at a time: a message from a peer, a gRPC call turned into a client
 * envelope, or a timer. Start-up: lock DATA/<role>/lock (one process per role), open the
 * log, listen, start the core node (open the database, migrate, recover), start the
 * ingress, then write the pid file: `live up` waits for it. Shutdown on SIGTERM/SIGINT:
 * drain the ingress (GOAWAY, answer in-flight calls, at most DRAIN_MS), stop the node
 * (close the database cleanly), close every handle, remove the pid file, exit 0.
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "db.h"
#include "ingress.h"
#include "live_env.h"
#include "migrate.h"
#include "net.h"
#include "paths.h"
#include "snapshot.h"
#include "wire.h"

enum { DRAIN_MS = 3000, DRAIN_POLL_MS = 20 };

struct live_node {
    const struct sg_live_opts *opt;
    const char *role;
    uv_loop_t loop;
    struct sg_config cfg;
    struct sg_live_env env;
    struct sg_live_net net;
    struct sg_node node;
    struct sg_live_ingress *ingress;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain;
    uv_timer_t status;                /* status.json for the console, once a second */
    uint64_t starts;
    uint64_t drain_waited_ms;
    bool stopping;
    char *role_dir, *pid_path;
    FILE *log;
    int lock_fd;
    uint64_t step_errors;
};

void sg_live_config(struct sg_config *c, uint64_t bugs)
{
    sg_config_default(c);
    c->identity_reject_num = 0;
    c->risk_reject_num = 0;
    c->payout_fail_num = 0; /* the rail's random failures too: the demo's withdrawal failed
                               1 time in 50 (ctest live.demo expects it COMPLETED) */
    c->work_delay_max_ns = 0;
    c->bugs = bugs;
}

static void after_step(struct live_node *ln, enum sg_err err, const char *what)
{
    if (err == SG_OK) return;
    ln->step_errors++;
    char detail[96];
    snprintf(detail, sizeof detail, "%s: %s", what, sg_err_name(err));
    sg_live_log(&ln->env, "step_error", detail);
}

/* A message for this node, from a peer or from the ingress. */
static void deliver(struct live_node *ln, const uint8_t *bytes, size_t len)
{
    if (!ln->node.up) return;
    SgEnvelope *e = sg_wire_decode(bytes, len);
    if (e && e->trace_id) snprintf(ln->env.trace_id, sizeof ln->env.trace_id, "%s", e->trace_id);
    sg_wire_free(e);
    after_step(ln, sg_node_on_message(&ln->node, bytes, len), "message");
    ln->env.trace_id[0] = '\0';
}

static void net_deliver(struct sg_live_net *n, const uint8_t *bytes, size_t len)
{
    deliver(n->owner, bytes, len);
}

static void ingress_deliver(void *owner, const uint8_t *bytes, size_t len)
{
    deliver(owner, bytes, len);
}

static void env_send(struct sg_live_env *e, uint32_t to, const uint8_t *bytes, size_t len)
{
    struct live_node *ln = e->owner;
    if (to >= SG_NODE_CLIENT0) {
        if (ln->ingress) sg_live_ingress_reply(ln->ingress, bytes, len);
        return;
    }
    sg_live_net_send(&ln->net, to, bytes, len);
}

static void env_timer(struct sg_live_env *e, uint64_t tag)
{
    struct live_node *ln = e->owner;
    if (!ln->node.up) return;
    after_step(ln, sg_node_on_timer(&ln->node, tag), "timer");
}

/* ---- shutdown ---- */

static void close_all(struct live_node *ln)
{
    if (ln->node.up) sg_node_stop(&ln->node);
    sg_live_log(&ln->env, "stop", NULL);
    if (ln->ingress) sg_live_ingress_close(ln->ingress);
    ln->ingress = NULL;
    sg_live_net_close(&ln->net);
    sg_live_env_deinit(&ln->env);
    uv_close((uv_handle_t *)&ln->sigterm, NULL);
    uv_close((uv_handle_t *)&ln->sigint, NULL);
    uv_close((uv_handle_t *)&ln->drain, NULL);
    uv_close((uv_handle_t *)&ln->status, NULL);
    unlink(ln->pid_path);
}

static void drain_tick(uv_timer_t *t)
{
    struct live_node *ln = t->data;
    ln->drain_waited_ms += DRAIN_POLL_MS;
    if (ln->ingress && sg_live_ingress_pending(ln->ingress) > 0 &&
        ln->drain_waited_ms < DRAIN_MS)
        return;
    uv_timer_stop(t);
    close_all(ln);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct live_node *ln = s->data;
    if (ln->stopping) return;
    ln->stopping = true;
    sg_live_log(&ln->env, "signal", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    if (ln->ingress) sg_live_ingress_drain(ln->ingress);
    uv_timer_start(&ln->drain, drain_tick, 0, DRAIN_POLL_MS);
}

static void status_tick(uv_timer_t *t)
{
    struct live_node *ln = t->data;
    sg_live_snapshot_write(&ln->node, ln->role_dir, ln->role, (int)getpid(), ln->starts,
                           ln->env.commits);
}

/* How many times this role has started in this data directory (restarts = starts - 1). */
static uint64_t count_start(struct live_node *ln)
{
    char *p = sg_live_path(ln->opt->data_dir, ln->role, "starts");
    unsigned long long n = 0;
    FILE *f = fopen(p, "r");
    if (f) {
        if (fscanf(f, "%llu", &n) != 1) n = 0;
        fclose(f);
    }
    f = fopen(p, "w");
    if (f) {
        fprintf(f, "%llu\n", n + 1);
        fclose(f);
    }
    free(p);
    return n + 1;
}

/* ---- start-up ---- */

static int fail(struct live_node *ln, int code, const char *fmt, const char *arg)
{
    fprintf(stderr, "sagasim live node %s: ", ln->role);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return code;
}

static int take_lock(struct live_node *ln)
{
    char *lock = sg_live_path(ln->opt->data_dir, ln->role, "lock");
    ln->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (ln->lock_fd < 0) return fail(ln, 2, "cannot open its lock file: %s", strerror(errno));
    if (flock(ln->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return fail(ln, 1, "already running (%s holds the lock)", ln->role_dir);
    return 0;
}

static int open_log(struct live_node *ln)
{
    char *p = sg_live_path(ln->opt->data_dir, ln->role, "node.log");
    ln->log = fopen(p, "ae");
    free(p);
    if (!ln->log) return fail(ln, 2, "cannot open node.log: %s", strerror(errno));
    setvbuf(ln->log, NULL, _IOLBF, 0);
    return 0;
}

static bool write_pid(struct live_node *ln)
{
    char *tmp = sg_live_path(ln->opt->data_dir, ln->role, "pid.tmp");
    FILE *f = fopen(tmp, "we");
    bool ok = f && fprintf(f, "%d\n", (int)getpid()) > 0;
    if (f) ok = fclose(f) == 0 && ok;
    ok = ok && rename(tmp, ln->pid_path) == 0;
    free(tmp);
    return ok;
}

/* The node refused its database as made by a newer build (migrate.h): name the file and
 * both versions, read again without writing. Exit code 2 (DESIGN §7). */
static int refuse_newer(struct live_node *ln)
{
    const struct sg_schema *schema = sg_role_schema(ln->opt->role);
    struct sg_db *db = NULL;
    uint32_t found = 0;
    enum sg_err err = sg_db_open_readonly(&ln->env.env, schema->db_name, &db);
    if (err == SG_OK) err = sg_migrate_check(&ln->env.env, db, schema, &found);
    sg_db_close(&db);
    if (err != SG_ERR_SCHEMA) /* unreadable now: say what the start saw */
        return fail(ln, 2, "refuses a database made by a newer sagasim (%s)",
                    ln->env.last_error);
    fprintf(stderr,
            "sagasim live node %s: database %s/%s has schema version %u, this build knows %u\n",
            ln->role, ln->role_dir, schema->db_name, found, schema->version);
    return 2;
}

static int start(struct live_node *ln)
{
    uint32_t id = sg_role_node_id(ln->opt->role);
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", sg_live_net_port(ln->opt->base_port, id));
    int rc = sg_live_net_init(&ln->net, &ln->loop, id, ln->opt->base_port, net_deliver, ln);
    if (rc != 0) {
        char why[128];
        snprintf(why, sizeof why, "%s (%s)", listen, uv_strerror(rc));
        return fail(ln, 1, "cannot listen on %s", why);
    }
    sg_live_log(&ln->env, "listen", listen);
    enum sg_err err = sg_node_start(&ln->node, ln->opt->role, &ln->env.env, &ln->cfg);
    if (err == SG_ERR_SCHEMA) return refuse_newer(ln);
    if (err != SG_OK)
        return fail(ln, 1, "cannot start: its database failed (%s; see node.log)",
                    ln->env.last_error);
    if (ln->opt->role == SG_ROLE_ORCH) {
        const char *why = NULL;
        ln->ingress = sg_live_ingress_start(&ln->loop, ln->opt->grpc_addr, ingress_deliver, ln,
                                            &why);
        if (!ln->ingress) return fail(ln, 1, "cannot serve gRPC: %s", why);
        sg_live_log(&ln->env, "grpc", ln->opt->grpc_addr);
    }
    if (id != SG_NODE_BROKER) sg_live_net_connect(&ln->net, SG_NODE_BROKER);
    if (!write_pid(ln)) return fail(ln, 1, "cannot write its pid file: %s", strerror(errno));
    ln->starts = count_start(ln);
    uv_timer_start(&ln->status, status_tick, 0, 1000);
    sg_live_log(&ln->env, "ready", NULL);
    return 0;
}

int sg_live_node_main(const struct sg_live_opts *o)
{
    struct live_node *ln = calloc(1, sizeof *ln);
    if (!ln) return 1;
    ln->opt = o;
    ln->role = sg_role_name(o->role);
    ln->lock_fd = -1;
    int code = 2;
    if (!sg_live_mkdirs(o->data_dir, ln->role)) {
        fprintf(stderr, "sagasim live node: cannot create %s/%s: %s\n", o->data_dir, ln->role,
                strerror(errno));
        goto done;
    }
    ln->role_dir = sg_live_path(o->data_dir, ln->role, NULL);
    char *real = realpath(ln->role_dir, NULL);
    size_t real_len = real ? strlen(real) : 0;
    free(real);
    if (real_len + sizeof "/identity.db-journal" > SG_LIVE_SQLITE_PATH_MAX) {
        fprintf(stderr, "sagasim live node: the data directory's path is too long for "
                        "SQLite (%zu bytes; its files need at most %d): use a shorter --data\n",
                real_len, SG_LIVE_SQLITE_PATH_MAX);
        goto done;
    }
    ln->pid_path = sg_live_path(o->data_dir, ln->role, "pid");
    if ((code = take_lock(ln)) != 0 || (code = open_log(ln)) != 0) goto done;
    sg_live_config(&ln->cfg, o->bugs);
    if (o->sync_normal) ln->cfg.db_mode = SG_DB_WAL_NORMAL; /* live bench's comparison only */
    uv_loop_init(&ln->loop);
    sg_live_env_init(&ln->env, &ln->loop, sg_role_node_id(o->role), ln->role, ln->role_dir,
                     ln->log, env_send, env_timer, ln);
    uv_signal_init(&ln->loop, &ln->sigterm);
    uv_signal_init(&ln->loop, &ln->sigint);
    uv_timer_init(&ln->loop, &ln->drain);
    uv_timer_init(&ln->loop, &ln->status);
    ln->sigterm.data = ln->sigint.data = ln->drain.data = ln->status.data = ln;
    uv_signal_start(&ln->sigterm, on_signal, SIGTERM);
    uv_signal_start(&ln->sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    sg_live_log(&ln->env, "start", ln->role_dir);
    code = start(ln);
    if (code != 0) {
        sg_live_log(&ln->env, "start_failed", NULL);
        close_all(ln);
    }
    uv_run(&ln->loop, UV_RUN_DEFAULT);
    uv_loop_close(&ln->loop);
done:
    if (ln->log) fclose(ln->log);
    if (ln->lock_fd >= 0) close(ln->lock_fd);
    free(ln->role_dir);
    free(ln->pid_path);
    free(ln);
    return code;
}
