/*
 * The manifest's file digests: BLAKE3, 256 bits, written as 64 lowercase hex digits (as
 * `b3sum` prints them).  A stage hashes the files it writes as it writes them, on another
 * thread, and the files it reads when their identity changed.
 */
#ifndef PB_DIGEST_H
#define PB_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct pb_blake3 {
    uint32_t cv[8];          /* the open chunk's chaining value */
    uint64_t chunk;          /* the open chunk's index: chunks finished before it */
    unsigned char buf[64];   /* its last block, not yet compressed */
    unsigned char buf_len;   /* bytes in buf */
    unsigned char blocks;    /* its blocks compressed */
    unsigned char pending;   /* pend is the top of a subtree, not yet on the stack */
    unsigned char pend_level; /* of 2^pend_level chunks, before the open one */
    unsigned char depth;     /* values on the stack */
    uint32_t pend[2][8];     /* its children's chaining values */
    uint32_t stack[54][8];   /* the left halves of the subtrees not yet complete */
    uint64_t n;              /* bytes hashed */
};

void pb_blake3_init(struct pb_blake3 *s);
void pb_blake3_update(struct pb_blake3 *s, const void *data, size_t len);
/* The 32-byte digest of what was hashed so far (s can go on being updated). */
void pb_blake3_final(const struct pb_blake3 *s, unsigned char out[32]);
/* The same as 64 lowercase hex digits and a NUL. */
void pb_blake3_hex(const struct pb_blake3 *s, char hex[65]);
/* For tests: hash with the "avx512", "avx2" or "plain" code path, or (NULL) the best the
 * CPU has.  -1 when the CPU lacks that one. */
int pb_blake3_use(const char *isa);

struct pb_error;
/* The digest of a whole file.  -1 (PB_ENOINPUT/PB_EIO) on error. */
int pb_digest_file(const char *path, char hex[65], unsigned long long *size,
                   struct pb_error *err);

/*
 * Hashing on a second thread, so a stage's own work and the manifest's hashes overlap on
 * two cores.  Feed copies the bytes; finish waits for the thread and writes the hex.
 */
struct pb_digest_async;
struct pb_digest_async *pb_digest_async_start(void);
/* -1 when the thread could not be started or memory ran out (the hash is then unusable). */
int pb_digest_async_feed(struct pb_digest_async *a, const void *data, size_t len);
/*
 * Or fill the stream's blocks in place, saving the copy, when the bytes go somewhere else
 * too (a file): pb_digest_async_block gives the block being filled and how much of its
 * PB_DIGEST_BLOCK bytes is used; pb_digest_async_wrote says n more bytes are in it.
 * A block handed over when it is full (or at finish) is only read, and is not reused
 * before it is hashed.
 */
#define PB_DIGEST_BLOCK (256 * 1024)
unsigned char *pb_digest_async_block(struct pb_digest_async *a, size_t *used);
void pb_digest_async_wrote(struct pb_digest_async *a, size_t n);
/* Wait, write the digest, free.  -1 only when a is NULL (it could not be started). */
int pb_digest_async_finish(struct pb_digest_async *a, char hex[65]);
/* Free without a digest (on abort). */
void pb_digest_async_cancel(struct pb_digest_async *a);

/*
 * A group of up to sixteen streams hashed by one thread, for a stage that writes several
 * files at once: one hashing thread instead of one per file.  (Each stream keeps every
 * lane of the vector unit busy by itself, so they are hashed in turn.)  The streams must
 * be fed from threads other than the group's.  new returns NULL when the thread cannot be
 * started.  Free only once every stream started in it is finished or cancelled.
 */
struct pb_digest_group;
struct pb_digest_group *pb_digest_group_new(void);
void pb_digest_group_free(struct pb_digest_group *g);
/* As pb_digest_async_start, hashed by g's thread (its own thread when g is NULL or
 * full).  Feed, finish and cancel as above. */
struct pb_digest_async *pb_digest_async_start_in(struct pb_digest_group *g);

/* Hash a whole file on a second thread; join with pb_digest_file_join. */
struct pb_digest_job;
struct pb_digest_job *pb_digest_file_start(const char *path);
/* The same with the file in a stream of group g, beside the files being written. */
struct pb_digest_job *pb_digest_file_start_in(struct pb_digest_group *g, const char *path);
/*
 * Or begun on a thread that runs only when a core would otherwise be idle (Linux's
 * SCHED_IDLE), while other work keeps the cores busy, and later moved: what is left of the
 * file goes on in a stream of group g at normal priority (or on a thread of its own when
 * g is NULL), from where the first thread stopped.  Join either way.
 */
struct pb_digest_job *pb_digest_file_start_idle(const char *path);
void pb_digest_file_move(struct pb_digest_job *job, struct pb_digest_group *g);
int pb_digest_file_join(struct pb_digest_job *job, char hex[65], unsigned long long *size,
                        struct pb_error *err);

#endif
