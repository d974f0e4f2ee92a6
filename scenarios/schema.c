/*
 * schema.c: what a scenario file may say (scenarios/README.md is the reference): one
 * table of keys per section, each key with its field, setter and allowed range, and the
 * setters for values that are more than one number (lists, maps, scheduled faults).
 *
 * Ranges are generous but finite: they catch gross slips (a 1000 m deadline where 1000 ms
 * was meant) and values the simulator cannot honour (more clients than
 * SG_WORLD_CLIENTS_MAX, more partitions than the broker holds, a restart delay below the
 * nemesis's 100 ms floor). Every setter writes only after its value parsed, and only into
 * the copy of the configuration being built.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "broker.h"
#include "coverage.h"
#include "nemesis.h"
#include "scenario.h"
#include "values.h"
#include "walker.h"

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* ---- generic setters ---- */

static void *field(void *target, size_t offset)
{
    SG_ASSERT_PURE(target != NULL);
    return (char *)target + offset;
}

static bool set_u32(struct sg_walker *w, const struct sg_key *k, void *target,
                    const yaml_event_t *v)
{
    SG_ASSERT_PURE(k->size == sizeof(uint32_t));
    SG_ASSERT_PURE(k->max <= (int64_t)UINT32_MAX);
    uint64_t x = 0;
    if (!sg_walk_whole(w, v, k->min, k->max, &x)) return false;
    uint32_t y = (uint32_t)x;
    memcpy(field(target, k->offset), &y, sizeof y);
    return true;
}

static bool set_duration(struct sg_walker *w, const struct sg_key *k, void *target,
                         const yaml_event_t *v)
{
    SG_ASSERT_PURE(k->size == sizeof(int64_t));
    SG_ASSERT_PURE(k->min >= 0);
    int64_t ns = 0;
    if (!sg_walk_duration(w, v, false, k->min, k->max, k->zero_ok, &ns)) return false;
    memcpy(field(target, k->offset), &ns, sizeof ns);
    return true;
}

static bool set_ratio(struct sg_walker *w, const struct sg_key *k, void *target,
                      const yaml_event_t *v)
{
    SG_ASSERT_PURE(k->size == sizeof(uint32_t));
    SG_ASSERT_PURE(k->offset2 != k->offset);
    const char *text = sg_walk_scalar(w, v, false);
    if (!text) return false;
    uint32_t num = 0, den = 0;
    const char *why = sg_value_ratio(text, &num, &den);
    if (why) return sg_walk_fail(w, v->start_mark, "%s: '%.40s' %s", w->key, text, why);
    memcpy(field(target, k->offset), &num, sizeof num);
    memcpy(field(target, k->offset2), &den, sizeof den);
    return true;
}

static size_t key_index(const struct sg_table *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->keys[i].name, name) == 0) return i;
    SG_WALK_UNREACHABLE("no such key in the table");
}

/* A nested mapping whose keys are in k->sub, written into target + k->offset. */
static bool walk_section(struct sg_walker *w, const struct sg_key *k, void *target,
                         const yaml_event_t *v, uint32_t *seen, yaml_mark_t *marks)
{
    SG_ASSERT_PURE(k->sub != NULL);
    if (!sg_walk_expect(w, v, YAML_MAPPING_START_EVENT)) return false;
    char prefix[SG_WALK_KEY_LEN];
    snprintf(prefix, sizeof prefix, "%s", w->key);
    bool ok = sg_walk_mapping(w, k->sub, prefix, field(target, k->offset), seen, marks);
    SG_ASSERT_PURE(ok == !w->failed);
    return ok;
}

static bool set_section(struct sg_walker *w, const struct sg_key *k, void *target,
                        const yaml_event_t *v)
{
    return walk_section(w, k, target, v, NULL, NULL);
}

#define U32(key_, type, field_, lo, hi)                                                   \
    {.name = key_, .set = set_u32, .offset = offsetof(type, field_),                     \
     .size = sizeof(((type *)0)->field_), .min = lo, .max = hi}
#define DUR(key_, type, field_, lo, hi)                                                   \
    {.name = key_, .set = set_duration, .offset = offsetof(type, field_),                \
     .size = sizeof(((type *)0)->field_), .min = lo, .max = hi}
/* A duration where 0 means "never" or "off". */
#define DUR0(key_, type, field_, lo, hi)                                                  \
    {.name = key_, .set = set_duration, .offset = offsetof(type, field_),                \
     .size = sizeof(((type *)0)->field_), .min = lo, .max = hi, .zero_ok = true}
#define RATIO(key_, type, num, den)                                                       \
    {.name = key_, .set = set_ratio, .offset = offsetof(type, num),                      \
     .offset2 = offsetof(type, den), .size = sizeof(((type *)0)->num)}
#define CUSTOM(key_, fn) {.name = key_, .set = fn}
#define TABLE(keys) {keys, sizeof keys / sizeof keys[0]}

/* ---- workload ---- */

static const struct sg_key workload_keys[] = {
    U32("clients", struct sg_workload_config, clients, 1, SG_WORLD_CLIENTS_MAX),
    U32("withdrawals", struct sg_workload_config, withdrawals, 1, 1000000),
    U32("users", struct sg_workload_config, users, 1, 1000000),
    U32("retry_pct", struct sg_workload_config, retry_pct, 0, 100),
    U32("mismatch_pct", struct sg_workload_config, mismatch_pct, 0, 100),
    U32("invalid_pct", struct sg_workload_config, invalid_pct, 0, 100),
    U32("get_pct", struct sg_workload_config, get_pct, 0, 100),
    U32("twin_pct", struct sg_workload_config, twin_pct, 0, 100),
    U32("trace_pct", struct sg_workload_config, trace_pct, 0, 100),
    U32("shared_key_fanout", struct sg_workload_config, shared_key_fanout, 1,
        SG_WORLD_CLIENTS_MAX),
    DUR("think_max", struct sg_workload_config, think_max_ns, 0, MIN),
    DUR("client_timeout", struct sg_workload_config, client_timeout_ns, MS, 10 * MIN),
    DUR("backoff_min", struct sg_workload_config, backoff_min_ns, MS, 10 * MIN),
    DUR("backoff_max", struct sg_workload_config, backoff_max_ns, MS, 10 * MIN),
};
static const struct sg_table workload_table = TABLE(workload_keys);

