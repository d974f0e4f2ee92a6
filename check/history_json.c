/*
 * history_json.c: the history as JSON lines (see history_json.h), with jansson.
 */
#include "history_json.h"

#include <jansson.h>
#include <string.h>

static const char *op_name(enum sg_op op)
{
    return op == SG_OP_GET ? "get" : "create";
}

bool sg_history_write_line(FILE *f, const struct sg_hist_rec *r)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:I, s:s, s:s}",
                          "client", (json_int_t)r->client, "op", op_name(r->op), "key", r->key,
                          "user_id", r->user_id, "asset", r->asset, "amount_minor",
                          (json_int_t)r->amount_minor, "destination_addr", r->destination_addr,
                          "invoke_ns", (json_int_t)r->invoke_ns, "complete_ns",
                          (json_int_t)r->complete_ns, "outcome", sg_outcome_name(r->outcome),
                          "code", (json_int_t)r->code, "withdrawal_id", r->withdrawal_id,
                          "status", r->status);
    if (!o) return false;
    bool ok = json_dumpf(o, f, JSON_COMPACT | JSON_SORT_KEYS) == 0 && fputc('\n', f) != EOF;
    json_decref(o);
    return ok;
}

static bool copy_text(json_t *o, const char *key, char *out, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) >= cap) return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool get_int(json_t *o, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

static const char *parse_record(json_t *o, struct sg_hist_rec *r)
{
    json_int_t client = 0, amount = 0, invoke = 0, complete = 0, code = 0;
    char op[8], outcome[8];
    if (!json_is_object(o)) return "not a JSON object";
    if (!get_int(o, "client", &client) || client < 0 || client > UINT32_MAX) return "bad client";
    if (!copy_text(o, "op", op, sizeof op)) return "bad op";
    if (strcmp(op, "create") == 0) r->op = SG_OP_CREATE;
    else if (strcmp(op, "get") == 0) r->op = SG_OP_GET;
    else return "op must be create or get";
    if (!copy_text(o, "key", r->key, sizeof r->key) ||
        !copy_text(o, "user_id", r->user_id, sizeof r->user_id) ||
        !copy_text(o, "asset", r->asset, sizeof r->asset) ||
        !copy_text(o, "destination_addr", r->destination_addr, sizeof r->destination_addr) ||
        !copy_text(o, "withdrawal_id", r->withdrawal_id, sizeof r->withdrawal_id) ||
        !copy_text(o, "status", r->status, sizeof r->status))
        return "a text field is missing or too long";
    if (!get_int(o, "amount_minor", &amount) || !get_int(o, "invoke_ns", &invoke) ||
        !get_int(o, "complete_ns", &complete) || !get_int(o, "code", &code) || code < 0 ||
        code > UINT32_MAX)
        return "a number field is missing or out of range";
    if (!copy_text(o, "outcome", outcome, sizeof outcome)) return "bad outcome";
    r->outcome = strcmp(outcome, "ok") == 0 ? SG_OUTCOME_OK
                 : strcmp(outcome, "fail") == 0 ? SG_OUTCOME_FAIL
                 : strcmp(outcome, "unknown") == 0 ? SG_OUTCOME_UNKNOWN : 0;
    if (!r->outcome) return "outcome must be ok, fail or unknown";
    r->client = (uint32_t)client;
    r->amount_minor = (int64_t)amount;
    r->invoke_ns = (int64_t)invoke;
    r->complete_ns = (int64_t)complete;
    r->code = (uint32_t)code;
    return NULL;
}

bool sg_history_load_json(const char *path, struct sg_history *h, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "%s: cannot open", path);
        return false;
    }
    bool ok = true;
    for (size_t line = 1; ok; line++) {
        json_error_t je;
        json_t *o = json_loadf(f, JSON_DISABLE_EOF_CHECK, &je);
        if (!o) {
            int c;
            while ((c = fgetc(f)) == '\n' || c == ' ') {}
            if (c == EOF) break; /* the end */
            snprintf(err, cap, "%s:%zu: %s", path, line, je.text);
            ok = false;
            break;
        }
        struct sg_hist_rec *r = sg_history_add(h);
        const char *why = r ? parse_record(o, r) : "out of memory";
        json_decref(o);
        if (why) {
            snprintf(err, cap, "%s:%zu: %s", path, line, why);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}
