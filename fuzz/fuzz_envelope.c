/*
 * fuzz_envelope.c: the bytes between nodes: Envelope and Event decoding (core/wire.h), and
 * what a live node does with any message (core/node.h: sg_node_on_message).
 *
 * Why: every node reads bytes from the network, and every consumer reads broker records
 * that any producer (or the simulator's poison injector) may have written. node.h promises
 * that bytes which do not decode are dropped, never a crash; DESIGN §1 promises that
 * undecodable or unknown records are recorded as rejected and skipped. An assertion that a
 * message can reach is a validation by assert (STYLE.md "Errors" forbids it).
 *
 * Input: byte 0 chooses the receiving node (bits 0-1: broker, orchestrator, identity,
 * risk) and steering (bit 2, below); the rest is the message (ideally one Envelope).
 *
 * Properties (a violation traps):
 * - sg_wire_decode and sg_event_decode never crash, on the message and on every record
 *   value it carries;
 * - whatever decodes packs to bytes that decode and pack to the same bytes again, with
 *   get_packed_size agreeing (re-encode/decode round-trips), except for a protobuf-c quirk
 *   with field number 0 (has_field_zero says which);
 * - a decoded event's accessors agree with sg_event_pack: packing its type and fields
 *   gives an event with the same type, name, ids, reason and withdrawal reference;
 * - the node never fails an assertion handling the message, nor do the steps that follow
 *   for RUN_AFTER_NS of virtual time (the world's panic hook longjmps back here, and the
 *   panic is turned into a trap naming the assertion); every message a node sends to a
 *   client decodes.
 *
 * Steering (bit 2): a random correlation id never matches the one in-flight request a
 * consumer or relay waits for, and a random withdrawal id never names a withdrawal, so
 * without help the fuzzer would only ever reach "stale, ignored". When steering, the
 * harness rewrites the decoded message before the node sees it: a FetchResponse or
 * CommitAck gets the correlation id of a consumer subscription waiting for one (chosen by
 * the message's partition field), a ProduceAck the relay's in-flight produce id; a
 * withdrawal id that is not a UUID (in a GetWithdrawal, or in any event of a
 * FetchResponse's records) is replaced by one of the last KNOWN_MAX withdrawal ids the
 * orchestrator handed out (chosen by the id's length). The rewritten message is packed and
 * delivered as bytes, through sg_node_on_message.
 *
 * State, and what that means for reproducing: one world per process (a seeded simulated
 * system with the four nodes started, faults off, 1 ms latency, work steps without delay,
 * and a few withdrawals created at start), made on the first input and rebuilt after
 * WORLD_INPUTS_MAX inputs. Each input advances virtual time by RUN_AFTER_NS, so its effect
 * can depend on the inputs before it: the fuzzer is not deterministic per input (accepted
 * for a fuzzer). A crash input replayed alone runs on a fresh world; when it does not
 * reproduce that way, replay the run's corpus in order with the crash input last, or set
 * SG_FUZZ_FRESH_WORLD=1 to rebuild the world for every input (deterministic, ~100 inputs/s)
 * and let libFuzzer find a self-contained reproducer. SG_FUZZ_TRACE=1 prints the world's
 * trace records (what every node did) on stderr.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ids.h"
#include "wire.h"
#include "world.h"

#define MS 1000000LL
#define RUN_AFTER_NS (2 * MS)

enum {
    SEED = 1,
    KNOWN_MAX = 8,
    WORLD_INPUTS_MAX = 20000,
    START_CREATES = 3,
    STEER_RECORDS_MAX = 64,
    STEER_BIT = 4,
};

struct harness {
    struct sg_world w;
    char known[KNOWN_MAX][SG_UUID_LEN + 1]; /* withdrawal ids handed out, a ring */
    size_t known_count, known_next;
    uint64_t inputs;
    uint64_t msg_id;
};

static struct harness *g;

/* ---- codec properties ---- */

