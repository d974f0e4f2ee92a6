/*
 * replay_main.c: the corpus replayer, the main() of every fuzz target in a build without
 * libFuzzer (SG_FUZZ=OFF: gcc, clang, ASan).
 *
 *   fuzz_<target> DIR|FILE...
 *
 * Feeds every regular file of each directory (names sorted, dot files skipped, no
 * recursion) and every file named to LLVMFuzzerTestOneInput, once, in that order. Each
 * input is copied into a buffer of exactly its size, so an ASan build catches a read past
 * the end as libFuzzer would. Arguments starting with '-' are libFuzzer flags and are
 * ignored, so one command line serves both builds. Exit status: 0 when at least one input
 * ran (a violated property traps before that), 1 when none did (a wrong path must not pass
 * as an empty corpus), 2 when a file cannot be read.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

enum { REPLAY_FILES_MAX = 100000, REPLAY_FILE_BYTES_MAX = 1 << 24 };

/* Runs one file; false when it cannot be read. */
static bool run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return false;
    }
    uint8_t *chunk = malloc(REPLAY_FILE_BYTES_MAX);
    size_t n = chunk ? fread(chunk, 1, REPLAY_FILE_BYTES_MAX, f) : 0;
    bool ok = chunk && !ferror(f) && feof(f);
    fclose(f);
    uint8_t *exact = ok ? malloc(n ? n : 1) : NULL;
    if (exact) {
        memcpy(exact, chunk, n);
        LLVMFuzzerTestOneInput(exact, n);
    } else {
        fprintf(stderr, "replay: cannot read %s (or larger than %d bytes)\n", path,
                REPLAY_FILE_BYTES_MAX);
    }
    free(exact);
    free(chunk);
    return exact != NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order; adds the count to *runs. */
static bool run_dir(const char *dir, size_t *runs)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return false;
    }
    char **names = calloc(REPLAY_FILES_MAX, sizeof *names);
    size_t count = 0;
    bool ok = names != NULL;
    struct dirent *ent;
    while (ok && count < REPLAY_FILES_MAX && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        size_t len = strlen(dir) + 1 + strlen(ent->d_name) + 1;
        names[count] = malloc(len);
        ok = names[count] != NULL;
        if (ok) snprintf(names[count++], len, "%s/%s", dir, ent->d_name);
    }
    closedir(d);
    if (ok) qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; ok && i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        ok = run_file(names[i]);
        if (ok) ++*runs;
    }
    for (size_t i = 0; names && i < count; i++) free(names[i]);
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    size_t runs = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue; /* a libFuzzer flag */
        struct stat st;
        bool ok = stat(argv[i], &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) ok = run_dir(argv[i], &runs);
        else if (ok && (ok = run_file(argv[i]))) runs++;
        if (!ok) {
            fprintf(stderr, "replay: %s: not a readable file or directory\n", argv[i]);
            return 2;
        }
    }
    printf("replay: %zu inputs ran, every property held\n", runs);
    return runs > 0 ? 0 : 1;
}
