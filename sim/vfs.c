/*
 * vfs.c: the simulated disk, an in-memory SQLite VFS (contract in vfs.h, fault model in
 * notes/sqlite-fault-model.md).
 *
 * Why it exists: the simulator must decide exactly what a power loss keeps, so every byte
 * SQLite writes lives here, in two images per file: `data`, what reads see, and `durable`,
 * what the last successful xSync covered. A crash settles every pending (dirty) sector to
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
 * - Every 4096-byte sector whose bit in `dirty` is clear holds the same bytes in data and
 *   durable over [0, data_size). Growing data marks the whole new range dirty, so xSync
 *   copies only dirty sectors: its cost follows what changed, not the file size (WAL
 *   commits sync often and databases grow to several MB).
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

struct sg_vfs_file_image {
    char *path;
    unsigned char *data;
    size_t data_size, data_cap;
    unsigned char *durable;
    size_t durable_size, durable_cap;
    uint64_t *dirty; /* one bit per sector of data_cap */
    size_t dirty_words;
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
    free(img->path);
    free(img->data);
    free(img->durable);
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

/* Grows *buf to hold at least `need` bytes, in whole sectors, at least doubling. */
static bool bytes_reserve(unsigned char **buf, size_t *cap, size_t need)
{
    SG_ASSERT_PURE(need <= FILE_BYTES_MAX);
    if (need <= *cap) return true;
    size_t cap_new = *cap * 2 > need ? *cap * 2 : need;
    cap_new = (cap_new + SECTOR_BYTES - 1) / SECTOR_BYTES * SECTOR_BYTES;
    unsigned char *grown = realloc(*buf, cap_new);
    if (grown == NULL) return false;
    *buf = grown;
    *cap = cap_new;
    SG_ASSERT_PURE(*cap >= need);
    return true;
}

/* Grows data, and the dirty bitmap with it so every sector of data_cap has a bit. */
static bool data_reserve(struct sg_vfs_file_image *img, size_t need)
{
    if (!bytes_reserve(&img->data, &img->data_cap, need)) return false;
    size_t sectors = img->data_cap / SECTOR_BYTES;
    size_t words = (sectors + 63) / 64;
    if (words > img->dirty_words) {
        uint64_t *dirty = realloc(img->dirty, words * sizeof *dirty);
        if (dirty == NULL) return false;
        memset(&dirty[img->dirty_words], 0, (words - img->dirty_words) * sizeof *dirty);
        img->dirty = dirty;
        img->dirty_words = words;
    }
    SG_ASSERT_PURE(img->dirty_words * 64 * SECTOR_BYTES >= img->data_cap);
    return true;
}

static void mark_dirty(struct sg_vfs_file_image *img, size_t offset, size_t len)
{
    SG_ASSERT_PURE(offset + len <= img->data_cap);
    if (len == 0) return;
    size_t last = (offset + len - 1) / SECTOR_BYTES;
    for (size_t s = offset / SECTOR_BYTES; s <= last; s++) {
        img->dirty[s / 64] |= (uint64_t)1 << (s % 64);
    }
    img->pending = true;
}

/* Sets the size of data; new bytes read as zeros and are dirty (durable may differ). */
static bool data_resize(struct sg_vfs_file_image *img, size_t size)
{
    if (size > img->data_size) {
        if (!data_reserve(img, size)) return false;
        memset(&img->data[img->data_size], 0, size - img->data_size);
        mark_dirty(img, img->data_size, size - img->data_size);
    }
    img->data_size = size;
    img->pending = true;
    SG_ASSERT_PURE(img->data_size <= img->data_cap);
    return true;
}

static void dirty_clear(struct sg_vfs_file_image *img)
{
    if (img->dirty_words > 0) memset(img->dirty, 0, img->dirty_words * sizeof *img->dirty);
    img->pending = false;
}

