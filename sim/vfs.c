/*
 * vfs.c: the simulated disk, an in-memory SQLite VFS (contract in vfs.h, fault model in
 * notes/sqlite-fault-model.md).
 *
 * Why it exists: the simulator must decide exactly what a power loss keeps, so every byte
 * SQLite writes lives here, in two images per file: the current one, what reads see, and
 * the durable one, what the last successful xSync covered (they share every sector buffer
 * where they agree: see the invariants). A crash settles every pending (dirty) sector to
 * old, new or a mix of their 512-byte chunks, writes the result into both images, and
 * leaves every other sector alone: the legal fault model, never touching synced bytes.
 * Nothing here reads a clock, a random source or a real file: time and randomness come
 * from the hooks and from the PRNG streams the fault policies bring.
 *
 * Invariants:
 * - A file image is linked (in v->files, reachable by path), a pending delete (in
 *   v->deleted: removed by an xDelete with dirSync == 0, still able to come back at a
 *   crash), or an orphan that only open handles still reference (deleted while open, as
 *   on POSIX); never linked and pending at once. An image is freed when it is none of
 *   linked, pending and referenced, so a handle never points at freed memory.
 * - At most one pending delete per path; each has a durable existence; while a path has
 *   one, the file linked at that path (if any) has none. A sync in the directory, a
 *   directory-syncing delete there, a main database created at the path, a crash or a
 *   wipe ends a pending delete; undone at a crash, its image is linked again as it is.
 * - A file is an array of 4096-byte sectors, each with two buffer pointers: `cur`, what
 *   reads see, and `old`, its durable bytes (NULL: a hole, zeros). A sector whose bit in
 *   `dirty` is clear has one buffer for both; a dirty one has a buffer of its own in `cur`
 *   (made at its first write since the last sync), whose 512-byte chunks are `fresh`
 *   once written: the others still read from `old`. So a write copies its own bytes and
 *   at most two partial chunks, xSync copies only the chunks a commit did not write, and
 *   nothing is reallocated and copied as a file grows: WAL commits sync often (a frame is
 *   4,120 bytes, never sector-aligned) and databases grow to several MB. Growing a file
 *   marks the whole new range dirty.
 *   Bytes past the end of a file (data_size for cur, durable_size for old) are nobody's:
 *   growing a file zeros them first.
 * - `pending` is true exactly when a write or truncate happened since the last successful
 *   sync. `exists_durable` is set for a main database at creation (SQLite never syncs a
 *   directory) and for any other file at its first successful sync; a crash removes a file
 *   without it.
 * - Locks follow os_unix within one process: shared_count counts handles at SHARED or
 *   above; at most one handle holds RESERVED or above, and writer_lock is its level.
 * - Every size is bounded: FILE_BYTES_MAX per file, FILE_COUNT_MAX files plus pending
 *   deletes per VFS.
 * - While a disk is down nothing under its prefix changes and nothing is read from it:
 *   every method that touches the disk refuses, except xUnlock and xClose, which only
 *   release locks and memory (a crashed node must be able to abandon its connections).
 * - Every random choice (crash faults, transient errors) draws from the stream the caller
 *   passed with the policy, in an order fixed by file and sector order: a seed replays.
 */
#include "vfs.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "banned.h"

#define SECTOR_BYTES ((size_t)4096)
#define FILE_BYTES_MAX ((size_t)1 << 30)
#define FILE_COUNT_MAX ((size_t)4096)
#define PATH_BYTES_MAX 512
#define UNIX_EPOCH_JULIAN_MS ((sqlite3_int64)210866760000000)
#define NS_PER_MS ((int64_t)1000000)
#define TEMP_PREFIX "/.sgtmp/"
#define CHUNK_BYTES ((size_t)512) /* the unit of a torn sector */
#define CHUNKS_PER_SECTOR (SECTOR_BYTES / CHUNK_BYTES)
#define CHUNK_MASK_ALL ((uint32_t)((1u << CHUNKS_PER_SECTOR) - 1))
#define RANDOM_REJECTIONS_MAX 64
#define SPARE_SECTORS_MAX ((size_t)4096) /* 16 MB of freed sectors kept per VFS */

struct sg_vfs_file_image {
    struct sg_vfs *v; /* its sector buffers come from and go back to v's spares */
    char *path;
    unsigned char **cur; /* per sector: what reads see (NULL: a hole, zeros) */
    unsigned char **old; /* per sector: its durable bytes; the same buffer unless dirty */
    uint8_t *fresh;      /* per dirty sector: bit c set = chunk c written since the sync */
    size_t slot_cap;     /* slots in cur and old, bits in dirty: a multiple of 64 */
    uint64_t *dirty;     /* one bit per slot: written since the last sync */
    size_t data_size, durable_size;
    size_t sectors_held; /* distinct buffers in cur and old */
    uint32_t refs;   /* open handles */
    uint32_t shared_count;
    int writer_lock; /* SQLITE_LOCK_NONE or the level of the one RESERVED+ holder */
    bool linked, pending, exists_durable;
    bool delete_pending; /* in v->deleted (see the invariants) */
};

/* SQLite allocates szOsFile bytes and casts: `base` must come first. */
struct vfs_handle {
    sqlite3_file base;
    struct sg_vfs *v;
    struct sg_vfs_file_image *img;
    int lock;
    int flags;
};

