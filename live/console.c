/*
 * console.c (live): `sagasim live console`: a read-only web page on the live system (the
 * role Redpanda Console plays for the reference system), served with libmicrohttpd.
 *
 *   GET /            the page: nodes (up/down, pid, restarts), withdrawals by status and
 *                    the latest ones (saga step, trace id, age), every topic partition's
 *                    log end with each group's committed offset and lag, and during
 *                    `live chaos` the kills and the running verdict. It refreshes itself
 *                    once a second from:
 *   GET /api/state   JSON: {"data_dir", "generated_at_ms", "nodes": {ROLE: {"up", "pid",
 *                    "status": <DATA/ROLE/status.json>}}, "chaos": <DATA/chaos.json>|null}
 *
 * It reads only the nodes' status files and lock files (live/snapshot.h says why not the
 * databases), so it can never block or slow a node. One process per data directory, its
 * lock and pid under DATA/console/; SIGTERM or SIGINT stops it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "live.h"
#include "live_env.h"
#include "paths.h"
#include "supervisor.h"

#include "console_page.h"

static json_t *load_or_null(char *path)
{
    json_t *j = json_load_file(path, 0, NULL);
    free(path);
    return j ? j : json_null();
}

static char *state_json(const char *dir)
{
    json_t *nodes = json_object();
    for (int r = 0; r < SG_ROLE_COUNT; r++) {
        const char *name = sg_role_name((enum sg_role)r);
        int pid = sg_live_running_pid(dir, name);
        json_t *n = json_pack("{s:b, s:i, s:o}", "up", pid > 0, "pid", pid > 0 ? pid : 0,
                              "status", load_or_null(sg_live_path(dir, name, "status.json")));
        json_object_set_new(nodes, name, n);
    }
    json_t *o = json_pack("{s:s, s:I, s:o, s:o}", "data_dir", dir, "generated_at_ms",
                          (json_int_t)(sg_live_wall_ns() / 1000000), "nodes", nodes, "chaos",
                          load_or_null(sg_live_path(dir, NULL, "chaos.json")));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    (void)req;
    const char *dir = cls;
    static char not_allowed[] = "read-only: GET only\n", not_found[] = "not found\n";
    if (*upload_size) return MHD_NO;
    if (strcmp(method, "GET") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
                     sizeof not_allowed - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)sg_console_page,
                     strlen(sg_console_page), MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/api/state") == 0) {
        char *body = state_json(dir);
        if (!body) return MHD_NO;
        return reply(c, MHD_HTTP_OK, "application/json", body, strlen(body),
                     MHD_RESPMEM_MUST_FREE);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof not_found - 1,
                 MHD_RESPMEM_PERSISTENT);
}

int sg_live_console_main(const struct sg_live_opts *o)
{
    char host[64];
    int port = 0;
    if (!sg_live_split_addr(o->console_addr, host, sizeof host, &port)) {
        fprintf(stderr, "sagasim live console: bad address '%s' (want HOST:PORT)\n",
                o->console_addr);
        return 2;
    }
    if (!sg_live_mkdirs(o->data_dir, "console")) {
        fprintf(stderr, "sagasim live console: cannot create %s/console: %s\n", o->data_dir,
                strerror(errno));
        return 2;
    }
    char *lock = sg_live_path(o->data_dir, "console", "lock");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "sagasim live console: already running for %s\n", o->data_dir);
        return 1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "sagasim live console: bad IPv4 host '%s'\n", host);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD's thread inherits the mask */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        handle, (void *)o->data_dir, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "sagasim live console: cannot listen on %s\n", o->console_addr);
        return 1;
    }
    char *pid = sg_live_path(o->data_dir, "console", "pid");
    FILE *f = fopen(pid, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    unlink(pid);
    free(pid);
    close(fd);
    return 0;
}
