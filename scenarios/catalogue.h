/*
 * catalogue.h: the scenario files embedded at build time (internal to scenarios/).
 *
 * embed.cmake generates the definitions (catalogue_data.c in the build tree) from the
 * scenarios/<name>.yaml files: one entry per file, sorted by name, then an all-zero
 * sentinel. Each text is the file's exact bytes with a NUL after them.
 */
#ifndef SG_SCENARIO_CATALOGUE_H
#define SG_SCENARIO_CATALOGUE_H

#include <stddef.h>

struct sg_catalogue_file {
    const char *name;           /* "calm": the file name without .yaml */
    const char *origin;         /* "scenarios/calm.yaml": named in error messages */
    const unsigned char *text;  /* the file's bytes, NUL-terminated */
    size_t len;                 /* bytes, without the NUL */
};

extern const struct sg_catalogue_file sg_catalogue_files[];
extern const size_t sg_catalogue_file_count;

#endif