/* True when m or a message inside it kept an unknown field numbered 0. protobuf-c 1.4.1
 * rejects the tag byte 0x00 but accepts an overlong zero tag (0x80 0x00), keeps it as an
 * unknown field and packs it back as 0x00, which its own unpack then refuses: a quirk of
 * the (uninstrumented) library, harmless here because no node re-packs what it received. */
static bool has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0) return true;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
            ProtobufCMessage *const *subs =
                *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (has_field_zero(subs[k])) return true;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(const void *)(base + f->offset);
        if (sub && has_field_zero(sub)) return true;
    }
    return false;
}

/* Packs m, unpacks, packs again: the same bytes, and the sizes agree. */
static void check_repack(const ProtobufCMessage *m)
{
    if (has_field_zero(m)) return;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b1 = malloc(n ? n : 1), *b2 = malloc(n ? n : 1);
    FUZZ_CHECK(b1 != NULL && b2 != NULL);
    FUZZ_CHECK(protobuf_c_message_pack(m, b1) == n);
    ProtobufCMessage *m2 = protobuf_c_message_unpack(m->descriptor, NULL, n, b1);
    FUZZ_CHECK(m2 != NULL);
    FUZZ_CHECK(protobuf_c_message_get_packed_size(m2) == n);
    FUZZ_CHECK(protobuf_c_message_pack(m2, b2) == n);
    FUZZ_CHECK(memcmp(b1, b2, n) == 0);
    protobuf_c_message_free_unpacked(m2, NULL);
    free(b1);
    free(b2);
}

static void check_ref(const SgWithdrawalRef *a, const SgWithdrawalRef *b)
{
    FUZZ_CHECK(b != NULL);
    FUZZ_CHECK(strcmp(a->withdrawal_id, b->withdrawal_id) == 0);
    FUZZ_CHECK(strcmp(a->user_id, b->user_id) == 0);
    FUZZ_CHECK(strcmp(a->asset, b->asset) == 0);
    FUZZ_CHECK(a->amount_minor == b->amount_minor);
    FUZZ_CHECK(strcmp(a->destination_addr, b->destination_addr) == 0);
}

/* The accessors, and sg_event_pack as their inverse. */
static void check_event_fields(const SgEvent *ev)
{
    enum sg_event_type t = sg_event_type_of(ev);
    const char *wid = sg_event_withdrawal_id(ev), *reason = sg_event_reason(ev);
    FUZZ_CHECK(wid != NULL && reason != NULL);
    if (t == SG_EVT_COUNT) return; /* no payload: nothing to pack */
    FUZZ_CHECK(sg_event_name(t) != NULL && sg_event_route(t) != NULL);
    const SgWithdrawalRef *ref = sg_event_ref(ev);
    struct sg_event_fields f = {.withdrawal_id = wid, .user_id = ref ? ref->user_id : "",
                                .asset = ref ? ref->asset : "",
                                .amount_minor = ref ? ref->amount_minor : 0,
                                .destination_addr = ref ? ref->destination_addr : "",
                                .reason = reason, .aggregate_id = ev->aggregate_id};
    uint8_t *bytes = NULL;
    size_t len = 0;
    FUZZ_CHECK(sg_event_pack(t, &f, ev->event_id, ev->trace_id, ev->created_at, &bytes, &len) ==
               SG_OK);
    SgEvent *back = sg_event_decode(bytes, len);
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(sg_event_type_of(back) == t);
    FUZZ_CHECK(strcmp(back->event_type, sg_event_name(t)) == 0);
    FUZZ_CHECK(strcmp(back->event_id, ev->event_id) == 0);
    FUZZ_CHECK(strcmp(back->aggregate_id, ev->aggregate_id) == 0);
    FUZZ_CHECK(strcmp(sg_event_withdrawal_id(back), wid) == 0);
    FUZZ_CHECK(strcmp(sg_event_reason(back), reason) == 0);
    if (ref) check_ref(ref, sg_event_ref(back));
    sg_event_free(back);
    free(bytes);
}

