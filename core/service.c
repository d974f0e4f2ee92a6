/*
 * service.c: the shared plumbing of a saga service (see service.h).
 */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "bugs.h"
#include "db.h"
#include "migrate.h"
#include "outbox.h"
#include "timer.h"
#include "banned.h"

enum sg_err sg_service_open(struct sg_service *s, const struct sg_env *env,
                            const struct sg_config *cfg, const struct sg_schema *schema,
                            const char *group, const char *const *topics, sg_consume_fn fn,
                            void *fn_ctx)
{
    memset(s, 0, sizeof *s);
    s->env = env;
    s->cfg = cfg;
    s->msg_counter = env->random_u64(env->ctx) >> 16;
    /* PLANTED BUG journal-normal: the orchestrator's database in DELETE + NORMAL mode. */
    bool journal = sg_bug_on(cfg->bugs, SG_BUG_JOURNAL_NORMAL) && schema == &sg_schema_orch;
    enum sg_err err = sg_db_open(env, schema,
                                 journal ? SG_DB_JOURNAL_NORMAL : (enum sg_db_mode)cfg->db_mode,
                                 &s->db);
    if (err != SG_OK) return err;
    sg_relay_init(&s->relay, env, cfg, s->db, &s->msg_counter);
    sg_consumer_init(&s->consumer, env, cfg, s->db, &s->msg_counter, group, topics, fn, fn_ctx);
    return SG_OK;
}

enum sg_err sg_service_start(struct sg_service *s)
{
    sg_consumer_start(&s->consumer);
    return sg_relay_start(&s->relay);
}

enum sg_err sg_service_on_message(struct sg_service *s, const SgEnvelope *e, bool *handled)
{
    *handled = true;
    switch (e->payload_case) {
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK: return sg_relay_on_ack(&s->relay, e);
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE: {
        bool applied = false;
        enum sg_err err = sg_consumer_on_message(&s->consumer, e, &applied);
        if (err == SG_OK && applied) err = sg_relay_kick(&s->relay);
        return err;
    }
    default: *handled = false; return SG_OK;
    }
}

enum sg_err sg_service_on_timer(struct sg_service *s, uint64_t tag, bool *handled)
{
    *handled = true;
    switch (sg_tag_kind(tag)) {
    case SG_TIMER_RELAY_POLL:
    case SG_TIMER_RELAY_RETRY: return sg_relay_on_timer(&s->relay, tag);
    case SG_TIMER_CONSUMER: sg_consumer_on_timer(&s->consumer, tag); return SG_OK;
    default: *handled = false; return SG_OK;
    }
}

enum sg_err sg_service_committed(struct sg_service *s)
{
    return sg_relay_kick(&s->relay);
}

void sg_service_close(struct sg_service *s)
{
    sg_relay_close(&s->relay);
    sg_db_close(&s->db);
}