static bool has_prefix(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static void prefix_copy(char *out, const char *prefix)
{
    size_t len = strlen(prefix);
    SG_ASSERT_PURE(len < SG_VFS_PREFIX_BYTES);
    memcpy(out, prefix, len + 1);
}

/* Uniform in [0, bound) without modulo bias: draws below 2^64 mod bound are redrawn. The
 * chance of a redraw is below one half, so the bound ends the loop only in theory. */
static uint64_t random_below(uint64_t (*random_u64)(void *ctx), void *ctx, uint64_t bound)
{
    SG_ASSERT_PURE(bound > 0);
    uint64_t threshold = (0 - bound) % bound;
    uint64_t x = random_u64(ctx);
    for (int i = 0; i < RANDOM_REJECTIONS_MAX && x < threshold; i++) x = random_u64(ctx);
    return x % bound;
}

/* True with chance num/den; den == 0 means never. Certain outcomes draw nothing. */
static bool random_chance(uint64_t (*random_u64)(void *ctx), void *ctx, uint32_t num,
                          uint32_t den)
{
    if (den == 0 || num == 0) return false;
    SG_ASSERT_PURE(num <= den);
    if (num == den) return true;
    return random_below(random_u64, ctx, den) < num;
}

/* ---- down disks ----------------------------------------------------------------------- */

static bool path_down(const struct sg_vfs *v, const char *path)
{
    SG_ASSERT_PURE(v->down_count <= SG_VFS_DOWN_MAX);
    for (uint32_t i = 0; i < v->down_count; i++) {
        if (has_prefix(path, v->down_prefix[i])) return true;
    }
    return false;
}

/* True (and counted) when an operation on path must fail because its disk is down. */
static bool refuse_down(struct sg_vfs *v, const char *path)
{
    if (!path_down(v, path)) return false;
    v->stats.down_failures++;
    return true;
}

static uint32_t down_find(const struct sg_vfs *v, const char *prefix)
{
    uint32_t i = 0;
    while (i < v->down_count && strcmp(v->down_prefix[i], prefix) != 0) i++;
    return i;
}

static void down_add(struct sg_vfs *v, const char *prefix)
{
    if (down_find(v, prefix) < v->down_count) return;
    SG_ASSERT_PURE(v->down_count < SG_VFS_DOWN_MAX);
    prefix_copy(v->down_prefix[v->down_count++], prefix);
    SG_ASSERT_PURE(down_find(v, prefix) < v->down_count);
}

/* Whether a write, sync, truncate or delete on path may run: not while its disk is down,
 * and the operation that finds an armed countdown at zero takes its disk down. */
static bool mutation_allowed(struct sg_vfs *v, const char *path)
{
    if (refuse_down(v, path)) return false;
    if (!v->down_after_armed || !has_prefix(path, v->down_after_prefix)) return true;
    if (v->down_after_count > 0) {
        v->down_after_count--;
        return true;
    }
    v->down_after_armed = false;
    down_add(v, v->down_after_prefix);
    v->stats.down_failures++;
    SG_ASSERT_PURE(path_down(v, path));
    return false;
}

/* Index of the sync arm (sg_vfs_set_down_at_sync) whose prefix is exactly prefix. */
static uint32_t sync_arm_find(const struct sg_vfs *v, const char *prefix)
{
    uint32_t i = 0;
    while (i < v->down_at_sync_count && strcmp(v->down_at_sync[i], prefix) != 0) i++;
    return i;
}

static void sync_arm_remove(struct sg_vfs *v, uint32_t i)
{
    SG_ASSERT_PURE(i < v->down_at_sync_count);
    memmove(&v->down_at_sync[i], &v->down_at_sync[i + 1],
            (v->down_at_sync_count - i - 1) * sizeof v->down_at_sync[0]);
    v->down_at_sync_count--;
}

/* A sync on path whose disk is armed by sg_vfs_set_down_at_sync: the disk goes down. */
static bool sync_takes_down(struct sg_vfs *v, const char *path)
{
    for (uint32_t i = 0; i < v->down_at_sync_count; i++) {
        if (!has_prefix(path, v->down_at_sync[i])) continue;
        down_add(v, v->down_at_sync[i]);
        sync_arm_remove(v, i);
        v->stats.down_failures++;
        SG_ASSERT_PURE(path_down(v, path));
        return true;
    }
    return false;
}

/* An injected transient error on path (sg_vfs_set_io_faults), with chance num/den. */
static bool io_fault(struct sg_vfs *v, const char *path, uint32_t num)
{
    const struct sg_vfs_io_faults *io = &v->io_faults;
    if (io->den == 0 || !has_prefix(path, io->prefix)) return false;
    return random_chance(io->random_u64, io->ctx, num, io->den);
}

/* ---- sector buffers ------------------------------------------------------------------- */

/* A sector buffer: a spare one when there is one. A WAL frees and takes as many sectors
 * per commit as it writes, and malloc/free of 4 KB blocks cost 7% of a calm run. */
static unsigned char *buffer_take(struct sg_vfs *v)
{
    if (v->spare_count > 0) return v->spare[--v->spare_count];
    return malloc(SECTOR_BYTES);
}

static void buffer_give(struct sg_vfs *v, unsigned char *buf)
{
    if (buf == NULL) return;
    if (v->spare_count == v->spare_cap && v->spare_cap < SPARE_SECTORS_MAX) {
        size_t cap = v->spare_cap == 0 ? 64 : v->spare_cap * 2;
        unsigned char **grown = realloc(v->spare, cap * sizeof *grown);
        if (grown != NULL) {
            v->spare = grown;
            v->spare_cap = cap;
        }
    }
    if (v->spare_count < v->spare_cap) {
        v->spare[v->spare_count++] = buf;
    } else {
        free(buf);
    }
    SG_ASSERT_PURE(v->spare_count <= SPARE_SECTORS_MAX);
}

/* ---- file images ---------------------------------------------------------------------- */

static size_t image_find(const struct sg_vfs *v, const char *path)
{
    size_t i = 0;
    while (i < v->file_count && strcmp(v->files[i]->path, path) != 0) i++;
    return i;
}

static size_t image_index(const struct sg_vfs *v, const struct sg_vfs_file_image *img)
{
    size_t i = 0;
    while (i < v->file_count && v->files[i] != img) i++;
    SG_ASSERT_PURE(i < v->file_count);
    return i;
}

static void image_free(struct sg_vfs_file_image *img)
{
    SG_ASSERT_PURE(img->refs == 0);
    SG_ASSERT_PURE(!img->linked);
    SG_ASSERT_PURE(!img->delete_pending);
    for (size_t i = 0; i < img->slot_cap; i++) {
        if (img->cur[i] != img->old[i]) buffer_give(img->v, img->cur[i]);
        buffer_give(img->v, img->old[i]);
    }
    free(img->path);
    free(img->cur);
    free(img->old);
    free(img->fresh);
    free(img->dirty);
    free(img);
}

/* Frees img once nothing holds it: not linked, not a pending delete, no open handle. */
static void image_release_if_unused(struct sg_vfs_file_image *img)
{
    if (!img->linked && !img->delete_pending && img->refs == 0) image_free(img);
}

/* Grows an array of image pointers to hold at least `need`, at least doubling. */
static bool images_reserve(struct sg_vfs_file_image ***arr, size_t *cap, size_t need)
{
    SG_ASSERT_PURE(need <= FILE_COUNT_MAX);
    if (need <= *cap) return true;
    size_t cap_new = *cap * 2 > need ? *cap * 2 : need;
    cap_new = cap_new < 8 ? 8 : cap_new;
    struct sg_vfs_file_image **grown = realloc(*arr, cap_new * sizeof *grown);
    if (grown == NULL) return false;
    *arr = grown;
    *cap = cap_new;
    SG_ASSERT_PURE(*cap >= need);
    return true;
}

static struct sg_vfs_file_image *image_new(struct sg_vfs *v, const char *path)
{
    SG_ASSERT_PURE(image_find(v, path) == v->file_count);
    SG_ASSERT_PURE(v->file_count + v->deleted_count <= FILE_COUNT_MAX);
    if (v->file_count + v->deleted_count >= FILE_COUNT_MAX) return NULL;
    if (!images_reserve(&v->files, &v->file_cap, v->file_count + 1)) return NULL;
    struct sg_vfs_file_image *img = calloc(1, sizeof *img);
    size_t path_len = strlen(path);
    char *path_copy = malloc(path_len + 1);
    if (img == NULL || path_copy == NULL) {
        free(img);
        free(path_copy);
        return NULL;
    }
    memcpy(path_copy, path, path_len + 1);
    img->v = v;
    img->path = path_copy;
    img->linked = true;
    v->files[v->file_count++] = img;
    SG_ASSERT_PURE(v->file_count <= v->file_cap);
    return img;
}

/* Removes files[i] from the namespace; open handles keep the orphan alive until closed. */
static void image_unlink(struct sg_vfs *v, size_t i)
{
    SG_ASSERT_PURE(i < v->file_count);
    struct sg_vfs_file_image *img = v->files[i];
    SG_ASSERT_PURE(img->linked);
    memmove(&v->files[i], &v->files[i + 1], (v->file_count - i - 1) * sizeof *v->files);
    v->file_count--;
    img->linked = false;
    image_release_if_unused(img);
}

/* ---- pending deletes ------------------------------------------------------------------ */

/* Bytes of path's directory: up to and including its last '/' (0 without one). */
static size_t dir_bytes(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == NULL ? 0 : (size_t)(slash - path) + 1;
}

static bool same_dir(const char *a, const char *b)
{
    size_t n = dir_bytes(a);
    return n == dir_bytes(b) && strncmp(a, b, n) == 0;
}

static size_t deleted_find(const struct sg_vfs *v, const char *path)
{
    size_t i = 0;
    while (i < v->deleted_count && strcmp(v->deleted[i]->path, path) != 0) i++;
    return i;
}

/* Removes deleted[i] from the list and returns its image, which the caller now holds. */
static struct sg_vfs_file_image *deleted_take(struct sg_vfs *v, size_t i)
{
    SG_ASSERT_PURE(i < v->deleted_count);
    struct sg_vfs_file_image *img = v->deleted[i];
    SG_ASSERT_PURE(img->delete_pending && !img->linked);
    memmove(&v->deleted[i], &v->deleted[i + 1], (v->deleted_count - i - 1) * sizeof *v->deleted);
    v->deleted_count--;
    img->delete_pending = false;
    return img;
}

/* The delete of deleted[i] became durable: forget the old image. */
static void deleted_forget(struct sg_vfs *v, size_t i)
{
    image_release_if_unused(deleted_take(v, i));
}

/* A directory sync: every pending delete in path's directory becomes durable. */
static void deleted_settle_dir(struct sg_vfs *v, const char *path)
{
    size_t i = 0;
    while (i < v->deleted_count) {
        if (same_dir(v->deleted[i]->path, path)) {
            deleted_forget(v, i);
        } else {
            i++;
        }
    }
    SG_ASSERT_PURE(v->deleted_count <= FILE_COUNT_MAX);
}

/* Unlinks files[i] for an xDelete with dirSync == 0: a file that exists durably becomes a
 * pending delete, unless its path has one already (then the file being removed was
 * created since and never existed durably). Out of memory, the delete is simply durable:
 * fewer faults, never a false one. */
static void image_unlink_pending(struct sg_vfs *v, size_t i)
{
    struct sg_vfs_file_image *img = v->files[i];
    bool path_pending = deleted_find(v, img->path) < v->deleted_count;
    if (path_pending) SG_ASSERT_PURE(!img->exists_durable);
    if (img->exists_durable && !path_pending &&
        images_reserve(&v->deleted, &v->deleted_cap, v->deleted_count + 1)) {
        img->delete_pending = true;
        v->deleted[v->deleted_count++] = img;
    }
    image_unlink(v, i);
    SG_ASSERT_PURE(v->file_count + v->deleted_count <= FILE_COUNT_MAX);
}

/* ---- sectors -------------------------------------------------------------------------- */

static size_t sectors_for(size_t bytes)
{
    return (bytes + SECTOR_BYTES - 1) / SECTOR_BYTES;
}

static bool sector_dirty(const struct sg_vfs_file_image *img, size_t s)
{
    SG_ASSERT_PURE(s < img->slot_cap);
    return ((img->dirty[s / 64] >> (s % 64)) & 1) != 0;
}

/* Grows the slot arrays (and the dirty bitmap) to at least `sectors`, at least doubling;
 * new slots are holes: clean, reading as zeros. */
static bool slots_reserve(struct sg_vfs_file_image *img, size_t sectors)
{
    SG_ASSERT_PURE(sectors <= FILE_BYTES_MAX / SECTOR_BYTES);
    if (sectors <= img->slot_cap) return true;
    size_t cap = img->slot_cap * 2 > sectors ? img->slot_cap * 2 : sectors;
    cap = (cap + 63) / 64 * 64; /* whole words of the bitmap */
    unsigned char **cur = realloc(img->cur, cap * sizeof *cur);
    if (cur == NULL) return false;
    img->cur = cur;
    unsigned char **old = realloc(img->old, cap * sizeof *old);
    if (old == NULL) return false;
    img->old = old;
    uint8_t *fresh = realloc(img->fresh, cap * sizeof *fresh);
    if (fresh == NULL) return false;
    img->fresh = fresh;
    uint64_t *dirty = realloc(img->dirty, cap / 64 * sizeof *dirty);
    if (dirty == NULL) return false;
    img->dirty = dirty;
    size_t added = cap - img->slot_cap;
    memset(&cur[img->slot_cap], 0, added * sizeof *cur);
    memset(&old[img->slot_cap], 0, added * sizeof *old);
    memset(&fresh[img->slot_cap], 0, added * sizeof *fresh);
    memset(&dirty[img->slot_cap / 64], 0, added / 64 * sizeof *dirty);
    img->slot_cap = cap;
    SG_ASSERT_PURE(img->slot_cap >= sectors);
    return true;
}

/* Makes sector s dirty, with a buffer of its own in which no chunk is fresh yet: until a
 * chunk is written, its current bytes are still the durable ones in `old`. */
static bool sector_own(struct sg_vfs_file_image *img, size_t s)
{
    if (sector_dirty(img, s)) return true;
    SG_ASSERT_PURE(img->cur[s] == img->old[s]);
    unsigned char *buf = buffer_take(img->v);
    if (buf == NULL) return false;
    img->cur[s] = buf;
    img->fresh[s] = 0;
    img->dirty[s / 64] |= (uint64_t)1 << (s % 64);
    img->sectors_held++;
    img->pending = true;
    SG_ASSERT_PURE(sector_dirty(img, s));
    return true;
}

/* Copies chunk c of sector s's durable bytes into its own buffer (a hole: zeros). */
static void chunk_inherit(struct sg_vfs_file_image *img, size_t s, size_t c)
{
    SG_ASSERT_PURE(sector_dirty(img, s));
    unsigned char *to = &img->cur[s][c * CHUNK_BYTES];
    if (img->old[s] == NULL) {
        memset(to, 0, CHUNK_BYTES);
    } else {
        memcpy(to, &img->old[s][c * CHUNK_BYTES], CHUNK_BYTES);
    }
}

/* Ends sector s's dirtiness with `keep` as both its current and its durable bytes: the
 * other buffer is freed (the two are distinct while dirty). Keeping `cur`, every chunk of
 * it must hold the bytes wanted (fresh or inherited). */
static void sector_clean(struct sg_vfs_file_image *img, size_t s, unsigned char *keep)
{
    SG_ASSERT_PURE(sector_dirty(img, s));
    SG_ASSERT_PURE(img->cur[s] != img->old[s]);
    unsigned char *drop = keep == img->cur[s] ? img->old[s] : img->cur[s];
    if (drop != NULL) {
        buffer_give(img->v, drop);
        img->sectors_held--;
    }
    img->cur[s] = keep;
    img->old[s] = keep;
    img->dirty[s / 64] &= ~((uint64_t)1 << (s % 64));
}

/* Copies [off, off + n) of sector s's current bytes into out: a fresh chunk from its own
 * buffer, any other from the durable bytes (a hole reads as zeros). */
static void sector_read(const struct sg_vfs_file_image *img, size_t s, size_t off, size_t n,
                        unsigned char *out)
{
    SG_ASSERT_PURE(off + n <= SECTOR_BYTES);
    bool dirty = sector_dirty(img, s);
    if (!dirty || img->fresh[s] == (uint8_t)CHUNK_MASK_ALL) { /* one buffer has it all */
        if (img->cur[s] == NULL) {
            memset(out, 0, n);
        } else {
            memcpy(out, &img->cur[s][off], n);
        }
        return;
    }
    for (size_t at = off; at < off + n;) {
        size_t c = at / CHUNK_BYTES, chunk_end = (c + 1) * CHUNK_BYTES;
        size_t len = (chunk_end < off + n ? chunk_end : off + n) - at;
        bool fresh = dirty && ((img->fresh[s] >> c) & 1) != 0;
        const unsigned char *from = fresh ? img->cur[s] : img->old[s];
        if (from == NULL) {
            memset(&out[at - off], 0, len);
        } else {
            memcpy(&out[at - off], &from[at], len);
        }
        at += len;
    }
}

/* Stores `bytes` (zeros when NULL) at [from, to) of sector s (offsets in the sector): the
 * chunks it touches become fresh, a partly written one inheriting the rest first. */
static bool sector_write(struct sg_vfs_file_image *img, size_t s, size_t from, size_t to,
                         const unsigned char *bytes)
{
    SG_ASSERT_PURE(from < to && to <= SECTOR_BYTES);
    if (!sector_own(img, s)) return false;
    for (size_t c = from / CHUNK_BYTES; c * CHUNK_BYTES < to; c++) {
        bool whole = from <= c * CHUNK_BYTES && to >= (c + 1) * CHUNK_BYTES;
        if (!whole && ((img->fresh[s] >> c) & 1) == 0) chunk_inherit(img, s, c);
        img->fresh[s] |= (uint8_t)(1u << c);
    }
    if (bytes != NULL) {
        memcpy(&img->cur[s][from], bytes, to - from);
    } else {
        memset(&img->cur[s][from], 0, to - from);
    }
    return true;
}

/* Zeros [zero_from, off), the gap that growing a file exposes, then stores [off, off + n):
 * `bytes`, or zeros when it is NULL. Every touched sector becomes dirty; sizes are the
 * caller's to update. */
static bool image_store(struct sg_vfs_file_image *img, size_t zero_from,
                        const unsigned char *bytes, size_t off, size_t n)
{
    SG_ASSERT_PURE(zero_from <= off);
    size_t end = off + n;
    if (zero_from == end) return true;
    if (!slots_reserve(img, sectors_for(end))) return false;
    for (size_t s = zero_from / SECTOR_BYTES; s < sectors_for(end); s++) {
        size_t s_from = s * SECTOR_BYTES, s_to = s_from + SECTOR_BYTES;
        size_t from = zero_from > s_from ? zero_from : s_from;
        size_t to = end < s_to ? end : s_to;
        size_t split = off < from ? from : (off < to ? off : to); /* zeros before, bytes after */
        if (split > from && !sector_write(img, s, from - s_from, split - s_from, NULL))
            return false;
        if (to > split && !sector_write(img, s, split - s_from, to - s_from,
                                        bytes == NULL ? NULL : &bytes[split - off]))
            return false;
    }
    return true;
}

/* Gives every chunk of dirty sector s below `end` (an offset in the sector) its current
 * bytes in the sector's own buffer, so that the buffer can stand for the whole sector. */
static void sector_materialize(struct sg_vfs_file_image *img, size_t s, size_t end)
{
    for (size_t c = 0; c * CHUNK_BYTES < end && c < CHUNKS_PER_SECTOR; c++) {
        if (((img->fresh[s] >> c) & 1) == 0) chunk_inherit(img, s, c);
    }
}

/* A successful xSync: every dirty sector's current bytes become its durable bytes without
 * copying its fresh chunks; past the file's end they are nobody's and the durable ones
 * stay. */
static void image_sync(struct sg_vfs_file_image *img)
{
    for (size_t w = 0; w < img->slot_cap / 64; w++) {
        uint64_t bits = img->dirty[w];
        for (size_t b = 0; bits != 0 && b < 64; b++, bits >>= 1) {
            if ((bits & 1) == 0) continue;
            size_t s = w * 64 + b, s_from = s * SECTOR_BYTES;
            if (s_from >= img->data_size) {
                sector_clean(img, s, img->old[s]);
                continue;
            }
            size_t end = img->data_size - s_from;
            sector_materialize(img, s, end < SECTOR_BYTES ? end : SECTOR_BYTES);
            sector_clean(img, s, img->cur[s]);
        }
    }
    img->durable_size = img->data_size;
    img->exists_durable = true;
    img->pending = false;
    SG_ASSERT_PURE(img->slot_cap >= sectors_for(img->durable_size));
}

/* What survives of one pending sector: bit i set = chunk i takes the new bytes. */
static uint32_t sector_fate(const struct sg_vfs_crash_faults *f, struct sg_vfs_stats *stats)
{
    if (f == NULL || !random_chance(f->random_u64, f->ctx, f->keep_pending_num,
                                    f->keep_pending_den)) {
        stats->sectors_lost++;
        return 0;
    }
    if (!random_chance(f->random_u64, f->ctx, f->torn_num, f->torn_den)) {
        stats->sectors_kept++;
        return CHUNK_MASK_ALL;
    }
    /* Torn means mixed: at least one chunk old and one new (1 .. all - 1). */
    stats->sectors_torn++;
    uint32_t mask = 1 + (uint32_t)random_below(f->random_u64, f->ctx, CHUNK_MASK_ALL - 1);
    SG_ASSERT_PURE(mask != 0 && mask != CHUNK_MASK_ALL);
    return mask;
}

/* Puts the durable bytes of [from, to) (offsets in the file) of sector s into its own
 * buffer: the old bytes below the durable size, a hole (zeros) past it. */
static void sector_revert(struct sg_vfs_file_image *img, size_t s, size_t from, size_t to)
{
    size_t s_from = s * SECTOR_BYTES;
    SG_ASSERT_PURE(from >= s_from && to <= s_from + SECTOR_BYTES);
    size_t mid = to < img->durable_size ? to : img->durable_size;
    if (mid < from) mid = from;
    if (mid > from && img->old[s] != NULL) {
        memcpy(&img->cur[s][from - s_from], &img->old[s][from - s_from], mid - from);
    } else if (mid > from) {
        memset(&img->cur[s][from - s_from], 0, mid - from);
    }
    if (to > mid) memset(&img->cur[s][mid - s_from], 0, to - mid);
}

/* Settles dirty sector s of a file whose post-crash size is `size` (s starts below it):
 * chunk by chunk, the new bytes or the durable ones, which then are both. A chunk that is
 * not fresh has the durable bytes as its new ones. */
static void sector_settle(struct sg_vfs_file_image *img, size_t s, size_t size, uint32_t mask)
{
    size_t offset = s * SECTOR_BYTES;
    size_t end = offset + SECTOR_BYTES < size ? offset + SECTOR_BYTES : size;
    SG_ASSERT_PURE(offset < end);
    for (size_t c = 0; c < CHUNKS_PER_SECTOR; c++) {
        size_t from = offset + c * CHUNK_BYTES;
        if (from >= end) break;
        size_t to = from + CHUNK_BYTES < end ? from + CHUNK_BYTES : end;
        bool fresh = ((img->fresh[s] >> c) & 1) != 0;
        if (((mask >> c) & 1) == 0 || !fresh) {
            sector_revert(img, s, from, to);
        } else if (to > img->data_size) {
            /* New bytes end at data's end (a truncate); the rest is an undone truncate's. */
            SG_ASSERT_PURE(to <= img->durable_size);
            sector_revert(img, s, from > img->data_size ? from : img->data_size, to);
        }
    }
    sector_clean(img, s, img->cur[s]);
}

/* The power loss of one file that has a durable existence (f == NULL: exact revert).
 * Sectors that were not dirty are not read or written: their buffers are already both
 * images (an undone truncate finds its tail there). */
static void image_crash(struct sg_vfs_file_image *img, const struct sg_vfs_crash_faults *f,
                        struct sg_vfs_stats *stats)
{
    SG_ASSERT_PURE(img->exists_durable);
    SG_ASSERT_PURE(img->refs == 0);
    if (!img->pending) {
        SG_ASSERT_PURE(img->data_size == img->durable_size);
        return;
    }
    size_t size = img->durable_size;
    if (f != NULL && img->data_size != img->durable_size &&
        random_chance(f->random_u64, f->ctx, f->keep_pending_num, f->keep_pending_den)) {
        size = img->data_size;
    }
    SG_ASSERT_PURE(img->slot_cap >= sectors_for(size));
    for (size_t w = 0; w < img->slot_cap / 64; w++) {
        uint64_t bits = img->dirty[w];
        for (size_t b = 0; bits != 0 && b < 64; b++, bits >>= 1) {
            size_t s = w * 64 + b;
            if ((bits & 1) == 0) continue;
            if (s * SECTOR_BYTES >= size) {
                sector_clean(img, s, img->old[s]); /* past the end: nobody's bytes */
            } else {
                sector_settle(img, s, size, sector_fate(f, stats));
            }
        }
    }
    img->data_size = size;
    img->durable_size = size;
    img->pending = false;
}

/* ---- io methods ----------------------------------------------------------------------- */

static struct vfs_handle *handle_of(sqlite3_file *file)
{
    struct vfs_handle *h = (struct vfs_handle *)file;
    SG_ASSERT_PURE(h->img != NULL);
    SG_ASSERT_PURE(h->img->refs > 0);
    return h;
}

/* SQLite never passes a negative offset; FILE_BYTES_MAX bounds every file. */
static bool range_ok(sqlite3_int64 offset, int amount, size_t *offset_out)
{
    SG_ASSERT_PURE(offset >= 0);
    SG_ASSERT_PURE(amount >= 0);
    if ((size_t)amount > FILE_BYTES_MAX) return false;
    if ((uint64_t)offset > FILE_BYTES_MAX - (size_t)amount) return false;
    *offset_out = (size_t)offset;
    return true;
}

static int file_unlock(sqlite3_file *file, int level);

static int file_close(sqlite3_file *file)
{
    struct vfs_handle *h = handle_of(file);
    struct sg_vfs_file_image *img = h->img;
    int rc = file_unlock(file, SQLITE_LOCK_NONE);
    SG_ASSERT_PURE(rc == SQLITE_OK);
    img->refs--;
    if ((h->flags & SQLITE_OPEN_DELETEONCLOSE) != 0 && img->linked) {
        /* os_unix unlinks these right after the open; they are never synced: durable. */
        h->v->stats.deletes++;
        image_unlink(h->v, image_index(h->v, img));
    } else {
        image_release_if_unused(img);
    }
    h->img = NULL;
    return SQLITE_OK;
}

static int file_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
    struct vfs_handle *h = handle_of(file);
    const struct sg_vfs_file_image *img = h->img;
    struct sg_vfs *v = h->v;
    v->stats.reads++;
    if (refuse_down(v, img->path)) return SQLITE_IOERR_READ;
    if (io_fault(v, img->path, v->io_faults.read_num)) {
        v->stats.read_errors++;
        return SQLITE_IOERR_READ;
    }
    size_t off = 0, want = (size_t)amount, got = 0;
    if (range_ok(offset, amount, &off) && off < img->data_size) {
        got = img->data_size - off < want ? img->data_size - off : want;
        for (size_t done = 0; done < got;) {
            size_t at = off + done, in = at % SECTOR_BYTES;
            size_t n = SECTOR_BYTES - in < got - done ? SECTOR_BYTES - in : got - done;
            sector_read(img, at / SECTOR_BYTES, in, n, (unsigned char *)buf + done);
            done += n;
        }
    }
    if (got == want) return SQLITE_OK;
    memset((unsigned char *)buf + got, 0, want - got);
    return SQLITE_IOERR_SHORT_READ;
}