static void check_event_bytes(const uint8_t *bytes, size_t len)
{
    SgEvent *ev = sg_event_decode(bytes, len);
    if (!ev) return;
    check_repack(&ev->base);
    check_event_fields(ev);
    sg_event_free(ev);
}

static void check_records(SgRecord *const *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) check_event_bytes(recs[i]->value.data, recs[i]->value.len);
}

/* Decodes the message as an Envelope: round trip, and every record value as an Event. */
static void check_envelope(const SgEnvelope *e)
{
    check_repack(&e->base);
    if (e->payload_case == SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE)
        check_records(e->produce->records, e->produce->n_records);
    if (e->payload_case == SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE)
        check_records(e->fetch_response->records, e->fetch_response->n_records);
}

/* ---- the world ---- */

static void remember(struct harness *h, const char *withdrawal_id)
{
    if (!sg_uuid_valid(withdrawal_id, strlen(withdrawal_id))) return;
    for (size_t i = 0; i < h->known_count; i++)
        if (strcmp(h->known[i], withdrawal_id) == 0) return;
    memcpy(h->known[h->known_next], withdrawal_id, SG_UUID_LEN + 1);
    h->known_next = (h->known_next + 1) % KNOWN_MAX;
    if (h->known_count < KNOWN_MAX) h->known_count++;
}

/* Every message to a client id: it must decode; create answers teach us withdrawal ids. */
static void on_client(void *ctx, uint32_t client, const uint8_t *bytes, size_t len,
                      uint64_t tag)
{
    (void)client;
    (void)tag;
    struct harness *h = ctx;
    if (!bytes) return;
    SgEnvelope *e = sg_wire_decode(bytes, len);
    FUZZ_CHECK(e != NULL);
    if (e->payload_case == SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_REPLY)
        remember(h, e->reply->withdrawal_id);
    sg_wire_free(e);
}

static _Noreturn void panicked(const struct sg_world *w)
{
    fprintf(stderr, "fuzz: assertion failed in a node: %s\n", w->panic_what);
    fuzz_fail(__FILE__, __LINE__, "no node assertion fails");
}

static void client_create(struct harness *h, const char *key)
{
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest c =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    c.user_id = (char *)"6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab";
    c.asset = (char *)"BTC";
    c.amount_minor = 1000;
    c.destination_addr = (char *)"bc1-fuzz";
    c.idempotency_key = (char *)key;
    SgEnvelope e = SAGASIM__NODE__V1__ENVELOPE__INIT;
    e.msg_id = ++h->msg_id;
    e.from = SG_NODE_CLIENT0;
    e.to = SG_NODE_ORCH;
    e.payload_case = SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_CREATE;
    e.create = &c;
    sg_world_client_send_envelope(&h->w, &e);
}

static void world_free(void)
{
    if (!g) return;
    sg_world_deinit(&g->w);
    free(g);
    g = NULL;
}

/* SG_FUZZ_TRACE=1: every trace record of the world on stderr (debugging a crash input). */
static void print_record(void *ctx, int64_t at_ns, uint32_t node, const char *text)
{
    (void)ctx;
    fprintf(stderr, "%lld %u %s\n", (long long)at_ns, node, text);
}

static void world_new(void)
{
    g = calloc(1, sizeof *g);
    FUZZ_CHECK(g != NULL);
    struct sg_config cfg;
    sg_config_default(&cfg);
    cfg.work_delay_max_ns = 0;
    struct sg_world_options opt;
    sg_world_options_default(&opt);
    opt.latency_min_ns = opt.latency_max_ns = MS;
    FUZZ_CHECK(sg_world_init(&g->w, SEED, &cfg, &opt));
    sg_world_set_client(&g->w, on_client, g);
    if (getenv("SG_FUZZ_TRACE")) g->w.trace.sink = print_record;
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        FUZZ_CHECK(sg_world_start(&g->w, (enum sg_role)r) == SG_OK);
    char key[16];
    for (int i = 0; i < START_CREATES; i++) {
        snprintf(key, sizeof key, "start-%d", i);
        client_create(g, key);
    }
    if (!sg_world_run_until(&g->w, 5 * MS)) panicked(&g->w);
}

