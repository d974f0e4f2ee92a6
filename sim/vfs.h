/*
 * vfs.h: the simulated disk: an in-memory SQLite VFS (DESIGN §4, notes/sqlite-fault-model.md).
 *
 * Each file keeps two images: `data` (what reads see: every write so far) and `durable`
 * (what survives a power loss: the state at its last successful xSync). Writes and
 * truncates since the last sync are "pending". A crash of a disk (all files under a path
 * prefix, one prefix per node: "/n1/...") reverts each of its files to the durable image;
 * the simulator issue grows this into the full legal fault model (lost, reordered, torn
 * sectors). The main database file is created durably (SQLite never syncs directories).
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

struct sg_vfs_stats {
    uint64_t reads, writes, syncs, truncates, opens, deletes;
    uint64_t sync_failures, crashes;
};

struct sg_vfs {
    struct sqlite3_vfs *vfs;               /* owned; name given at init */
    struct sg_vfs_hooks hooks;
    struct sg_vfs_file_image **files;      /* every file of every disk, by path */
    size_t file_count, file_cap;
    struct sg_vfs_stats stats;
    char fail_sync_prefix[64];             /* see sg_vfs_fail_next_sync */
    uint32_t fail_sync_count;
    /* Private to vfs.c. */
    uint64_t temp_count;                   /* names files SQLite opens without a name */
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

/* Power loss of every file whose path starts with prefix: data := durable, pending
 * writes dropped. Call only after the node's connections were closed (see the note's
 * "abandoning a connection": the node layer closes first, then crashes its disk). */
void sg_vfs_crash(struct sg_vfs *v, const char *prefix);
/* The next `count` xSync calls on files under prefix fail with SQLITE_IOERR_FSYNC and
 * leave their writes pending (the COMMIT's outcome is then unknown). */
void sg_vfs_fail_next_sync(struct sg_vfs *v, const char *prefix, uint32_t count);
/* Deletes every file under prefix (a test's fresh disk). */
void sg_vfs_wipe(struct sg_vfs *v, const char *prefix);
/* Bytes held (data + durable) by files under prefix ("" for all). */
size_t sg_vfs_bytes(const struct sg_vfs *v, const char *prefix);

#endif