static int file_write(sqlite3_file *file, const void *buf, int amount, sqlite3_int64 offset)
{
    struct vfs_handle *h = handle_of(file);
    struct sg_vfs_file_image *img = h->img;
    struct sg_vfs *v = h->v;
    v->stats.writes++;
    if (!mutation_allowed(v, img->path)) return SQLITE_IOERR_WRITE;
    if (io_fault(v, img->path, v->io_faults.write_num)) {
        v->stats.write_errors++;
        return SQLITE_IOERR_WRITE;
    }
    size_t off = 0;
    if (!range_ok(offset, amount, &off)) return SQLITE_FULL;
    size_t end = off + (size_t)amount;
    size_t zero_from = img->data_size < off ? img->data_size : off;
    if (!image_store(img, zero_from, buf, off, (size_t)amount)) return SQLITE_IOERR_NOMEM;
    if (end > img->data_size) img->data_size = end;
    SG_ASSERT_PURE(img->data_size >= end);
    return SQLITE_OK;
}

static int file_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct vfs_handle *h = handle_of(file);
    h->v->stats.truncates++;
    if (!mutation_allowed(h->v, h->img->path)) return SQLITE_IOERR_TRUNCATE;
    size_t size_new = 0;
    if (!range_ok(size, 0, &size_new)) return SQLITE_FULL;
    struct sg_vfs_file_image *img = h->img;
    if (size_new > img->data_size &&
        !image_store(img, img->data_size, NULL, img->data_size, size_new - img->data_size))
        return SQLITE_IOERR_NOMEM;
    img->data_size = size_new;
    img->pending = true;
    SG_ASSERT_PURE(img->data_size == size_new);
    return SQLITE_OK;
}