static bool set_workload(struct sg_walker *w, const struct sg_key *k, void *target,
                         const yaml_event_t *v)
{
    uint32_t seen = 0;
    yaml_mark_t marks[SG_WALK_TABLE_MAX];
    if (!walk_section(w, k, target, v, &seen, marks)) return false;
    const struct sg_workload_config *wl = &w->rc->wl;
    size_t fanout = key_index(&workload_table, "shared_key_fanout");
    if (wl->shared_key_fanout > 1 && wl->clients % wl->shared_key_fanout != 0)
        return sg_walk_fail(w, marks[seen >> fanout & 1u ? fanout
                                                          : key_index(&workload_table, "clients")],
                            "workload: clients (%u) must be a multiple of shared_key_fanout"
                            " (%u): each group of that many clients sends every create together",
                            wl->clients, wl->shared_key_fanout);
    if (wl->backoff_min_ns <= wl->backoff_max_ns) return true;
    size_t max = key_index(&workload_table, "backoff_max");
    size_t at = seen >> max & 1u ? max : key_index(&workload_table, "backoff_min");
    return sg_walk_fail(w, marks[at], "workload: backoff_min is longer than backoff_max");
}

/* ---- services ---- */

/* A user id as the identity service compares it: a UUID, stored lower case. */
static bool parse_uuid(const char *s, char out[37])
{
    if (strlen(s) != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash != (c == '-')) return false;
        if (dash) {
            out[i] = c;
            continue;
        }
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        out[i] = c;
    }
    out[36] = '\0';
    return true;
}

static bool set_deny_users(struct sg_walker *w, const struct sg_key *k, void *target,
                           const yaml_event_t *v)
{
    (void)k;
    struct sg_config *cfg = target;
    if (!sg_walk_expect(w, v, YAML_SEQUENCE_START_EVENT)) return false;
    memset(cfg->deny_users, 0, sizeof cfg->deny_users); /* the file's list replaces it */
    size_t n = 0;
    for (size_t round = 0; round <= SG_DENY_MAX; round++) {
        yaml_event_t item;
        if (!sg_walk_next(w, &item)) return false;
        bool end = item.type == YAML_SEQUENCE_END_EVENT;
        const char *text = end ? NULL : sg_walk_scalar(w, &item, false);
        char id[37];
        if (text && n == SG_DENY_MAX)
            sg_walk_fail(w, item.start_mark, "%s: at most %d users", w->key, SG_DENY_MAX);
        else if (text && !parse_uuid(text, id))
            sg_walk_fail(w, item.start_mark, "%s: '%.40s' is not a UUID"
                         " (8-4-4-4-12 hex digits)", w->key, text);
        for (size_t i = 0; text && !w->failed && i < n; i++)
            if (strcmp(cfg->deny_users[i], id) == 0)
                sg_walk_fail(w, item.start_mark, "%s: '%s' is listed twice", w->key, text);
        yaml_event_delete(&item);
        if (w->failed) return false;
        if (end) {
            cfg->deny_user_count = n;
            return true;
        }
        memcpy(cfg->deny_users[n++], id, sizeof id);
    }
    SG_WALK_UNREACHABLE("the deny list loop ended without an error");
}

