/*
 * sched.c: the simulator's event queue, a binary min-heap of struct sg_event.
 *
 * Why a heap: the world pops the earliest event once per step and pushes a few new ones,
 * so both operations must be O(log n) however many messages and timers are in flight.
 *
 * Invariants:
 * - heap[0..count) is a min-heap under before(): (at_ns, seq) compared lexicographically.
 *   Every seq is unique (taken from seq_next, which only grows), so the order is total and
 *   the pop sequence depends on nothing but the pushes: never on addresses or on how the
 *   heap happened to be laid out.
 * - count <= capacity; heap is NULL exactly when capacity is 0.
 * - The queue never looks inside a payload; it frees the ones still queued at deinit only.
 */
#include "sched.h"

#include <stdlib.h>

#include "assert.h"
#include "banned.h"

/* First allocation; later growth doubles, so pushes are amortised O(log n). */
#define SCHED_CAPACITY_INITIAL 64u

static bool before(const struct sg_event *a, const struct sg_event *b)
{
    if (a->at_ns != b->at_ns) return a->at_ns < b->at_ns;
    return a->seq < b->seq;
}

static void swap(struct sg_event *a, struct sg_event *b)
{
    struct sg_event t = *a;
    *a = *b;
    *b = t;
}

static bool grow(struct sg_sched *s)
{
    SG_ASSERT_PURE(s->count == s->capacity);
    size_t capacity_new = s->capacity == 0 ? SCHED_CAPACITY_INITIAL : s->capacity * 2;
    if (capacity_new < s->capacity) return false;
    if (capacity_new > SIZE_MAX / sizeof(struct sg_event)) return false;
    struct sg_event *heap_new = realloc(s->heap, capacity_new * sizeof(struct sg_event));
    if (heap_new == NULL) return false; /* The old array is still valid and still ours. */
    s->heap = heap_new;
    s->capacity = capacity_new;
    SG_ASSERT_PURE(s->count < s->capacity);
    return true;
}

/* Moves heap[i] towards the root until its parent precedes it. Bounded by the depth. */
static void sift_up(struct sg_sched *s, size_t i)
{
    SG_ASSERT_PURE(i < s->count);
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&s->heap[i], &s->heap[parent])) break;
        swap(&s->heap[i], &s->heap[parent]);
        i = parent;
    }
    if (i > 0) SG_ASSERT_PURE(before(&s->heap[(i - 1) / 2], &s->heap[i]));
}

/* Moves heap[i] towards the leaves until it precedes both children. Bounded by the depth. */
static void sift_down(struct sg_sched *s, size_t i)
{
    SG_ASSERT_PURE(i < s->count);
    for (;;) {
        size_t left = 2 * i + 1;
        if (left >= s->count) break;
        size_t least = left;
        size_t right = left + 1;
        if (right < s->count && before(&s->heap[right], &s->heap[left])) least = right;
        if (!before(&s->heap[least], &s->heap[i])) break;
        swap(&s->heap[i], &s->heap[least]);
        i = least;
    }
    SG_ASSERT_PURE(i < s->count);
}

void sg_sched_init(struct sg_sched *s)
{
    SG_ASSERT_PURE(s != NULL);
    *s = (struct sg_sched){.heap = NULL, .count = 0, .capacity = 0, .seq_next = 0};
    SG_ASSERT_PURE(s->count == 0);
}

void sg_sched_deinit(struct sg_sched *s)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(s->count <= s->capacity);
    for (size_t i = 0; i < s->count; i++) free(s->heap[i].payload);
    free(s->heap);
    s->heap = NULL;
    s->count = 0;
    s->capacity = 0;
    /* seq_next stays: a queue reused after deinit never repeats a sequence number. */
}

bool sg_sched_push(struct sg_sched *s, const struct sg_event *ev)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(ev != NULL);
    if (ev->len > 0) SG_ASSERT_PURE(ev->payload != NULL);
    SG_ASSERT_PURE(s->seq_next < UINT64_MAX);
    if (s->count == s->capacity && !grow(s)) return false;

    size_t i = s->count;
    s->heap[i] = *ev;
    s->heap[i].seq = s->seq_next++;
    s->count++;
    sift_up(s, i);
    SG_ASSERT_PURE(s->count <= s->capacity);
    return true;
}

bool sg_sched_pop(struct sg_sched *s, struct sg_event *out)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(out != NULL);
    if (s->count == 0) return false;

    *out = s->heap[0];
    s->count--;
    if (s->count > 0) {
        s->heap[0] = s->heap[s->count];
        sift_down(s, 0);
        /* Postcondition: nothing left in the queue precedes what was just popped. */
        SG_ASSERT_PURE(before(out, &s->heap[0]));
    }
    return true;
}

const struct sg_event *sg_sched_peek(const struct sg_sched *s)
{
    SG_ASSERT_PURE(s != NULL);
    SG_ASSERT_PURE(s->count <= s->capacity);
    return s->count > 0 ? &s->heap[0] : NULL;
}