static int file_sync(sqlite3_file *file, int flags)
{
    struct vfs_handle *h = handle_of(file);
    struct sg_vfs *v = h->v;
    (void)flags;
    v->stats.syncs++;
    if (!mutation_allowed(v, h->img->path)) return SQLITE_IOERR_FSYNC;
    if (sync_takes_down(v, h->img->path)) return SQLITE_IOERR_FSYNC;
    if (v->fail_sync_count > 0 && has_prefix(h->img->path, v->fail_sync_prefix)) {
        v->fail_sync_count--;
        v->stats.sync_failures++;
        return SQLITE_IOERR_FSYNC;
    }
    image_sync(h->img);
    deleted_settle_dir(v, h->img->path);
    SG_ASSERT_PURE(!h->img->pending);
    return SQLITE_OK;
}

static int file_size(sqlite3_file *file, sqlite3_int64 *size_out)
{
    struct vfs_handle *h = handle_of(file);
    SG_ASSERT_PURE(h->img->data_size <= FILE_BYTES_MAX);
    if (refuse_down(h->v, h->img->path)) return SQLITE_IOERR_FSTAT;
    *size_out = (sqlite3_int64)h->img->data_size;
    return SQLITE_OK;
}

/* Lock transitions as in os_unix: SHARED first, then RESERVED and/or EXCLUSIVE, with a
 * PENDING level kept when EXCLUSIVE must wait for other readers. */
