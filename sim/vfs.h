/*
 * vfs.h: the simulated disk: an in-memory SQLite VFS (DESIGN §4, notes/sqlite-fault-model.md).
 *
 * Each file keeps two images: `data` (what reads see: every write so far) and `durable`
 * (what survives a power loss: the state at its last successful xSync). Writes and
 * truncates since the last sync are "pending". A crash of a disk (all files under a path
 * prefix, one prefix per node: "/n1/...") either reverts each of its files to the durable
 * image or, with a fault policy, applies the legal power-loss model of the note: each
 * pending sector lost, kept or torn (old and new 512-byte chunks mixed), pending size
 * changes kept or not, holes reading as zeros. Nothing a successful sync covered ever
 * changes. The main database file is created durably (SQLite never syncs directories).
 *
 * Deletes (the note's rule 8). An xDelete with dirSync != 0 is durable at once. One with
 * dirSync == 0 removes the file from the namespace at once (reads, opens and xAccess see
 * it gone) but, when the file existed durably, leaves a "pending delete" of its path: the
 * image as it was, which a power loss may bring back. A pending delete becomes durable
 * (is forgotten) when, before the power loss:
 *   - an xSync succeeds on any file in the same directory (the path up to and including
 *     its last '/'), whatever the sync flags; a sync of the deleted file itself through a
 *     handle still open on it counts too (it is in that directory);
 *   - an xDelete with dirSync != 0 succeeds in the same directory (a directory sync);
 *   - a main database file (SQLITE_OPEN_MAIN_DB) is created at the same path (created
 *     durably, its entry replaces the old one).
 * This is coarser than POSIX, which promises nothing without a directory fsync (os_unix
 * syncs the directory only at xDelete with dirSync and at the first xSync of a journal or
 * WAL it created): a sync of any file settles the directory here. It can only undo fewer
 * deletes than a real disk may, so it never reports a false violation.
 * Any other file created at a pending-delete path replaces it in the namespace, but the
 * old image stays pending: unlink(p) + create(p) with no directory sync may leave the old
 * file after a power loss. Once the new file is synced (a sync in the directory) the old
 * image is forgotten and the new one is governed by its own syncs.
 * At most one pending delete per path; deleting a re-created file again keeps the older
 * one (the new file never existed durably). Pending deletes count against the file limit.
 *
 * A disk can be "down" (its node crashed): every operation on its files fails except
 * unlock and close, so the node can abandon its connections without leaks before the
 * crash is computed; a countdown can take a disk down at an exact write/sync/truncate/
 * delete. Transient read/write errors can be injected per disk.
 *
 * Reports: io_methods version 1 (no xShm: databases use locking_mode=EXCLUSIVE + WAL),
 * sector size 4096, device characteristics 0. xRandomness and xCurrentTimeInt64 come from
 * the hooks, xSleep does nothing. Short reads zero-fill and return SQLITE_IOERR_SHORT_READ;
 * xAccess reports an empty file as absent.
 *
 * Registration is process-wide (SQLite's VFS list): one sg_vfs registered at a time, made
 * the default so SQLite's own PRNG is seeded through it; sg_vfs_register also resets
 * SQLite's PRNG (sqlite3_randomness(0, NULL)) so every run starts alike.
 */
#ifndef SG_VFS_H
#define SG_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3_vfs;
struct sg_vfs_file_image;

struct sg_vfs_hooks {
    void *ctx;
    uint64_t (*random_u64)(void *ctx);     /* xRandomness */
    int64_t (*now_wall_ns)(void *ctx);     /* xCurrentTimeInt64 (converted to Julian ms) */
};

/* Bytes of a disk's path prefix, NUL included. */
#define SG_VFS_PREFIX_BYTES 64
/* Disks that can be down at once. */
#define SG_VFS_DOWN_MAX 16