/* An asset as the risk service compares it: upper-case letters and digits. */
static bool valid_asset(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SG_ASSET_LEN_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

/* One "ASSET: amount" pair of risk_limits; the key event is given. */
/* The next event as a whole number in [min, max] (a pair's value). */
static bool next_whole(struct sg_walker *w, int64_t min, int64_t max, uint64_t *out)
{
    yaml_event_t value;
    if (!sg_walk_next(w, &value)) return false;
    bool ok = sg_walk_whole(w, &value, min, max, out);
    yaml_event_delete(&value);
    return ok;
}

static bool risk_limit(struct sg_walker *w, void *ctx, const yaml_event_t *key,
                       const char *where)
{
    struct sg_config *cfg = ctx;
    const char *asset = sg_walk_scalar(w, key, false);
    if (!asset) return false;
    if (!valid_asset(asset))
        return sg_walk_fail(w, key->start_mark, "%s: asset '%.40s' is not 1-%d upper-case"
                            " letters or digits", where, asset, SG_ASSET_LEN_MAX);
    for (size_t i = 0; i < cfg->limit_count; i++)
        if (strcmp(cfg->limits[i].asset, asset) == 0)
            return sg_walk_fail(w, key->start_mark, "duplicate key '%s' in %s", asset, where);
    if (cfg->limit_count == SG_LIMIT_MAX)
        return sg_walk_fail(w, key->start_mark, "%s: at most %d assets", where, SG_LIMIT_MAX);
    sg_walk_set_key(w, where, ".", asset);
    yaml_event_t value;
    if (!sg_walk_next(w, &value)) return false;
    uint64_t amount = 0;
    bool ok = sg_walk_whole(w, &value, 1, INT64_MAX, &amount);
    yaml_event_delete(&value);
    if (!ok) return false;
    struct sg_asset_limit *l = &cfg->limits[cfg->limit_count++];
    snprintf(l->asset, sizeof l->asset, "%s", asset);
    l->amount_minor_max = (int64_t)amount;
    return true;
}

static bool set_risk_limits(struct sg_walker *w, const struct sg_key *k, void *target,
                            const yaml_event_t *v)
{
    (void)k;
    struct sg_config *cfg = target;
    if (!sg_walk_expect(w, v, YAML_MAPPING_START_EVENT)) return false;
    char where[SG_WALK_KEY_LEN];
    snprintf(where, sizeof where, "%s", w->key);
    cfg->limit_count = 0; /* the file's list replaces the default one */
    memset(cfg->limits, 0, sizeof cfg->limits);
    for (size_t round = 0; round <= SG_LIMIT_MAX; round++) {
        yaml_event_t key;
        if (!sg_walk_next(w, &key)) return false;
        bool end = key.type == YAML_MAPPING_END_EVENT;
        bool ok = end || risk_limit(w, cfg, &key, where);
        yaml_event_delete(&key);
        if (!ok) return false;
        if (end) return true;
    }
    SG_WALK_UNREACHABLE("the risk limits loop ended without an error");
}

static const struct sg_key services_keys[] = {
    U32("partitions", struct sg_config, partitions, 1, SG_PARTITIONS_MAX),
    U32("batch_max", struct sg_config, batch_max, 1, 256),
    DUR("lease_ttl", struct sg_config, lease_ttl_ns, US, HOUR),
    DUR("saga_deadline", struct sg_config, saga_deadline_ns, MS, HOUR),
    DUR("work_delay_max", struct sg_config, work_delay_max_ns, 0, MIN),
    DUR("fetch_poll", struct sg_config, fetch_poll_ns, MS, MIN),
    DUR("relay_poll", struct sg_config, relay_poll_ns, MS, MIN),
    DUR("request_timeout", struct sg_config, request_timeout_ns, MS, MIN),
    CUSTOM("deny_users", set_deny_users),
    RATIO("identity_reject", struct sg_config, identity_reject_num, identity_reject_den),
    RATIO("risk_reject", struct sg_config, risk_reject_num, risk_reject_den),
    CUSTOM("risk_limits", set_risk_limits),
    RATIO("payout_fail", struct sg_config, payout_fail_num, payout_fail_den),
};
static const struct sg_table services_table = TABLE(services_keys);

/* ---- accounts (the ledger's opening balances) ---- */

#define BALANCE_MAX 1000000000000000LL /* 10^15 minor units per account */

static bool set_default_balance(struct sg_walker *w, const struct sg_key *k, void *target,
                                const yaml_event_t *v)
{
    (void)k;
    struct sg_config *cfg = target;
    uint64_t n = 0;
    if (!sg_walk_whole(w, v, 0, BALANCE_MAX, &n)) return false;
    cfg->default_balance_minor = (int64_t)n;
    return true;
}

/* users: {UUID: balance, ...}: these users' accounts open with their own balance. */
static bool account_user(struct sg_walker *w, void *ctx, const yaml_event_t *key,
                         const char *where)
{
    struct sg_config *cfg = ctx;
    const char *text = sg_walk_scalar(w, key, false);
    char id[37];
    if (!text) return false;
    if (!parse_uuid(text, id))
        return sg_walk_fail(w, key->start_mark, "%s: '%.40s' is not a UUID (8-4-4-4-12 hex"
                            " digits)", where, text);
    for (size_t i = 0; i < cfg->account_count; i++)
        if (strcmp(cfg->accounts[i].user_id, id) == 0)
            return sg_walk_fail(w, key->start_mark, "duplicate key '%s' in %s", text, where);
    if (cfg->account_count == SG_ACCOUNT_MAX)
        return sg_walk_fail(w, key->start_mark, "%s: at most %d users", where, SG_ACCOUNT_MAX);
    sg_walk_set_key(w, where, ".", text);
    uint64_t n = 0;
    if (!next_whole(w, 0, BALANCE_MAX, &n)) return false;
    struct sg_account_seed *a = &cfg->accounts[cfg->account_count++];
    memcpy(a->user_id, id, sizeof id);
    a->balance_minor = (int64_t)n;
    return true;
}

static bool set_account_users(struct sg_walker *w, const struct sg_key *k, void *target,
                              const yaml_event_t *v)
{
    (void)k;
    struct sg_config *cfg = target;
    cfg->account_count = 0;
    return sg_walk_pairs(w, v, account_user, cfg);
}

static const struct sg_key accounts_keys[] = {
    CUSTOM("default_balance", set_default_balance),
    CUSTOM("users", set_account_users),
};
static const struct sg_table accounts_table = TABLE(accounts_keys);

/* ---- faults ---- */

enum fault_base { BASE_DEFAULT, BASE_NONE, BASE_SWARM };

/* The faults mapping is read into this, then applied: base first, then the rates given. */
struct faults_spec {
    struct sg_faults rates;        /* first: rate keys' offsets are sg_faults offsets */
    enum fault_base base;
    bool base_given, swarm_given;
};
_Static_assert(offsetof(struct faults_spec, rates) == 0, "rates first");

static bool parse_base(struct sg_walker *w, const yaml_event_t *v, enum fault_base *out)
{
    const char *text = sg_walk_scalar(w, v, false);
    if (!text) return false;
    if (strcmp(text, "default") == 0) *out = BASE_DEFAULT;
    else if (strcmp(text, "none") == 0) *out = BASE_NONE;
    else if (strcmp(text, "swarm") == 0) *out = BASE_SWARM;
    else
        return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not default, none or swarm",
                            w->key, text);
    return true;
}

static bool set_base(struct sg_walker *w, const struct sg_key *k, void *target,
                     const yaml_event_t *v)
{
    (void)k;
    struct faults_spec *spec = target;
    enum fault_base base = BASE_DEFAULT;
    if (!parse_base(w, v, &base)) return false;
    if (spec->swarm_given && (base == BASE_SWARM) != (spec->base == BASE_SWARM))
        return sg_walk_fail(w, v->start_mark, "%s: contradicts 'swarm' (say one of them)",
                            w->key);
    spec->base = base;
    spec->base_given = true;
    return true;
}

static bool set_swarm(struct sg_walker *w, const struct sg_key *k, void *target,
                      const yaml_event_t *v)
{
    (void)k;
    struct faults_spec *spec = target;
    const char *text = sg_walk_scalar(w, v, true);
    bool on = false;
    const char *why = text ? sg_value_bool(text, &on) : NULL;
    if (!text) return false;
    if (why) return sg_walk_fail(w, v->start_mark, "%s: '%.40s' %s", w->key, text, why);
    if (spec->base_given && on != (spec->base == BASE_SWARM))
        return sg_walk_fail(w, v->start_mark, "%s: contradicts 'base' (say one of them)",
                            w->key);
    if (on) spec->base = BASE_SWARM;
    spec->swarm_given = true;
    return true;
}