static int file_lock(sqlite3_file *file, int level)
{
    struct vfs_handle *h = handle_of(file);
    struct sg_vfs_file_image *img = h->img;
    SG_ASSERT_PURE(level >= SQLITE_LOCK_SHARED && level <= SQLITE_LOCK_EXCLUSIVE);
    if (refuse_down(h->v, img->path)) return SQLITE_IOERR_LOCK;
    if (h->lock >= level) return SQLITE_OK;
    if (level == SQLITE_LOCK_SHARED) {
        if (img->writer_lock >= SQLITE_LOCK_PENDING) return SQLITE_BUSY;
        img->shared_count++;
        h->lock = SQLITE_LOCK_SHARED;
        return SQLITE_OK;
    }
    SG_ASSERT_PURE(h->lock >= SQLITE_LOCK_SHARED);
    if (h->lock < SQLITE_LOCK_RESERVED && img->writer_lock != SQLITE_LOCK_NONE) {
        return SQLITE_BUSY;
    }
    if (level == SQLITE_LOCK_EXCLUSIVE && img->shared_count > 1) {
        h->lock = SQLITE_LOCK_PENDING;
        img->writer_lock = SQLITE_LOCK_PENDING;
        return SQLITE_BUSY;
    }
    h->lock = level;
    img->writer_lock = level;
    SG_ASSERT_PURE(img->shared_count > 0);
    return SQLITE_OK;
}