struct sg_vfs_stats {
    uint64_t reads, writes, syncs, truncates, opens, deletes; /* calls, failed ones too */
    uint64_t sync_failures, crashes;
    /* Pending sectors at crashes: lost (old bytes, zeros past the durable size), kept (new
     * bytes) or torn (a mix of old and new 512-byte chunks). */
    uint64_t sectors_lost, sectors_torn, sectors_kept;
    uint64_t read_errors, write_errors; /* injected by sg_vfs_set_io_faults */
    uint64_t down_failures;             /* operations refused because their disk was down */
    uint64_t deletes_undone;            /* pending deletes a crash undid (the file came back) */
};

/* The fault policy of one power loss (sg_vfs_crash). Probabilities are integer ratios;
 * a zero denominator means "never". All draws come from random_u64(ctx), in file order
 * then sector order, so a seed replays the same images. */
struct sg_vfs_crash_faults {
    uint64_t (*random_u64)(void *ctx);
    void *ctx;
    /* Chance that a pending sector write survives; the same chance decides whether a
     * pending size change (growth or truncate) persists and whether a pending delete
     * (dirSync == 0) persists: it is undone with chance 1 - keep. */
    uint32_t keep_pending_num, keep_pending_den;
    /* Chance that a surviving sector is torn instead of kept whole: a random proper,
     * non-empty subset of its 512-byte chunks takes the new bytes, the rest the old. */
    uint32_t torn_num, torn_den;
};

/* Private to vfs.c: see sg_vfs_set_io_faults. */
struct sg_vfs_io_faults {
    char prefix[SG_VFS_PREFIX_BYTES];
    uint32_t read_num, write_num, den;
    uint64_t (*random_u64)(void *ctx);
    void *ctx;
};

struct sg_vfs {
    struct sqlite3_vfs *vfs;               /* owned; name given at init */
    struct sg_vfs_hooks hooks;
    struct sg_vfs_file_image **files;      /* every file of every disk, by path */
    size_t file_count, file_cap;
    struct sg_vfs_stats stats;
    char fail_sync_prefix[SG_VFS_PREFIX_BYTES]; /* see sg_vfs_fail_next_sync */
    uint32_t fail_sync_count;
    /* Private to vfs.c. */
    char down_prefix[SG_VFS_DOWN_MAX][SG_VFS_PREFIX_BYTES]; /* disks that are down */
    uint32_t down_count;
    char down_after_prefix[SG_VFS_PREFIX_BYTES]; /* see sg_vfs_set_down_after */
    uint64_t down_after_count;
    bool down_after_armed;
    char down_at_sync[SG_VFS_DOWN_MAX][SG_VFS_PREFIX_BYTES]; /* see sg_vfs_set_down_at_sync */
    uint32_t down_at_sync_count;
    struct sg_vfs_io_faults io_faults;
    /* Pending deletes (see "Deletes" above), in deletion order; each image is unlinked
     * and has a durable existence. */
    struct sg_vfs_file_image **deleted;
    size_t deleted_count, deleted_cap;
    uint64_t temp_count;                   /* names files SQLite opens without a name */
    unsigned char **spare;                 /* freed sector buffers kept for reuse */
    size_t spare_count, spare_cap;
    bool registered;
};

/* name: the VFS name to register (e.g. "sgsim"). Returns false on out-of-memory. The VFS
 * points back at *v (pAppData), so v must stay where it is until sg_vfs_deinit. */
bool sg_vfs_init(struct sg_vfs *v, const char *name, const struct sg_vfs_hooks *hooks);
/* Unregisters if registered and frees every file; safe to call twice. Every file SQLite
 * opened on it must be closed first (asserted). */
void sg_vfs_deinit(struct sg_vfs *v);
/* Registers as SQLite's default VFS and resets SQLite's PRNG. Returns an SQLite code. */
int sg_vfs_register(struct sg_vfs *v);
void sg_vfs_unregister(struct sg_vfs *v);

