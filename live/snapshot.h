/*
 * snapshot.h (live): what a node shows the console (DESIGN §7 "Console").
 *
 * Every node runs its SQLite databases with locking_mode=EXCLUSIVE (the setting that
 * survives every legal disk fault, notes/sqlite-fault-model.md), so no second process can
 * open them while the node lives: a console reading the files would either fail or force
 * a weaker mode on the services. Instead each node writes DATA/<role>/status.json once a
 * second, from its own connection between two steps: pid, start count, commits, and for
 * the orchestrator the withdrawals by status and the latest ones (saga step, trace id,
 * created_at), for the broker every partition's log end and every group's committed
 * offset. The file is replaced atomically (write, then rename), so a reader never sees half
 * of one. The console only reads these files and the lock files: it never blocks a node.
 */
#ifndef SG_LIVE_SNAPSHOT_H
#define SG_LIVE_SNAPSHOT_H

#include <stdint.h>

#include "node.h"

enum { SG_SNAPSHOT_LATEST = 25 };

/* Writes DATA/<role>/status.json for node n; silently skips when a query fails. */
void sg_live_snapshot_write(const struct sg_node *n, const char *role_dir, const char *role,
                            int pid, uint64_t starts, uint64_t commits);

#endif