static int file_unlock(sqlite3_file *file, int level)
{
    struct vfs_handle *h = handle_of(file);
    struct sg_vfs_file_image *img = h->img;
    SG_ASSERT_PURE(level == SQLITE_LOCK_NONE || level == SQLITE_LOCK_SHARED);
    if (h->lock <= level) return SQLITE_OK;
    if (h->lock > SQLITE_LOCK_SHARED) {
        SG_ASSERT_PURE(img->writer_lock == h->lock);
        img->writer_lock = SQLITE_LOCK_NONE;
        h->lock = SQLITE_LOCK_SHARED;
    }
    if (level == SQLITE_LOCK_NONE) {
        SG_ASSERT_PURE(img->shared_count > 0);
        img->shared_count--;
        h->lock = SQLITE_LOCK_NONE;
    }
    return SQLITE_OK;
}

static int file_check_reserved_lock(sqlite3_file *file, int *result_out)
{
    struct vfs_handle *h = handle_of(file);
    *result_out = 0;
    if (refuse_down(h->v, h->img->path)) return SQLITE_IOERR_CHECKRESERVEDLOCK;
    *result_out = h->img->writer_lock >= SQLITE_LOCK_RESERVED;
    return SQLITE_OK;
}

static int file_control(sqlite3_file *file, int op, void *arg)
{
    (void)file;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int file_sector_size(sqlite3_file *file)
{
    (void)file;
    return (int)SECTOR_BYTES;
}

static int file_device_characteristics(sqlite3_file *file)
{
    (void)file;
    return 0;
}

static const sqlite3_io_methods io_methods = {
    .iVersion = 1,
    .xClose = file_close,
    .xRead = file_read,
    .xWrite = file_write,
    .xTruncate = file_truncate,
    .xSync = file_sync,
    .xFileSize = file_size,
    .xLock = file_lock,
    .xUnlock = file_unlock,
    .xCheckReservedLock = file_check_reserved_lock,
    .xFileControl = file_control,
    .xSectorSize = file_sector_size,
    .xDeviceCharacteristics = file_device_characteristics,
};

/* ---- vfs methods ---------------------------------------------------------------------- */

static struct sg_vfs *vfs_of(sqlite3_vfs *pv)
{
    struct sg_vfs *v = pv->pAppData;
    SG_ASSERT_PURE(v != NULL);
    SG_ASSERT_PURE(v->vfs == pv);
    return v;
}

/* TEMP_PREFIX + the decimal counter: unique per VFS, outside every node's prefix. */
static void temp_name_make(struct sg_vfs *v, char *out, size_t out_bytes)
{
    char digits[24];
    size_t n = 0;
    uint64_t x = ++v->temp_count;
    do {
        digits[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x != 0 && n < sizeof digits);
    size_t prefix_len = strlen(TEMP_PREFIX);
    SG_ASSERT_PURE(prefix_len + n + 1 <= out_bytes);
    memcpy(out, TEMP_PREFIX, prefix_len);
    for (size_t i = 0; i < n; i++) out[prefix_len + i] = digits[n - 1 - i];
    out[prefix_len + n] = '\0';
}

static int vfs_open(sqlite3_vfs *pv, const char *name, sqlite3_file *file, int flags,
                    int *flags_out)
{
    struct sg_vfs *v = vfs_of(pv);
    struct vfs_handle *h = (struct vfs_handle *)file;
    char temp_name[sizeof TEMP_PREFIX + 24];
    file->pMethods = NULL; /* on failure SQLite must not call xClose */
    v->stats.opens++;
    if (name == NULL) {
        temp_name_make(v, temp_name, sizeof temp_name);
        name = temp_name;
    }
    if (refuse_down(v, name)) return SQLITE_CANTOPEN;
    struct sg_vfs_file_image *img = NULL;
    size_t i = image_find(v, name);
    if (i < v->file_count) {
        bool must_create = (flags & SQLITE_OPEN_EXCLUSIVE) && (flags & SQLITE_OPEN_CREATE);
        if (must_create) return SQLITE_CANTOPEN;
        img = v->files[i];
    } else {
        if ((flags & SQLITE_OPEN_CREATE) == 0) return SQLITE_CANTOPEN;
        img = image_new(v, name);
        if (img == NULL) return SQLITE_CANTOPEN;
        /* SQLite never syncs a directory: the harness makes the main file durable, and
         * its durable entry replaces a pending delete of the path. */
        img->exists_durable = (flags & SQLITE_OPEN_MAIN_DB) != 0;
        size_t d = deleted_find(v, name);
        if (img->exists_durable && d < v->deleted_count) deleted_forget(v, d);
    }
    img->refs++;
    h->v = v;
    h->img = img;
    h->lock = SQLITE_LOCK_NONE;
    h->flags = flags;
    file->pMethods = &io_methods;
    if (flags_out != NULL) *flags_out = flags;
    SG_ASSERT_PURE(img->linked);
    return SQLITE_OK;
}

/* dirSync != 0 unlinks and then syncs the directory, as os_unix does: durable, and so is
 * every pending delete in that directory. dirSync == 0 may be undone (vfs.h, "Deletes"). */
static int vfs_delete(sqlite3_vfs *pv, const char *path, int dir_sync)
{
    struct sg_vfs *v = vfs_of(pv);
    v->stats.deletes++;
    if (!mutation_allowed(v, path)) return SQLITE_IOERR_DELETE;
    size_t i = image_find(v, path);
    if (i == v->file_count) return SQLITE_IOERR_DELETE_NOENT;
    if (dir_sync != 0) {
        image_unlink(v, i);
        deleted_settle_dir(v, path);
        SG_ASSERT_PURE(deleted_find(v, path) == v->deleted_count);
    } else {
        image_unlink_pending(v, i);
    }
    SG_ASSERT_PURE(image_find(v, path) == v->file_count);
    return SQLITE_OK;
}

static int vfs_access(sqlite3_vfs *pv, const char *path, int flags, int *result_out)
{
    struct sg_vfs *v = vfs_of(pv);
    *result_out = 0;
    if (refuse_down(v, path)) return SQLITE_IOERR_ACCESS;
    size_t i = image_find(v, path);
    bool exists = i < v->file_count;
    if (flags == SQLITE_ACCESS_EXISTS) exists = exists && v->files[i]->data_size > 0;
    *result_out = exists;
    return SQLITE_OK;
}

static int vfs_full_pathname(sqlite3_vfs *pv, const char *name, int out_bytes, char *out)
{
    (void)vfs_of(pv);
    SG_ASSERT_PURE(out_bytes > 0);
    size_t len = strlen(name);
    if (len + 1 > (size_t)out_bytes) return SQLITE_CANTOPEN;
    memcpy(out, name, len + 1);
    return SQLITE_OK;
}

/* Extensions cannot load from memory; these stubs keep sqlite3_load_extension safe. */
static void *vfs_dl_open(sqlite3_vfs *pv, const char *path)
{
    (void)pv;
    (void)path;
    return NULL;
}

static void vfs_dl_error(sqlite3_vfs *pv, int out_bytes, char *out)
{
    static const char message[] = "extensions are not supported by the simulated disk";
    (void)pv;
    if (out_bytes <= 0) return;
    size_t n = sizeof message < (size_t)out_bytes ? sizeof message : (size_t)out_bytes;
    memcpy(out, message, n);
    out[n - 1] = '\0';
}

static void (*vfs_dl_sym(sqlite3_vfs *pv, void *handle, const char *symbol))(void)
{
    (void)pv;
    (void)handle;
    (void)symbol;
    return NULL;
}

static void vfs_dl_close(sqlite3_vfs *pv, void *handle)
{
    (void)pv;
    (void)handle;
}

/* Little-endian bytes of each draw, so the output does not depend on the host. */
static int vfs_randomness(sqlite3_vfs *pv, int out_bytes, char *out)
{
    struct sg_vfs *v = vfs_of(pv);
    SG_ASSERT_PURE(out_bytes >= 0);
    size_t n = (size_t)out_bytes;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = v->hooks.random_u64(v->hooks.ctx);
        for (size_t j = 0; j < 8 && i + j < n; j++) {
            out[i + j] = (char)(unsigned char)(x >> (8 * j));
        }
    }
    return out_bytes;
}

/* Simulated time does not pass while SQLite waits; the caller's busy loop stays bounded. */
static int vfs_sleep(sqlite3_vfs *pv, int microseconds)
{
    (void)pv;
    return microseconds;
}

static int vfs_current_time_int64(sqlite3_vfs *pv, sqlite3_int64 *julian_ms_out)
{
    struct sg_vfs *v = vfs_of(pv);
    int64_t wall_ns = v->hooks.now_wall_ns(v->hooks.ctx);
    *julian_ms_out = (sqlite3_int64)(wall_ns / NS_PER_MS) + UNIX_EPOCH_JULIAN_MS;
    SG_ASSERT_PURE(*julian_ms_out >= 0);
    return SQLITE_OK;
}

/* SQLite's legacy entry point wants a Julian day as a double; not used in decisions here. */
static int vfs_current_time(sqlite3_vfs *pv, double *julian_day_out)
{
    sqlite3_int64 ms = 0;
    int rc = vfs_current_time_int64(pv, &ms);
    *julian_day_out = (double)ms / 86400000.0;
    return rc;
}

static int vfs_get_last_error(sqlite3_vfs *pv, int out_bytes, char *out)
{
    (void)pv;
    if (out_bytes > 0) out[0] = '\0';
    return 0;
}

/* ---- public API ----------------------------------------------------------------------- */

bool sg_vfs_init(struct sg_vfs *v, const char *name, const struct sg_vfs_hooks *hooks)
{
    SG_ASSERT_PURE(name != NULL && name[0] != '\0');
    SG_ASSERT_PURE(hooks != NULL && hooks->random_u64 != NULL && hooks->now_wall_ns != NULL);
    memset(v, 0, sizeof *v);
    size_t name_len = strlen(name);
    sqlite3_vfs *pv = malloc(sizeof *pv + name_len + 1);
    if (pv == NULL) return false;
    char *name_copy = (char *)(pv + 1);
    memcpy(name_copy, name, name_len + 1);
    *pv = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct vfs_handle),
        .mxPathname = PATH_BYTES_MAX,
        .zName = name_copy,
        .pAppData = v,
        .xOpen = vfs_open,
        .xDelete = vfs_delete,
        .xAccess = vfs_access,
        .xFullPathname = vfs_full_pathname,
        .xDlOpen = vfs_dl_open,
        .xDlError = vfs_dl_error,
        .xDlSym = vfs_dl_sym,
        .xDlClose = vfs_dl_close,
        .xRandomness = vfs_randomness,
        .xSleep = vfs_sleep,
        .xCurrentTime = vfs_current_time,
        .xGetLastError = vfs_get_last_error,
        .xCurrentTimeInt64 = vfs_current_time_int64,
    };
    v->vfs = pv;
    v->hooks = *hooks;
    return true;
}