static const struct sg_key faults_keys[] = {
    CUSTOM("base", set_base),
    CUSTOM("swarm", set_swarm),
    U32("drop_ppm", struct sg_faults, drop_ppm, 0, 1000000),
    U32("dup_ppm", struct sg_faults, dup_ppm, 0, 1000000),
    U32("spike_ppm", struct sg_faults, spike_ppm, 0, 1000000),
    DUR("spike_max", struct sg_faults, spike_max_ns, 0, MIN),
    DUR0("partition_every", struct sg_faults, partition_every_ns, MS, HOUR),
    DUR("partition_max", struct sg_faults, partition_max_ns, 0, HOUR),
    DUR0("crash_every", struct sg_faults, crash_every_ns, MS, HOUR),
    DUR0("restart_max", struct sg_faults, restart_max_ns, 100 * MS, HOUR),
    U32("crash_point_ppm", struct sg_faults, crash_point_ppm, 0, 1000000),
    U32("keep_pending_pct", struct sg_faults, keep_pending_pct, 0, 100),
    U32("torn_pct", struct sg_faults, torn_pct, 0, 100),
    DUR0("fsync_fail_every", struct sg_faults, fsync_fail_every_ns, MS, HOUR),
    U32("io_error_ppm", struct sg_faults, io_error_ppm, 0, 1000000),
    DUR("clock_skew_max", struct sg_faults, clock_skew_max_ns, 0, HOUR),
    DUR0("clock_jump_every", struct sg_faults, clock_jump_every_ns, MS, HOUR),
    DUR("clock_jump_max", struct sg_faults, clock_jump_max_ns, 0, HOUR),
    U32("drift_ppm_max", struct sg_faults, drift_ppm_max, 0, 1000000),
    DUR0("poison_every", struct sg_faults, poison_every_ns, MS, HOUR),
};
static const struct sg_table faults_table = TABLE(faults_keys);

static void apply_base(struct sg_faults *f, enum fault_base base, uint64_t seed)
{
    if (base == BASE_NONE) sg_faults_none(f);
    else if (base == BASE_SWARM) sg_faults_swarm(f, seed);
    else sg_faults_default(f);
}

/* `faults: none | default | swarm`, or a mapping: base (or swarm: true), then rates. */
static bool set_faults(struct sg_walker *w, const struct sg_key *k, void *target,
                       const yaml_event_t *v)
{
    (void)k;
    struct sg_run_config *rc = target;
    struct faults_spec spec;
    memset(&spec, 0, sizeof spec);
    if (v->type == YAML_SCALAR_EVENT) {
        if (!parse_base(w, v, &spec.base)) return false;
        apply_base(&rc->world.faults, spec.base, w->seed);
        return true;
    }
    if (!sg_walk_expect(w, v, YAML_MAPPING_START_EVENT)) return false;
    char prefix[SG_WALK_KEY_LEN];
    snprintf(prefix, sizeof prefix, "%s", w->key);
    uint32_t seen = 0;
    if (!sg_walk_mapping(w, &faults_table, prefix, &spec, &seen, NULL)) return false;
    apply_base(&rc->world.faults, spec.base, w->seed);
    for (size_t i = 0; i < faults_table.count; i++) {
        const struct sg_key *r = &faults_table.keys[i];
        if (!(seen >> i & 1u) || r->size == 0) continue;
        SG_ASSERT_PURE(r->offset + r->size <= sizeof rc->world.faults);
        memcpy(field(&rc->world.faults, r->offset), field(&spec.rates, r->offset), r->size);
    }
    return true;
}

/* ---- scheduled faults ---- */

/* One item of `scheduled`, read into this and checked as a whole. */
struct sched_spec {
    struct sg_scheduled_fault f;
    const char *kind_name;         /* the kind key given, NULL before */
};

/* A node name (sg_role_name), or "clients" (every client) where clients_ok. */
static bool parse_node(const char *s, bool clients_ok, uint32_t *id_out)
{
    for (int r = 0; r < SG_ROLE_COUNT; r++) {
        if (strcmp(sg_role_name((enum sg_role)r), s) != 0) continue;
        *id_out = sg_role_node_id((enum sg_role)r);
        return true;
    }
    if (!clients_ok || strcmp(s, "clients") != 0) return false;
    *id_out = SG_NODE_CLIENT0;
    return true;
}

/* Removes ASCII spaces at both ends, in place. */
static void trim_spaces(char *s)
{
    size_t n = strlen(s), start = 0;
    while (n > 0 && s[n - 1] == ' ') s[--n] = '\0';
    while (s[start] == ' ') start++;
    memmove(s, s + start, n - start + 1);
}

static bool bad_node(struct sg_walker *w, const yaml_event_t *v, const char *text,
                     bool clients_ok)
{
    return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not a node (broker, orchestrator,"
                        " identity, risk, ledger, payout%s)", w->key, text, clients_ok ? ", clients" : "");
}

