/*
 * paths.h (live): the files of a live data directory (see live.h), as heap strings of any
 * length (no fixed-size path buffers: a data directory may be as long as the OS allows).
 */
#ifndef SG_LIVE_PATHS_H
#define SG_LIVE_PATHS_H

#include <stdbool.h>

/* "<dir>/<role>/<file>" (file NULL: "<dir>/<role>"); role NULL: "<dir>/<file>". The
 * caller frees. Aborts on out-of-memory. */
char *sg_live_path(const char *dir, const char *role, const char *file);
/* mkdir -p of dir (every missing parent), then dir/role when role is not NULL; false with
 * errno on failure. */
bool sg_live_mkdirs(const char *dir, const char *role);
/* The pid that DIR/<role>/pid names, when that process still holds DIR/<role>/lock;
 * 0 when the node is not running. */
int sg_live_running_pid(const char *dir, const char *role);

#endif
