/* SHA-256 (FIPS 180-4), for the manifest's content hashes; HMAC and PBKDF2 on it for the
 * Web Connector's password. */
#ifndef PB_SHA256_H
#define PB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct pb_sha256 {
    uint32_t h[8];
    uint64_t n;        /* bytes hashed */
    unsigned char blk[64];
    size_t used;
};

void pb_sha256_init(struct pb_sha256 *s);
void pb_sha256_update(struct pb_sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest. */
void pb_sha256_final(struct pb_sha256 *s, unsigned char out[32]);
/* Finish and write 64 lowercase hex digits and a NUL to hex. */
void pb_sha256_hex(struct pb_sha256 *s, char hex[65]);

/* PBKDF2-HMAC-SHA-256 (RFC 8018): outlen bytes derived from a password and a salt. */
void pb_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                      unsigned long iterations, unsigned char *out, size_t outlen);

/* 1 when the n bytes at a and b are equal; the time taken does not depend on where they
 * differ (for comparing secrets). */
int pb_const_equal(const void *a, const void *b, size_t n);

struct pb_error;
/* Hash a whole file.  -1 (PB_ENOINPUT/PB_EIO) on error. */
int pb_sha256_file(const char *path, char hex[65], unsigned long long *size,
                   struct pb_error *err);

/*
 * Hashing on a second thread, so a stage's own work and the manifest's hashes overlap on
 * two cores.  Feed copies the bytes; finish waits for the thread and writes the hex.
 */
struct pb_sha256_async;
struct pb_sha256_async *pb_sha256_async_start(void);
/* -1 when the thread could not be started or memory ran out (the hash is then unusable). */
int pb_sha256_async_feed(struct pb_sha256_async *a, const void *data, size_t len);
/*
 * Or fill the stream's blocks in place, saving the copy, when the bytes go somewhere else
 * too (a file): pb_sha256_async_block gives the block being filled and how much of its
 * PB_SHA256_ASYNC_BLOCK bytes is used; pb_sha256_async_wrote says n more bytes are in it.
 * A block handed over when it is full (or at finish) is only read, and is not reused
 * before it is hashed.
 */
#define PB_SHA256_ASYNC_BLOCK (256 * 1024)
unsigned char *pb_sha256_async_block(struct pb_sha256_async *a, size_t *used);
void pb_sha256_async_wrote(struct pb_sha256_async *a, size_t n);
/* Wait, write the digest, free.  -1 only when a is NULL (it could not be started). */
int pb_sha256_async_finish(struct pb_sha256_async *a, char hex[65]);
/* Free without a digest (on abort). */
void pb_sha256_async_cancel(struct pb_sha256_async *a);

/*
 * A group of streams hashed by one thread, up to eight side by side in the lanes of the
 * CPU's vector unit (AVX2 or AVX-512 when present): for a stage that writes several
 * files at once, about the cost of hashing one.  The streams must be fed from threads
 * other than the group's, at roughly the same pace (each may run ahead by a megabyte).
 * new returns NULL when the thread cannot be started.  Free only once every stream
 * started in it is finished or cancelled.
 */
struct pb_sha256_group;
struct pb_sha256_group *pb_sha256_group_new(void);
void pb_sha256_group_free(struct pb_sha256_group *g);
/* As pb_sha256_async_start, hashed by g's thread (its own thread when g is NULL or
 * full).  Feed, finish and cancel as above. */
struct pb_sha256_async *pb_sha256_async_start_in(struct pb_sha256_group *g);

/* Hash a whole file on a second thread; join with pb_sha256_file_join. */
struct pb_sha256_job;
struct pb_sha256_job *pb_sha256_file_start(const char *path);
/* The same with the file in a stream of group g, beside the files being written: it takes
 * a lane the group's vector work has anyway.  Its reading keeps pace with the others. */
struct pb_sha256_job *pb_sha256_file_start_in(struct pb_sha256_group *g, const char *path);
/*
 * Or begun on a thread that runs only when a core would otherwise be idle (Linux's
 * SCHED_IDLE), while other work keeps the cores busy, and later moved: what is left of the
 * file goes on in a stream of group g at normal priority (or on a thread of its own when
 * g is NULL), from where the first thread stopped.  Join either way.
 */
struct pb_sha256_job *pb_sha256_file_start_idle(const char *path);
void pb_sha256_file_move(struct pb_sha256_job *job, struct pb_sha256_group *g);
int pb_sha256_file_join(struct pb_sha256_job *job, char hex[65], unsigned long long *size,
                        struct pb_error *err);

#endif
