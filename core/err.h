/*
 * err.h: operating failures returned by core functions (STYLE.md "Errors").
 * Programmer errors are SG_ASSERT failures instead.
 */
#ifndef SG_ERR_H
#define SG_ERR_H

enum sg_err {
    SG_OK = 0,
    SG_ERR_IO,        /* SQLite I/O or a non-OK COMMIT: outcome may be unknown */
    SG_ERR_CORRUPT,   /* undecodable bytes from disk or network */
    SG_ERR_INVALID,   /* invalid input from a client or a peer */
    SG_ERR_FULL,      /* a bounded queue or table is full: backpressure */
    SG_ERR_NOT_FOUND,
    SG_ERR_CRASHED,   /* a fault point crashed the node: unwind, touch nothing */
    SG_ERR_SCHEMA,    /* a database made by a newer build (migrate.h): refused */
};

#define SG_MUST_USE __attribute__((warn_unused_result))

const char *sg_err_name(enum sg_err err);

#endif