static struct harness *world_get(void)
{
    static int fresh = -1;
    if (fresh < 0) {
        fresh = getenv("SG_FUZZ_FRESH_WORLD") != NULL;
        atexit(world_free);
    }
    if (g && (fresh || g->inputs >= WORLD_INPUTS_MAX)) world_free();
    if (!g) world_new();
    g->inputs++;
    return g;
}

/* ---- steering ---- */

/* Pointer swaps made while steering; undone before the decoded message is freed. */
struct undo {
    char **str_slot[STEER_RECORDS_MAX + 1];
    char *str_old[STEER_RECORDS_MAX + 1];
    size_t strs;
    ProtobufCBinaryData *bin_slot[STEER_RECORDS_MAX];
    ProtobufCBinaryData bin_old[STEER_RECORDS_MAX];
    size_t bins;
};

static void undo_all(struct undo *u)
{
    for (size_t i = 0; i < u->strs; i++) *u->str_slot[i] = u->str_old[i];
    for (size_t i = 0; i < u->bins; i++) {
        free(u->bin_slot[i]->data);
        *u->bin_slot[i] = u->bin_old[i];
    }
}

/* A known withdrawal id for a field that holds no UUID (or NULL: keep the field). */
static void steer_id(struct harness *h, struct undo *u, char **slot)
{
    size_t len = strlen(*slot);
    if (h->known_count == 0 || sg_uuid_valid(*slot, len) || u->strs > STEER_RECORDS_MAX) return;
    u->str_slot[u->strs] = slot;
    u->str_old[u->strs++] = *slot;
    *slot = h->known[len % h->known_count];
}

/* The withdrawal id field of an event's payload, or NULL. */
static char **event_id_slot(SgEvent *ev)
{
    switch (ev->payload_case) {
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_REQUESTED:
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_VERIFY_IDENTITY_REQUESTED:
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_CHECK_REQUESTED: {
        SgWithdrawalRef *ref = (SgWithdrawalRef *)sg_event_ref(ev);
        return ref ? &ref->withdrawal_id : NULL;
    }
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_IN_PROGRESS:
        return &ev->withdrawal_in_progress->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_COMPLETED:
        return &ev->withdrawal_completed->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_FAILED:
        return &ev->withdrawal_failed->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_WITHDRAWAL_CANCELED:
        return &ev->withdrawal_canceled->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_IDENTITY_VERIFIED:
        return &ev->identity_verified->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_IDENTITY_REJECTED:
        return &ev->identity_rejected->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_APPROVED:
        return &ev->risk_approved->withdrawal_id;
    case CBSAGA__EVENTS__V1__EVENT__PAYLOAD_RISK_REJECTED:
        return &ev->risk_rejected->withdrawal_id;
    default: return NULL;
    }
}

/* Re-packs each record's event with a known withdrawal id. */
static void steer_records(struct harness *h, struct undo *u, SgRecord **recs, size_t n)
{
    for (size_t i = 0; i < n && u->bins < STEER_RECORDS_MAX; i++) {
        SgEvent *ev = sg_event_decode(recs[i]->value.data, recs[i]->value.len);
        char **slot = ev ? event_id_slot(ev) : NULL;
        struct undo inner = {.strs = 0, .bins = 0};
        if (slot) steer_id(h, &inner, slot);
        if (inner.strs > 0) {
            size_t len = protobuf_c_message_get_packed_size(&ev->base);
            uint8_t *bytes = malloc(len ? len : 1);
            FUZZ_CHECK(bytes != NULL);
            FUZZ_CHECK(protobuf_c_message_pack(&ev->base, bytes) == len);
            undo_all(&inner);
            u->bin_slot[u->bins] = &recs[i]->value;
            u->bin_old[u->bins++] = recs[i]->value;
            recs[i]->value.data = bytes;
            recs[i]->value.len = len;
        }
        sg_event_free(ev);
    }
}