static bool set_kind(struct sg_walker *w, struct sched_spec *spec, const yaml_event_t *v,
                     enum sg_scheduled_kind kind, const char *name)
{
    SG_ASSERT_PURE(name != NULL);
    if (spec->kind_name)
        return sg_walk_fail(w, v->start_mark, "%s: one fault per item (this one is already"
                            " '%s')", w->key, spec->kind_name);
    const char *text = sg_walk_scalar(w, v, false);
    if (!text) return false;
    bool clients_ok = kind == SG_SCHED_ISOLATE || kind == SG_SCHED_ONEWAY;
    if (kind == SG_SCHED_POISON) {
        bool known = false;
        for (int t = 0; t < SG_TOPIC_COUNT && !known; t++) known = strcmp(sg_topics[t], text) == 0;
        if (!known || strlen(text) >= sizeof spec->f.topic)
            return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not a topic (cbsaga.cmd.identity,"
                                " cbsaga.evt.identity, cbsaga.cmd.risk, cbsaga.evt.risk,"
                                " cbsaga.evt.withdrawal)", w->key, text);
        snprintf(spec->f.topic, sizeof spec->f.topic, "%s", text);
    } else if (kind == SG_SCHED_CRASH && strcmp(text, "all") == 0) {
        spec->f.a = SG_SCHED_ALL; /* a correlated power loss of every server node */
    } else if (kind == SG_SCHED_CRASH) {
        if (!parse_node(text, false, &spec->f.a))
            return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not a node (broker,"
                                " orchestrator, identity, risk, ledger, payout, all)", w->key, text);
    } else if (kind != SG_SCHED_ONEWAY) {
        if (!parse_node(text, clients_ok, &spec->f.a)) return bad_node(w, v, text, clients_ok);
    } else {
        const char *arrow = strstr(text, "->");
        char from[24], to[24];
        size_t n = arrow ? (size_t)(arrow - text) : 0;
        if (!arrow || n >= sizeof from || strlen(arrow + 2) >= sizeof to)
            return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not FROM->TO (e.g."
                                " broker->orchestrator)", w->key, text);
        memcpy(from, text, n);
        from[n] = '\0';
        strcpy(to, arrow + 2);
        trim_spaces(from); /* "broker -> orchestrator" reads as written */
        trim_spaces(to);
        if (!parse_node(from, true, &spec->f.a)) return bad_node(w, v, from, true);
        if (!parse_node(to, true, &spec->f.b)) return bad_node(w, v, to, true);
        if (spec->f.a == spec->f.b)
            return sg_walk_fail(w, v->start_mark, "%s: a link needs two different nodes",
                                w->key);
    }
    spec->f.kind = kind;
    spec->kind_name = name;
    return true;
}

static bool set_crash(struct sg_walker *w, const struct sg_key *k, void *target,
                      const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_CRASH, k->name);
}

static bool set_isolate(struct sg_walker *w, const struct sg_key *k, void *target,
                        const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_ISOLATE, k->name);
}

static bool set_oneway(struct sg_walker *w, const struct sg_key *k, void *target,
                       const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_ONEWAY, k->name);
}

static bool set_clock_jump(struct sg_walker *w, const struct sg_key *k, void *target,
                           const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_CLOCK_JUMP, k->name);
}

static bool set_fsync_fail(struct sg_walker *w, const struct sg_key *k, void *target,
                           const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_FSYNC_FAIL, k->name);
}

static bool set_poison(struct sg_walker *w, const struct sg_key *k, void *target,
                       const yaml_event_t *v)
{
    return set_kind(w, target, v, SG_SCHED_POISON, k->name);
}

/* `by`: a clock jump, forward or back (not zero). */
static bool set_by(struct sg_walker *w, const struct sg_key *k, void *target,
                   const yaml_event_t *v)
{
    (void)k;
    struct sched_spec *spec = target;
    int64_t ns = 0;
    if (!sg_walk_duration(w, v, true, -HOUR, HOUR, false, &ns)) return false;
    if (ns == 0) return sg_walk_fail(w, v->start_mark, "%s: a jump of 0 changes nothing", w->key);
    spec->f.amount_ns = ns;
    return true;
}

/* `during: commit`: the crash lands inside the node's next COMMIT, between its WAL writes
 * and the sync (sg_vfs_set_down_at_sync). */
static bool set_during(struct sg_walker *w, const struct sg_key *k, void *target,
                       const yaml_event_t *v)
{
    (void)k;
    struct sched_spec *spec = target;
    const char *text = sg_walk_scalar(w, v, false);
    if (!text) return false;
    if (strcmp(text, "commit") != 0)
        return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not a moment (the one there"
                            " is: commit)", w->key, text);
    spec->f.during_commit = true;
    return true;
}

static const struct sg_key sched_keys[] = {
    DUR("at", struct sched_spec, f.at_ns, 0, HOUR),
    DUR("until", struct sched_spec, f.until_ns, 0, HOUR),
    CUSTOM("by", set_by),
    CUSTOM("crash", set_crash),
    CUSTOM("isolate", set_isolate),
    CUSTOM("oneway", set_oneway),
    CUSTOM("clock_jump", set_clock_jump),
    CUSTOM("fsync_fail", set_fsync_fail),
    CUSTOM("poison", set_poison),
    CUSTOM("during", set_during),
    U32("partition", struct sched_spec, f.partition, 0, SG_PARTITIONS_MAX - 1),
};
static const struct sg_table sched_table = TABLE(sched_keys);

/* What one item needs as a whole: a kind, `at`, `until` exactly for partitions (after
 * `at`), `by` exactly for clock jumps. */