/* durable := data, copying only dirty sectors (see the invariant at the top). */
static bool image_sync(struct sg_vfs_file_image *img)
{
    if (!bytes_reserve(&img->durable, &img->durable_cap, img->data_size)) return false;
    for (size_t w = 0; w < img->dirty_words; w++) {
        uint64_t bits = img->dirty[w];
        for (size_t b = 0; bits != 0 && b < 64; b++, bits >>= 1) {
            if ((bits & 1) == 0) continue;
            size_t offset = (w * 64 + b) * SECTOR_BYTES;
            if (offset >= img->data_size) break;
            size_t n = img->data_size - offset < SECTOR_BYTES ? img->data_size - offset
                                                              : SECTOR_BYTES;
            memcpy(&img->durable[offset], &img->data[offset], n);
        }
    }
    img->durable_size = img->data_size;
    img->exists_durable = true;
    dirty_clear(img);
    SG_ASSERT_PURE(img->durable_size <= img->durable_cap);
    return true;
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

/* Writes the post-crash bytes of [from, to), at most one chunk, into durable. New bytes
 * come from data; past data's end (an undone truncate) the durable bytes are the only
 * ones there are. Old bytes are durable's; past the durable size they are a hole: zeros. */
static void chunk_settle(struct sg_vfs_file_image *img, size_t from, size_t to, bool take_new)
{
    SG_ASSERT_PURE(from < to);
    SG_ASSERT_PURE(to - from <= CHUNK_BYTES);
    if (take_new) {
        size_t end = to < img->data_size ? to : img->data_size;
        if (from < end) memcpy(&img->durable[from], &img->data[from], end - from);
        if (end < to) SG_ASSERT_PURE(to <= img->durable_size);
    } else if (to > img->durable_size) {
        size_t start = from > img->durable_size ? from : img->durable_size;
        memset(&img->durable[start], 0, to - start);
    }
}

/* Settles dirty sector s of a file whose post-crash size is `size` (s starts below it):
 * durable gets the surviving bytes, then data copies them. */
static void sector_settle(struct sg_vfs_file_image *img, size_t s, size_t size, uint32_t mask)
{
    size_t offset = s * SECTOR_BYTES;
    size_t end = offset + SECTOR_BYTES < size ? offset + SECTOR_BYTES : size;
    SG_ASSERT_PURE(offset < end);
    for (size_t c = 0; c < CHUNKS_PER_SECTOR; c++) {
        size_t from = offset + c * CHUNK_BYTES;
        if (from >= end) break;
        size_t to = from + CHUNK_BYTES < end ? from + CHUNK_BYTES : end;
        chunk_settle(img, from, to, ((mask >> c) & 1) != 0);
    }
    memcpy(&img->data[offset], &img->durable[offset], end - offset);
}

/* The power loss of one file that has a durable existence (f == NULL: exact revert).
 * Both images end equal; sectors that were not dirty are not read or written, except
 * that an undone truncate restores data's tail from durable. */
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
    /* A crash cannot report an error; running out of memory here ends the run. */
    bool reserved = data_reserve(img, size) &&
                    bytes_reserve(&img->durable, &img->durable_cap, size);
    SG_ASSERT_PURE(reserved);
    for (size_t w = 0; w < img->dirty_words; w++) {
        uint64_t bits = img->dirty[w];
        for (size_t b = 0; bits != 0 && b < 64; b++, bits >>= 1) {
            size_t s = w * 64 + b;
            if ((bits & 1) == 0 || s * SECTOR_BYTES >= size) continue;
            sector_settle(img, s, size, sector_fate(f, stats));
        }
    }
    if (size > img->data_size) {
        memcpy(&img->data[img->data_size], &img->durable[img->data_size],
               size - img->data_size);
    }
    img->data_size = size;
    img->durable_size = size;
    dirty_clear(img);
    SG_ASSERT_PURE(img->data_size <= img->data_cap);
    SG_ASSERT_PURE(img->durable_size <= img->durable_cap);
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
        memcpy(buf, &img->data[off], got);
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
    if (end > img->data_size && !data_resize(img, end)) return SQLITE_IOERR_NOMEM;
    memcpy(&img->data[off], buf, (size_t)amount);
    mark_dirty(img, off, (size_t)amount);
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
    if (!data_resize(h->img, size_new)) return SQLITE_IOERR_NOMEM;
    SG_ASSERT_PURE(h->img->data_size == size_new);
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
    if (!image_sync(h->img)) return SQLITE_IOERR_NOMEM;
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

/* Counts capacities: the bytes actually held, which is what a memory budget needs. */
size_t sg_vfs_bytes(const struct sg_vfs *v, const char *prefix)
{
    SG_ASSERT_PURE(prefix != NULL);
    size_t total = 0;
    for (size_t i = 0; i < v->file_count; i++) {
        const struct sg_vfs_file_image *img = v->files[i];
        SG_ASSERT_PURE(img->data_size <= img->data_cap);
        SG_ASSERT_PURE(img->durable_size <= img->durable_cap);
        if (has_prefix(img->path, prefix)) total += img->data_cap + img->durable_cap;
    }
    for (size_t i = 0; i < v->deleted_count; i++) {
        const struct sg_vfs_file_image *img = v->deleted[i];
        if (has_prefix(img->path, prefix)) total += img->data_cap + img->durable_cap;
    }
    return total;
}