/* Power loss of every file whose path starts with prefix. Call only after the node's
 * connections were closed (asserted; see the note's "abandoning a connection": set the
 * disk down, finalize every statement, sqlite3_close_v2, then crash). Allowed while the
 * disk is down; the down state is left as it is.
 * First the pending deletes under prefix, in deletion order: f == NULL undoes every one
 * (the durable state has the file); otherwise each persists with the keep chance and is
 * undone otherwise. An undone delete puts the file back at its path, replacing a file
 * created there since (which never existed durably), and counts in deletes_undone; the
 * file then goes through the power loss like any other.
 * Then the files: f == NULL: exact revert, data := durable (every pending write and size
 * change lost). Otherwise per file with pending changes, independently: the size becomes
 * the new one with the keep chance, else the durable one; each pending 4096-byte sector
 * below that size is lost, kept, or (among the survivors, with the torn chance) torn;
 * lost bytes past the durable size read as zeros. Files never synced and not a main
 * database vanish either way. No pending delete under prefix remains afterwards.
 * Cost: proportional to the pending sectors (and undone truncates) and pending deletes. */
void sg_vfs_crash(struct sg_vfs *v, const char *prefix, const struct sg_vfs_crash_faults *f);
/* While a disk is down, every read, write, sync, truncate, file size, lock, reserved-lock
 * check, access, delete and open on a file under prefix fails (SQLITE_IOERR_<kind>, open
 * SQLITE_CANTOPEN); unlock and close succeed and free. Setting it (up or down) also
 * disarms a countdown armed for the same prefix. At most SG_VFS_DOWN_MAX disks down. */
void sg_vfs_set_down(struct sg_vfs *v, const char *prefix, bool down);
bool sg_vfs_is_down(const struct sg_vfs *v, const char *prefix);
/* Arms a countdown: the next `op_count` writes, syncs, truncates and deletes under prefix
 * succeed, the one after takes the disk down (as sg_vfs_set_down(prefix, true)) and fails:
 * a power loss at an exact I/O, in the middle of a COMMIT or a checkpoint. One countdown
 * at a time; arming replaces the previous one. */
void sg_vfs_set_down_after(struct sg_vfs *v, const char *prefix, uint64_t op_count);
/* Arms a power loss at the next xSync under prefix (writes, truncates and deletes pass):
 * that sync takes the disk down and fails before anything is synced, so the power loss
 * lands inside a COMMIT between its WAL (or journal) writes and the sync that would make
 * them durable; the crash's fault policy then decides the fate of that tail (lost, kept,
 * torn). Independent of the countdown; sg_vfs_set_down on the same prefix disarms it. At
 * most SG_VFS_DOWN_MAX disks armed (arming one twice is one arm). */
void sg_vfs_set_down_at_sync(struct sg_vfs *v, const char *prefix);
/* Transient errors: each xRead / xWrite on a file under prefix fails with
 * SQLITE_IOERR_READ / SQLITE_IOERR_WRITE with chance read_num/den, write_num/den (a
 * failed write changes nothing). den == 0 disables; one prefix at a time. */
void sg_vfs_set_io_faults(struct sg_vfs *v, const char *prefix, uint32_t read_num,
                          uint32_t write_num, uint32_t den, uint64_t (*random_u64)(void *ctx),
                          void *ctx);
/* The next `count` xSync calls on files under prefix fail with SQLITE_IOERR_FSYNC and
 * leave their writes pending (the COMMIT's outcome is then unknown). */
void sg_vfs_fail_next_sync(struct sg_vfs *v, const char *prefix, uint32_t count);
/* Deletes every file under prefix, and forgets its pending deletes (a test's fresh disk). */
void sg_vfs_wipe(struct sg_vfs *v, const char *prefix);
/* Open handles on the files under prefix ("" for all); files deleted while open are not
 * counted. sg_vfs_crash and sg_vfs_deinit require it to be 0 for their prefix. */
size_t sg_vfs_open_count(const struct sg_vfs *v, const char *prefix);
/* Bytes held by files and pending deletes under prefix ("" for all): their sector buffers,
 * each counted once however many images share it; spare buffers kept for reuse are not
 * anybody's and are not counted. */
size_t sg_vfs_bytes(const struct sg_vfs *v, const char *prefix);

#endif