static bool check_item(struct sg_walker *w, const struct sched_spec *spec, uint32_t seen,
                       const yaml_mark_t *marks, yaml_mark_t item)
{
    size_t until = key_index(&sched_table, "until"), by = key_index(&sched_table, "by");
    bool has_until = seen >> until & 1u, has_by = seen >> by & 1u;
    if (!spec->kind_name)
        return sg_walk_fail(w, item, "%s: needs one of crash, isolate, oneway, clock_jump,"
                            " fsync_fail, poison", w->key);
    if (!(seen >> key_index(&sched_table, "at") & 1u))
        return sg_walk_fail(w, item, "%s: needs 'at'", w->key);
    bool span = spec->f.kind == SG_SCHED_ISOLATE || spec->f.kind == SG_SCHED_ONEWAY;
    bool crash = spec->f.kind == SG_SCHED_CRASH; /* until: stays down till then */
    if (span && !has_until)
        return sg_walk_fail(w, item, "%s: %s needs 'until'", w->key, spec->kind_name);
    if (!span && !crash && has_until)
        return sg_walk_fail(w, marks[until], "%s: 'until' is only for crash, isolate and"
                            " oneway", w->key);
    size_t during = key_index(&sched_table, "during");
    if (seen >> during & 1u) {
        if (!crash)
            return sg_walk_fail(w, marks[during], "%s: 'during' is only for crash", w->key);
        if (spec->f.a == SG_SCHED_ALL)
            return sg_walk_fail(w, marks[during], "%s: 'during: commit' needs one node, not"
                                " all (each node commits at its own moment)", w->key);
        if (has_until)
            return sg_walk_fail(w, marks[during], "%s: 'during: commit' takes no 'until' (the"
                                " node restarts after the usual delay)", w->key);
    }
    size_t part = key_index(&sched_table, "partition");
    if (spec->f.kind != SG_SCHED_POISON && (seen >> part & 1u))
        return sg_walk_fail(w, marks[part], "%s: 'partition' is only for poison", w->key);
    if (has_until && spec->f.until_ns <= spec->f.at_ns)
        return sg_walk_fail(w, marks[until], "%s: 'until' must be after 'at'", w->key);
    bool jump = spec->f.kind == SG_SCHED_CLOCK_JUMP;
    if (jump && !has_by) return sg_walk_fail(w, item, "%s: clock_jump needs 'by'", w->key);
    if (!jump && has_by)
        return sg_walk_fail(w, marks[by], "%s: 'by' is only for clock_jump", w->key);
    return true;
}

/* One item; the list's start was consumed. Returns false after an error. */
static bool scheduled_item(struct sg_walker *w, const yaml_event_t *item, size_t n)
{
    SG_ASSERT_PURE(n < SG_SCHEDULED_MAX);
    if (!sg_walk_expect(w, item, YAML_MAPPING_START_EVENT)) return false;
    char prefix[SG_WALK_KEY_LEN];
    snprintf(prefix, sizeof prefix, "%s", w->key);
    struct sched_spec spec;
    memset(&spec, 0, sizeof spec);
    uint32_t seen = 0;
    yaml_mark_t marks[SG_WALK_TABLE_MAX];
    if (!sg_walk_mapping(w, &sched_table, prefix, &spec, &seen, marks)) return false;
    sg_walk_set_key(w, prefix, "", "");
    if (!check_item(w, &spec, seen, marks, item->start_mark)) return false;
    w->rc->world.scheduled[n] = spec.f;
    w->at_marks[n] = marks[key_index(&sched_table, "at")];
    return true;
}

static bool set_scheduled(struct sg_walker *w, const struct sg_key *k, void *target,
                          const yaml_event_t *v)
{
    (void)k;
    struct sg_run_config *rc = target;
    if (!sg_walk_expect(w, v, YAML_SEQUENCE_START_EVENT)) return false;
    char list[SG_WALK_KEY_LEN];
    snprintf(list, sizeof list, "%s", w->key);
    for (size_t n = 0; n <= SG_SCHEDULED_MAX; n++) {
        yaml_event_t item;
        if (!sg_walk_next(w, &item)) return false;
        bool end = item.type == YAML_SEQUENCE_END_EVENT;
        char index[24];
        snprintf(index, sizeof index, "[%zu]", n);
        sg_walk_set_key(w, list, "", index);
        bool ok = end || (n < SG_SCHEDULED_MAX ? scheduled_item(w, &item, n)
                                               : sg_walk_fail(w, item.start_mark, "%s: at most"
                                                              " %d scheduled faults", list,
                                                              SG_SCHEDULED_MAX));
        yaml_event_delete(&item);
        if (!ok) return false;
        if (end) {
            rc->world.scheduled_count = n;
            return true;
        }
    }
    SG_WALK_UNREACHABLE("the scheduled loop ended without an error");
}

/* ---- crash point, phases, invariants, name ---- */

/* The index in sg_crashpoints() of "NODE:POINT" (the first len bytes of text), or -1. */
static int point_index(const char *text, size_t len)
{
    size_t count = 0;
    const struct sg_crashpoint *cp = sg_crashpoints(&count);
    for (size_t i = 0; i < count; i++) {
        const char *role = sg_role_name(cp[i].role);
        size_t rl = strlen(role), pl = strlen(cp[i].point);
        if (len == rl + 1 + pl && memcmp(text, role, rl) == 0 && text[rl] == ':' &&
            memcmp(text + rl + 1, cp[i].point, pl) == 0)
            return (int)i;
    }
    return -1;
}

static bool bad_point(struct sg_walker *w, const yaml_event_t *v, const char *text, int len)
{
    return sg_walk_fail(w, v->start_mark, "%s: '%.*s' is not a crash point NODE:POINT (see"
                        " sagasim crashpoints)", w->key, len, text);
}

/* One NODE:POINT[:N], as --crash-at takes it (DESIGN §8.1). */
static bool crash_at_item(struct sg_walker *w, const yaml_event_t *v)
{
    const char *text = sg_walk_scalar(w, v, false);
    if (!text) return false;
    if (!strchr(text, ':'))
        return sg_walk_fail(w, v->start_mark, "%s: '%.40s' is not NODE:POINT[:N]", w->key, text);
    const char *hit = strchr(strchr(text, ':') + 1, ':');
    size_t len = hit ? (size_t)(hit - text) : strlen(text);
    uint64_t n = 1;
    if (hit && (sg_value_whole(hit + 1, &n) != NULL || n == 0 || n > 1000000))
        return sg_walk_fail(w, v->start_mark, "%s: hit count '%.20s' is not 1..1000000",
                            w->key, hit + 1);
    int index = point_index(text, len);
    if (index < 0) return bad_point(w, v, text, len > 80 ? 80 : (int)len);
    size_t count = 0;
    const struct sg_crashpoint *cp = &sg_crashpoints(&count)[index];
    if (!sg_world_add_crash_at(&w->rc->world, cp->role, cp->point, (uint32_t)n))
        return sg_walk_fail(w, v->start_mark, "%s: at most %d crash points", w->key,
                            SG_CRASH_AT_MAX);
    return true;
}

