/*
 * Batches: one directory per run of the pipeline, holding the staged files and a
 * manifest.json that records the inputs (path, size, BLAKE3 digest) and, per stage, its
 * outputs (path, digest, record count) and counts.  A new batch is built in a private temp
 * directory and published with one rename, so a failed stage leaves nothing behind.
 */
#ifndef PB_BATCH_H
#define PB_BATCH_H

#include <jansson.h>
#include <stdint.h>

struct pb_error;

struct pb_batch {
    char *dir;       /* where the files are now (the temp dir while building) */
    char *final_dir; /* where it will be published (NULL once published or opened) */
    char *id;        /* "20261127T020000Z-catalog" */
    json_t *manifest;
    int replace;     /* publish over an existing final_dir */
};

/*
 * Start a new batch of `kind`.  With out_dir, that is where it will be published (it
 * must not exist, or be an empty directory); otherwise under batches_dir with a fresh
 * id.  now: the creation time (seconds since the epoch, UTC).
 */
int pb_batch_create(struct pb_batch *b, const char *batches_dir, const char *out_dir,
                    const char *kind, int64_t now, struct pb_error *err);
/* The same; with replace, an existing out_dir is replaced whole when the batch is
 * published (--force), never emptied first. */
int pb_batch_create_ex(struct pb_batch *b, const char *batches_dir, const char *out_dir,
                       const char *kind, int64_t now, int replace, struct pb_error *err);

/* Record an input file and its digest. */
int pb_batch_add_input(struct pb_batch *b, const char *path, struct pb_error *err);
/* Same, with the hash and size already known. */
int pb_batch_add_input_hashed(struct pb_batch *b, const char *path, const char *digest,
                              unsigned long long size, struct pb_error *err);

/*
 * The record for stage `name` (created empty if missing), owned by the manifest: add
 * counts to it with json_object_set_new.
 */
json_t *pb_batch_stage(struct pb_batch *b, const char *name);

/* Add an output to a stage record: path relative to the batch, digest and count. */
int pb_batch_add_output(json_t *stage, const char *relpath, const char *digest,
                        uint64_t records, struct pb_error *err);

/* The stage's output record for relpath, or NULL. */
json_t *pb_batch_output(const json_t *stage, const char *relpath);

/*
 * Note in a stage's output record for relpath (added already) the file's identity as it
 * is now: device, inode, size, modification and change times.  A later stage that finds
 * the file with the same identity knows it unchanged without reading it (as make, rsync
 * and git do): any write to a file, or a new file in its place, changes its change time
 * or its inode, and no program can set a change time back.  The call waits (a few
 * milliseconds) until the clock has moved past the change time, so that a write in the
 * same clock tick cannot go unseen; if the clock does not move, nothing is noted.
 */
int pb_batch_note_identity(const struct pb_batch *b, json_t *stage, const char *relpath,
                           struct pb_error *err);
/* Is relpath the file its output record in stage noted (pb_batch_note_identity)? */
int pb_batch_same_identity(const struct pb_batch *b, const json_t *stage, const char *relpath);

/* Write manifest.json atomically (in the batch's current directory). */
int pb_batch_save(struct pb_batch *b, struct pb_error *err);

/* Save, then move the temp directory to its final place. */
int pb_batch_publish(struct pb_batch *b, struct pb_error *err);

/* Open an existing batch (reads its manifest). */
int pb_batch_open(struct pb_batch *b, const char *dir, struct pb_error *err);

/* Free memory; a batch never published is removed from disk. */
void pb_batch_release(struct pb_batch *b);

/* "<dir>/<name>", malloc'd. */
char *pb_batch_file(const struct pb_batch *b, const char *name);

#endif