void sg_vfs_deinit(struct sg_vfs *v)
{
    sg_vfs_unregister(v);
    for (size_t i = 0; i < v->file_count; i++) {
        struct sg_vfs_file_image *img = v->files[i];
        SG_ASSERT_PURE(img->refs == 0); /* a handle would point at freed memory */
        img->linked = false;
        image_free(img);
    }
    while (v->deleted_count > 0) {
        struct sg_vfs_file_image *img = deleted_take(v, v->deleted_count - 1);
        SG_ASSERT_PURE(img->refs == 0);
        image_free(img);
    }
    while (v->spare_count > 0) free(v->spare[--v->spare_count]);
    free(v->spare);
    v->spare = NULL;
    v->spare_cap = 0;
    free(v->files);
    free(v->deleted);
    free(v->vfs);
    v->files = NULL;
    v->file_count = 0;
    v->file_cap = 0;
    v->deleted = NULL;
    v->deleted_cap = 0;
    v->vfs = NULL;
}

int sg_vfs_register(struct sg_vfs *v)
{
    SG_ASSERT_PURE(v->vfs != NULL);
    SG_ASSERT_PURE(!v->registered);
    int rc = sqlite3_vfs_register(v->vfs, 1);
    if (rc != SQLITE_OK) return rc;
    v->registered = true;
    /* SQLite's PRNG is process-wide and reseeds lazily from the default VFS: us. */
    sqlite3_randomness(0, NULL);
    return SQLITE_OK;
}

