/*
 * broker_tail.c: the newest records of a partition in memory (broker_tail.h).
 */
#include "broker_tail.h"

#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

static struct sg_tail_rec *at(struct sg_tail *t, uint32_t i)
{
    return &t->rec[(t->head + i) % SG_TAIL_MAX];
}

static void rec_free(struct sg_tail_rec *r)
{
    free(r->key);
    memset(r, 0, sizeof *r);
}

void sg_tail_push(const struct sg_env *env, struct sg_tail *t, uint64_t offset,
                  const char *key, const uint8_t *value, size_t value_len)
{
    SG_ASSERT(env, t->n <= SG_TAIL_MAX);
    if (t->n > 0) SG_ASSERT(env, at(t, t->n - 1)->offset + 1 == offset);
    if (t->n == SG_TAIL_MAX) { /* full: the oldest goes */
        rec_free(at(t, 0));
        t->head = (t->head + 1) % SG_TAIL_MAX;
        t->n--;
    }
    size_t klen = strlen(key);
    char *mem = malloc(klen + 1 + value_len);
    SG_ASSERT(env, mem != NULL);
    memcpy(mem, key, klen + 1);
    if (value_len) memcpy(mem + klen + 1, value, value_len);
    struct sg_tail_rec *r = at(t, t->n++);
    *r = (struct sg_tail_rec){offset, mem, (uint8_t *)mem + klen + 1, value_len};
    SG_ASSERT(env, t->n >= 1 && t->n <= SG_TAIL_MAX);
}

bool sg_tail_get(const struct sg_env *env, const struct sg_tail *t, uint64_t from,
                 uint32_t max, SgRecord *out, size_t *n_out)
{
    SG_ASSERT(env, max > 0);
    *n_out = 0;
    if (t->n == 0) return false;
    const struct sg_tail_rec *first = &t->rec[t->head];
    if (from < first->offset || from - first->offset >= t->n) return false;
    uint32_t skip = (uint32_t)(from - first->offset);
    uint32_t n = t->n - skip < max ? t->n - skip : max;
    for (uint32_t i = 0; i < n; i++) {
        const struct sg_tail_rec *r = &t->rec[(t->head + skip + i) % SG_TAIL_MAX];
        SG_ASSERT(env, r->offset == from + i);
        SgRecord *o = &out[i];
        sagasim__node__v1__record__init(o);
        o->offset = r->offset;
        o->key = r->key;
        o->value.data = r->value;
        o->value.len = r->value_len;
    }
    *n_out = n;
    return true;
}

void sg_tail_clear(struct sg_tail *t)
{
    for (uint32_t i = 0; i < t->n; i++) rec_free(at(t, i));
    t->head = 0;
    t->n = 0;
}
