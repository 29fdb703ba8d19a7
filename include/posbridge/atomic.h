/*
 * Atomic output files: write to a temp file in the same directory, then fsync, rename
 * over the final path and fsync the directory.  A reader sees the old file or the whole
 * new one, never a part.  Live temp files are unlinked at exit and on SIGINT, SIGTERM and
 * SIGHUP.  Temp directories (a batch being built) are removed at normal exit; one left by
 * a killed process is named after its pid and swept by pb_tmpdir_sweep.
 */
#ifndef PB_ATOMIC_H
#define PB_ATOMIC_H

#include <stdio.h>

struct pb_error;

struct pb_atomic {
    FILE *fp;      /* write here */
    char *path;    /* final path (owned) */
    char *tmp;     /* temp path (owned); when anon, the pattern of the name it gets */
    int anon;      /* the file has no name until the commit (O_TMPFILE) */
};

/*
 * Create a temp file next to path; mode is applied to the new file.  -1 on error.  Where
 * the filesystem allows, the file has no name until the commit, so a process killed
 * before then leaves nothing behind; elsewhere it is ".tmp-<name>-XXXXXX", removed on
 * abort and on SIGINT/SIGTERM.
 */
int pb_atomic_open(const char *path, int mode, struct pb_atomic *af, struct pb_error *err);
/* Flush, fsync, close, rename to the final path, fsync the directory.  Frees af. */
int pb_atomic_commit(struct pb_atomic *af, struct pb_error *err);
/* Close and unlink the temp file.  Frees af.  Safe on a zeroed or already-ended af. */
void pb_atomic_abort(struct pb_atomic *af);

/* Write a whole file atomically. */
int pb_atomic_write(const char *path, const void *data, size_t len, struct pb_error *err);

/* fsync a directory. */
int pb_fsync_dir(const char *dir, struct pb_error *err);

/*
 * Make a private temp directory "<parent>/.tmp-<pid>-<tag>-XXXXXX", registered for
 * removal at exit.  Returns a malloc'd path, or NULL.
 */
char *pb_tmpdir_make(const char *parent, const char *tag, struct pb_error *err);
/* Move a finished temp directory to its final path (which must not exist); unregister. */
int pb_tmpdir_publish(const char *tmp, const char *path, struct pb_error *err);
/* The same, replacing a directory already at `path` (--force): the two are swapped in one
 * step (renameat2 RENAME_EXCHANGE), so `path` is never missing, then the old one is removed. */
int pb_tmpdir_replace(const char *tmp, const char *path, struct pb_error *err);
/* Remove a temp directory tree now and unregister it. */
void pb_tmpdir_remove(const char *tmp);
/* Remove ".tmp-<pid>-*" directories under parent whose process is gone. */
void pb_tmpdir_sweep(const char *parent);

/* The names in dir that are regular files (dirs 1: directories; 2: both) not starting with
 * '.', and
 * when suffix1 is given ending in suffix1 or suffix2; sorted (strcmp), NULL-terminated.
 * NULL when there are none or dir cannot be read.  Free with pb_dir_list_free. */
char **pb_dir_list(const char *dir, int dirs, const char *suffix1, const char *suffix2);
void pb_dir_list_free(char **names);

/* Remove a directory tree (files and subdirectories).  Best effort. */
void pb_rmtree(const char *path);

/* mkdir -p.  -1 on error. */
int pb_mkdirs(const char *path, int mode, struct pb_error *err);

/* Install the exit and signal handlers (idempotent). */
void pb_atomic_install_handlers(void);

#endif
