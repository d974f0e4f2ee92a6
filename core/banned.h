/*
 * banned.h: the determinism rules of STYLE.md, enforced by the compiler (after git's
 * banned.h). Included last by every file in core/ and sim/: any later use of these names
 * is a compile error. Time, randomness, the process's identity, sleeping, threads, the
 * environment and stdio reach core and sim only through struct sg_env. ci/check-symbols
 * checks the same list on the built objects.
 */
#ifndef SG_BANNED_H
#define SG_BANNED_H

#pragma GCC poison time clock_gettime gettimeofday rand srand random getrandom getpid
#pragma GCC poison sleep usleep nanosleep pthread_create getenv secure_getenv
#pragma GCC poison printf fprintf vfprintf fopen fclose fwrite fread puts fputs perror

#endif