void sg_vfs_unregister(struct sg_vfs *v)
{
    if (!v->registered) return;
    int rc = sqlite3_vfs_unregister(v->vfs);
    SG_ASSERT_PURE(rc == SQLITE_OK);
    v->registered = false;
}

/* The pending deletes under prefix at a power loss, in deletion order (one draw each when
 * f is given): persisted, the image is forgotten; undone, it is linked again at its path,
 * replacing a file created there since (never durable, so the crash would drop it). */
static void deleted_crash(struct sg_vfs *v, const char *prefix,
                          const struct sg_vfs_crash_faults *f)
{
    size_t i = 0;
    while (i < v->deleted_count) {
        if (!has_prefix(v->deleted[i]->path, prefix)) {
            i++;
            continue;
        }
        struct sg_vfs_file_image *img = deleted_take(v, i);
        SG_ASSERT_PURE(img->refs == 0); /* the node closes its connections first */
        SG_ASSERT_PURE(img->exists_durable);
        if (f != NULL &&
            random_chance(f->random_u64, f->ctx, f->keep_pending_num, f->keep_pending_den)) {
            image_free(img);
            continue;
        }
        size_t j = image_find(v, img->path);
        if (j < v->file_count) {
            SG_ASSERT_PURE(!v->files[j]->exists_durable);
            image_unlink(v, j);
        }
        /* A crash cannot report an error; running out of memory here ends the run. */
        bool reserved = images_reserve(&v->files, &v->file_cap, v->file_count + 1);
        SG_ASSERT_PURE(reserved);
        img->linked = true;
        v->files[v->file_count++] = img;
        v->stats.deletes_undone++;
    }
    SG_ASSERT_PURE(v->file_count + v->deleted_count <= FILE_COUNT_MAX);
}

void sg_vfs_crash(struct sg_vfs *v, const char *prefix, const struct sg_vfs_crash_faults *f)
{
    SG_ASSERT_PURE(prefix != NULL);
    if (f != NULL) SG_ASSERT_PURE(f->random_u64 != NULL);
    deleted_crash(v, prefix, f);
    size_t i = 0;
    while (i < v->file_count) {
        struct sg_vfs_file_image *img = v->files[i];
        if (!has_prefix(img->path, prefix)) {
            i++;
            continue;
        }
        SG_ASSERT_PURE(img->refs == 0); /* the node closes its connections first */
        if (img->exists_durable) {
            image_crash(img, f, &v->stats);
            i++;
        } else {
            image_unlink(v, i);
        }
    }
    v->stats.crashes++;
}

void sg_vfs_set_down(struct sg_vfs *v, const char *prefix, bool down)
{
    SG_ASSERT_PURE(prefix != NULL);
    SG_ASSERT_PURE(strlen(prefix) < SG_VFS_PREFIX_BYTES);
    if (v->down_after_armed && strcmp(v->down_after_prefix, prefix) == 0) {
        v->down_after_armed = false;
    }
    if (sync_arm_find(v, prefix) < v->down_at_sync_count)
        sync_arm_remove(v, sync_arm_find(v, prefix));
    if (down) {
        down_add(v, prefix);
        return;
    }
    uint32_t i = down_find(v, prefix);
    if (i == v->down_count) return;
    memmove(&v->down_prefix[i], &v->down_prefix[i + 1],
            (v->down_count - i - 1) * sizeof v->down_prefix[0]);
    v->down_count--;
    SG_ASSERT_PURE(down_find(v, prefix) == v->down_count);
}

bool sg_vfs_is_down(const struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    return down_find(v, prefix) < v->down_count;
}

void sg_vfs_set_down_after(struct sg_vfs *v, const char *prefix, uint64_t op_count)
{
    SG_ASSERT_PURE(prefix != NULL);
    prefix_copy(v->down_after_prefix, prefix);
    v->down_after_count = op_count;
    v->down_after_armed = true;
}

void sg_vfs_set_down_at_sync(struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    if (sync_arm_find(v, prefix) == v->down_at_sync_count) {
        SG_ASSERT_PURE(v->down_at_sync_count < SG_VFS_DOWN_MAX);
        prefix_copy(v->down_at_sync[v->down_at_sync_count++], prefix);
    }
    SG_ASSERT_PURE(sync_arm_find(v, prefix) < v->down_at_sync_count);
}

void sg_vfs_set_io_faults(struct sg_vfs *v, const char *prefix, uint32_t read_num,
                          uint32_t write_num, uint32_t den, uint64_t (*random_u64)(void *ctx),
                          void *ctx)
{
    SG_ASSERT_PURE(prefix != NULL);
    if (den > 0) SG_ASSERT_PURE(random_u64 != NULL);
    if (den > 0) SG_ASSERT_PURE(read_num <= den && write_num <= den);
    struct sg_vfs_io_faults *io = &v->io_faults;
    prefix_copy(io->prefix, prefix);
    io->read_num = read_num;
    io->write_num = write_num;
    io->den = den;
    io->random_u64 = random_u64;
    io->ctx = ctx;
}

void sg_vfs_fail_next_sync(struct sg_vfs *v, const char *prefix, uint32_t count)
{
    SG_ASSERT_PURE(prefix != NULL);
    prefix_copy(v->fail_sync_prefix, prefix);
    v->fail_sync_count = count;
}

void sg_vfs_wipe(struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    size_t d = 0;
    while (d < v->deleted_count) {
        if (has_prefix(v->deleted[d]->path, prefix)) {
            deleted_forget(v, d);
        } else {
            d++;
        }
    }
    size_t i = 0;
    while (i < v->file_count) {
        if (has_prefix(v->files[i]->path, prefix)) {
            image_unlink(v, i);
        } else {
            i++;
        }
    }
    SG_ASSERT_PURE(sg_vfs_bytes(v, prefix) == 0);
}

size_t sg_vfs_open_count(const struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    size_t count = 0;
    for (size_t i = 0; i < v->file_count; i++) {
        if (has_prefix(v->files[i]->path, prefix)) count += v->files[i]->refs;
    }
    SG_ASSERT_PURE(count <= (size_t)UINT32_MAX * v->file_count);
    return count;
}

/* Counts sector buffers: the bytes actually held, which is what a memory budget needs. */
size_t sg_vfs_bytes(const struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    size_t total = 0;
    for (size_t i = 0; i < v->file_count; i++) {
        const struct sg_vfs_file_image *img = v->files[i];
        SG_ASSERT_PURE(img->slot_cap >= sectors_for(img->data_size));
        if (has_prefix(img->path, prefix)) total += img->sectors_held * SECTOR_BYTES;
    }
    for (size_t i = 0; i < v->deleted_count; i++) {
        const struct sg_vfs_file_image *img = v->deleted[i];
        if (has_prefix(img->path, prefix)) total += img->sectors_held * SECTOR_BYTES;
    }
    return total;
}