/* Points each record that names no subscription of the consumer at one (chosen by its
 * partition), so that fuzzed records reach the consumer's handlers instead of being
 * skipped. */
static void steer_parts(struct undo *u, struct sg_consumer *c, SgRecord **recs, size_t n)
{
    for (size_t i = 0; i < n && u->strs < STEER_RECORDS_MAX && c->sub_count > 0; i++) {
        if (sg_consumer_sub_of(c, recs[i]->topic, recs[i]->partition)) continue;
        const struct sg_consumer_sub *s = &c->subs[recs[i]->partition % c->sub_count];
        u->str_slot[u->strs] = &recs[i]->topic;
        u->str_old[u->strs++] = recs[i]->topic;
        recs[i]->topic = (char *)s->topic;
        recs[i]->partition = s->partition;
    }
}

static void steer(struct harness *h, struct sg_node *n, SgEnvelope *e, struct undo *u)
{
    struct sg_service *svc = n->role == SG_ROLE_ORCH ? &n->u.orch.svc
                           : n->role == SG_ROLE_BROKER ? NULL : &n->u.decider.svc;
    switch (e->payload_case) {
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_GET:
        if (n->role == SG_ROLE_ORCH) steer_id(h, u, &e->get->withdrawal_id);
        break;
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_FETCH_RESPONSE:
        if (svc && svc->consumer.fetching) e->correlation_id = svc->consumer.msg_id;
        if (svc) steer_parts(u, &svc->consumer, e->fetch_response->records,
                             e->fetch_response->n_records);
        steer_records(h, u, e->fetch_response->records, e->fetch_response->n_records);
        break;
    case SAGASIM__NODE__V1__ENVELOPE__PAYLOAD_PRODUCE_ACK:
        if (svc && svc->relay.in_flight) e->correlation_id = svc->relay.msg_id;
        break;
    default: break;
    }
}

/* ---- the node step ---- */

/* One message to a node, inside the world's panic frame. Nothing here is live across the
 * longjmp: a panic never returns. */
static enum sg_err deliver(struct sg_world *w, struct sg_node *n, const uint8_t *bytes,
                           size_t len)
{
    if (setjmp(w->panic_jmp) != 0) panicked(w);
    w->panic_armed = true;
    enum sg_err err = sg_node_on_message(n, bytes, len);
    w->panic_armed = false;
    return err;
}

static void run_node(struct harness *h, enum sg_role role, bool steering, SgEnvelope *e,
                     const uint8_t *bytes, size_t len)
{
    struct sg_world *w = &h->w;
    struct sg_node *n = sg_world_node(w, role);
    if (n) {
        uint8_t *packed = NULL;
        if (e && steering) {
            struct undo u = {.strs = 0, .bins = 0};
            steer(h, n, e, &u);
            len = sagasim__node__v1__envelope__get_packed_size(e);
            packed = malloc(len ? len : 1);
            FUZZ_CHECK(packed != NULL);
            FUZZ_CHECK(sagasim__node__v1__envelope__pack(e, packed) == len);
            undo_all(&u);
            bytes = packed;
        }
        enum sg_err err = deliver(w, n, bytes, len);
        free(packed);
        if (err == SG_ERR_CRASHED) sg_world_crash(w, role, true);
    }
    if (!sg_world_run_until(w, w->now_ns + RUN_AFTER_NS)) panicked(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    enum sg_role role = (enum sg_role)(data[0] & 3);
    bool steering = (data[0] & STEER_BIT) != 0;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    SgEnvelope *e = sg_wire_decode(msg, len);
    if (e) check_envelope(e);
    check_event_bytes(msg, len);
    run_node(world_get(), role, steering, e, msg, len);
    sg_wire_free(e);
    return 0;
}