/* crash_at: one NODE:POINT[:N] or a list of them; each crashes its node once. */
static bool set_crash_at(struct sg_walker *w, const struct sg_key *k, void *target,
                         const yaml_event_t *v)
{
    (void)k;
    (void)target;
    if (v->type != YAML_SEQUENCE_START_EVENT) return crash_at_item(w, v);
    char list[SG_WALK_KEY_LEN];
    snprintf(list, sizeof list, "%s", w->key);
    for (size_t n = 0;; n++) {
        yaml_event_t item;
        if (!sg_walk_next(w, &item)) return false;
        if (item.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&item);
            return true;
        }
        char index[24];
        snprintf(index, sizeof index, "[%zu]", n);
        sg_walk_set_key(w, list, "", index);
        bool ok = crash_at_item(w, &item);
        yaml_event_delete(&item);
        if (!ok) return false;
    }
}

/* crash_points: {"NODE:POINT": ppm, ...}: that point's crash rate while faults are on,
 * instead of faults.crash_point_ppm (which the points not named keep). */
static bool crash_rate(struct sg_walker *w, void *ctx, const yaml_event_t *key,
                       const char *where)
{
    struct sg_run_config *rc = ctx;
    const char *name = sg_walk_scalar(w, key, false);
    if (!name) return false;
    int index = point_index(name, strlen(name));
    if (index < 0) return bad_point(w, key, name, 80);
    for (size_t i = 0; i < rc->world.crash_rate_count; i++)
        if ((int)rc->world.crash_rates[i].point == index)
            return sg_walk_fail(w, key->start_mark, "duplicate key '%s' in %s", name, where);
    if (rc->world.crash_rate_count == SG_CRASH_AT_MAX)
        return sg_walk_fail(w, key->start_mark, "%s: at most %d points", where,
                            SG_CRASH_AT_MAX);
    sg_walk_set_key(w, where, ".", name);
    uint64_t ppm = 0;
    if (!next_whole(w, 0, 1000000, &ppm)) return false;
    rc->world.crash_rates[rc->world.crash_rate_count++] =
        (struct sg_crash_rate){(uint32_t)index, (uint32_t)ppm};
    return true;
}

static bool set_crash_points(struct sg_walker *w, const struct sg_key *k, void *target,
                             const yaml_event_t *v)
{
    (void)k;
    return sg_walk_pairs(w, v, crash_rate, target);
}

/* phases.start: {NODE: duration, ...}: a node starts at a chosen time (a consumer group
 * that first fetches after thousands of records exist); the others keep the stagger. */
static bool start_time(struct sg_walker *w, void *ctx, const yaml_event_t *key,
                       const char *where)
{
    struct sg_run_config *rc = ctx;
    const char *name = sg_walk_scalar(w, key, false);
    uint32_t id = 0;
    if (!name) return false;
    if (!parse_node(name, false, &id)) return bad_node(w, key, name, false);
    if (rc->start_at_ns[id] >= 0) /* each node once: the walk ends */
        return sg_walk_fail(w, key->start_mark, "duplicate key '%s' in %s", name, where);
    sg_walk_set_key(w, where, ".", name);
    yaml_event_t value;
    if (!sg_walk_next(w, &value)) return false;
    int64_t ns = 0;
    bool ok = sg_walk_duration(w, &value, false, 0, HOUR, true, &ns);
    yaml_event_delete(&value);
    if (ok) rc->start_at_ns[id] = ns;
    return ok;
}

static bool set_start(struct sg_walker *w, const struct sg_key *k, void *target,
                      const yaml_event_t *v)
{
    (void)k;
    return sg_walk_pairs(w, v, start_time, target);
}

static const struct sg_key phases_keys[] = {
    DUR("safety", struct sg_run_config, safety_ns, MS, HOUR),
    DUR("heal", struct sg_run_config, heal_ns, 0, HOUR),
    DUR("stagger_max", struct sg_run_config, stagger_max_ns, 0, HOUR),
    CUSTOM("start", set_start),
};
static const struct sg_table phases_table = TABLE(phases_keys);

/* Nodes must all be up while withdrawals may still start: a stagger longer than the safety
 * phase would leave a node down for the whole workload (a seed once made 5 withdrawals). */
static bool set_phases(struct sg_walker *w, const struct sg_key *k, void *target,
                       const yaml_event_t *v)
{
    uint32_t seen = 0;
    yaml_mark_t marks[SG_WALK_TABLE_MAX];
    if (!walk_section(w, k, target, v, &seen, marks)) return false;
    const struct sg_run_config *rc = w->rc;
    if (rc->stagger_max_ns < rc->safety_ns) return true;
    size_t stagger = key_index(&phases_table, "stagger_max");
    size_t at = seen >> stagger & 1u ? stagger : key_index(&phases_table, "safety");
    return sg_walk_fail(w, marks[at], "phases: stagger_max must be shorter than the safety"
                        " phase (nodes would start after the workload)");
}

static bool parse_invariant(const char *s, uint32_t *n_out)
{
    uint64_t n = 0;
    if (s[0] != 'I' || sg_value_whole(s + 1, &n) != NULL || n < SG_I1 || n > SG_I14)
        return false;
    *n_out = (uint32_t)n;
    return true;
}

/* The invariants judged; the others go to skip_invariants (bit 1 << n). */
static bool set_invariants(struct sg_walker *w, const struct sg_key *k, void *target,
                           const yaml_event_t *v)
{
    (void)k;
    struct sg_run_config *rc = target;
    if (!sg_walk_expect(w, v, YAML_SEQUENCE_START_EVENT)) return false;
    const uint32_t all = ((1u << SG_INV_COUNT) - 1) & ~1u;
    uint32_t judged = 0;
    for (size_t round = 0; round < SG_INV_COUNT; round++) {
        yaml_event_t item;
        if (!sg_walk_next(w, &item)) return false;
        bool end = item.type == YAML_SEQUENCE_END_EVENT;
        const char *text = end ? NULL : sg_walk_scalar(w, &item, false);
        uint32_t n = 0;
        if (end && judged == 0)
            sg_walk_fail(w, v->start_mark, "%s: an empty list judges nothing (omit the key to"
                         " judge all)", w->key);
        else if (text && !parse_invariant(text, &n))
            sg_walk_fail(w, item.start_mark, "%s: '%.40s' is not an invariant (I1..I14)",
                         w->key, text);
        else if (text && (judged >> n & 1u))
            sg_walk_fail(w, item.start_mark, "%s: '%s' is listed twice", w->key, text);
        yaml_event_delete(&item);
        if (w->failed) return false;
        judged |= n ? 1u << n : 0;
        if (!end) continue;
        rc->skip_invariants = all & ~judged;
        return true;
    }
    SG_WALK_UNREACHABLE("the invariants loop ended without an error");
}

static bool set_name(struct sg_walker *w, const struct sg_key *k, void *target,
                     const yaml_event_t *v)
{
    (void)k;
    (void)target;
    char *name = w->info->name;
    if (!sg_walk_string(w, v, name, sizeof w->info->name)) return false;
    bool ok = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9');
    for (size_t i = 1; ok && name[i]; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '-';
    if (!ok)
        return sg_walk_fail(w, v->start_mark, "%s: '%s' is not lower-case letters, digits"
                            " and '-'", w->key, name);
    if (w->catalogue_name && strcmp(name, w->catalogue_name) != 0)
        return sg_walk_fail(w, v->start_mark, "%s: '%s' differs from the file name '%s.yaml'",
                            w->key, name, w->catalogue_name);
    return true;
}

static bool set_purpose(struct sg_walker *w, const struct sg_key *k, void *target,
                        const yaml_event_t *v)
{
    (void)k;
    (void)target;
    return sg_walk_string(w, v, w->info->purpose, sizeof w->info->purpose);
}

/* require_coverage: [path, ...]: rare paths (coverage.h names) every seed must reach. */
static bool set_require_coverage(struct sg_walker *w, const struct sg_key *k, void *target,
                                 const yaml_event_t *v)
{
    (void)k;
    struct sg_run_config *rc = target;
    if (!sg_walk_expect(w, v, YAML_SEQUENCE_START_EVENT)) return false;
    for (size_t round = 0; round <= SG_COV_COUNT; round++) {
        yaml_event_t item;
        if (!sg_walk_next(w, &item)) return false;
        bool end = item.type == YAML_SEQUENCE_END_EVENT;
        const char *text = end ? NULL : sg_walk_scalar(w, &item, false);
        int found = -1;
        for (int c = 0; text && c < SG_COV_COUNT; c++)
            if (strcmp(sg_coverage_name((enum sg_coverage)c), text) == 0) found = c;
        if (text && found < 0) {
            char names[SG_COV_COUNT * 24] = "";
            size_t used = 0;
            for (int c = 0; c < SG_COV_COUNT && used < sizeof names; c++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                         c ? ", " : "", sg_coverage_name((enum sg_coverage)c));
            sg_walk_fail(w, item.start_mark, "%s: '%.40s' is not a rare path (%s)", w->key,
                         text, names);
        } else if (text && (rc->require_coverage >> found & 1u)) {
            sg_walk_fail(w, item.start_mark, "%s: '%s' is listed twice", w->key, text);
        }
        yaml_event_delete(&item);
        if (w->failed) return false;
        if (end) return true;
        rc->require_coverage |= 1u << found;
    }
    return sg_walk_fail(w, v->start_mark, "%s: more paths than exist", w->key);
}

static const struct sg_key top_keys[] = {
    CUSTOM("name", set_name),
    CUSTOM("purpose", set_purpose),
    {.name = "workload", .set = set_workload, .offset = offsetof(struct sg_run_config, wl),
     .sub = &workload_table},
    {.name = "services", .set = set_section, .offset = offsetof(struct sg_run_config, cfg),
     .sub = &services_table},
    {.name = "accounts", .set = set_section, .offset = offsetof(struct sg_run_config, cfg),
     .sub = &accounts_table},
    CUSTOM("faults", set_faults),
    CUSTOM("scheduled", set_scheduled),
    CUSTOM("crash_at", set_crash_at),
    CUSTOM("crash_points", set_crash_points),
    {.name = "phases", .set = set_phases, .offset = 0, .sub = &phases_table},
    CUSTOM("invariants", set_invariants),
    CUSTOM("require_coverage", set_require_coverage),
};
const struct sg_table sg_scenario_schema = TABLE(top_keys);

bool sg_scenario_finish(struct sg_walker *w)
{
    SG_ASSERT_PURE(w != NULL && !w->failed);
    struct sg_run_config *rc = w->rc;
    SG_ASSERT_PURE(rc->world.scheduled_count <= SG_SCHEDULED_MAX);
    yaml_mark_t start = {0, 0, 0};
    if (w->catalogue_name && (!w->info->name[0] || !w->info->purpose[0]))
        return sg_walk_fail(w, start, "a catalogue file needs 'name' and 'purpose'");
    for (size_t i = 0; i < rc->world.scheduled_count; i++)
        if (rc->world.scheduled[i].at_ns >= rc->safety_ns)
            return sg_walk_fail(w, w->at_marks[i], "scheduled[%zu].at: after the safety phase"
                                " (phases.safety): faults are off then", i);
    for (size_t i = 0; i < rc->world.scheduled_count; i++)
        if (rc->world.scheduled[i].kind == SG_SCHED_POISON &&
            rc->world.scheduled[i].partition >= rc->cfg.partitions)
            return sg_walk_fail(w, w->at_marks[i], "scheduled[%zu].partition: %u, but topics"
                                " have %u partitions (services.partitions)", i,
                                rc->world.scheduled[i].partition, rc->cfg.partitions);
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        if (rc->start_at_ns[r] >= rc->safety_ns)
            return sg_walk_fail(w, start, "phases.start.%s: after the safety phase (phases.safety)",
                                sg_role_name((enum sg_role)r));
    rc->wl.stop_new_at_ns = rc->safety_ns; /* no new withdrawals after the safety phase */
    return true;
}
