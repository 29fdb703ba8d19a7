/* Batch directories and their manifest.json. */
#include "posbridge/batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"


static char *
parent_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

static int
empty_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

int
pb_batch_create(struct pb_batch *b, const char *batches_dir, const char *out_dir,
                const char *kind, int64_t now, struct pb_error *err)
{
    return pb_batch_create_ex(b, batches_dir, out_dir, kind, now, 0, err);
}

int
pb_batch_create_ex(struct pb_batch *b, const char *batches_dir, const char *out_dir,
                   const char *kind, int64_t now, int replace, struct pb_error *err)
{
    char ts[32], stamp[32];
    char *parent = NULL;
    memset(b, 0, sizeof(*b));
    pb_time_format(now, ts);
    /* 2026-11-27T02:00:00Z -> 20261127T020000Z */
    size_t k = 0;
    for (const char *p = ts; *p; p++)
        if (*p != '-' && *p != ':')
            stamp[k++] = *p;
    stamp[k] = '\0';

    if (out_dir) {
        struct stat st;
        if (stat(out_dir, &st) == 0 && !(S_ISDIR(st.st_mode) && (replace || empty_dir(out_dir))))
            return pb_error_set(err, PB_ECANTCREAT,
                                S_ISDIR(st.st_mode)
                                    ? "'%s' already exists; choose a new directory, or --force "
                                      "to replace it"
                                    : "'%s' already exists and is not a directory",
                                out_dir);
        b->replace = replace;
        parent = parent_of(out_dir);
        if (!parent || pb_mkdirs(parent, 0755, err) < 0)
            goto fail;
        b->final_dir = strdup(out_dir);
        const char *base = strrchr(out_dir, '/');
        b->id = strdup(base ? base + 1 : out_dir);
    } else {
        if (pb_mkdirs(batches_dir, 0755, err) < 0)
            goto fail;
        pb_tmpdir_sweep(batches_dir);
        parent = strdup(batches_dir);
        for (int n = 1; n < 1000; n++) {
            struct pb_buf id = PB_BUF_INIT;
            if (pb_buf_addf(&id, "%s-%s", stamp, kind) < 0 ||
                (n > 1 && pb_buf_addf(&id, "-%d", n) < 0)) {
                pb_buf_release(&id);
                pb_error_set(err, PB_EOS, "out of memory");
                goto fail;
            }
            char *dir = pb_path_join(batches_dir, id.data);
            if (dir && access(dir, F_OK) != 0) {
                b->id = pb_buf_detach(&id, NULL);
                b->final_dir = dir;
                break;
            }
            free(dir);
            pb_buf_release(&id);
        }
    }
    if (!parent || !b->final_dir || !b->id) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto fail;
    }
    b->dir = pb_tmpdir_make(parent, kind, err);
    if (!b->dir)
        goto fail;
    b->manifest = json_pack("{s:s, s:s, s:s, s:s, s:[], s:{}}", "id", b->id, "kind", kind,
                            "created", ts, "posbridge", PB_VERSION, "inputs", "stages");
    if (!b->manifest) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto fail;
    }
    free(parent);
    return 0;
fail:
    free(parent);
    pb_batch_release(b);
    return -1;
}

int
pb_batch_add_input(struct pb_batch *b, const char *path, struct pb_error *err)
{
    char hex[65];
    unsigned long long size;
    if (pb_digest_file(path, hex, &size, err) < 0)
        return -1;
    return pb_batch_add_input_hashed(b, path, hex, size, err);
}

int
pb_batch_add_input_hashed(struct pb_batch *b, const char *path, const char *hex,
                          unsigned long long size, struct pb_error *err)
{
    json_t *in = json_pack("{s:s, s:I, s:s}", "path", path, "bytes", (json_int_t)size,
                           "blake3", hex);
    if (!in || json_array_append_new(json_object_get(b->manifest, "inputs"), in) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return 0;
}

json_t *
pb_batch_stage(struct pb_batch *b, const char *name)
{
    json_t *stages = json_object_get(b->manifest, "stages");
    json_t *s = json_object_get(stages, name);
    if (!s) {
        s = json_pack("{s:[]}", "outputs");
        if (!s || json_object_set_new(stages, name, s) < 0)
            return NULL;
    }
    return s;
}

int
pb_batch_add_output(json_t *stage, const char *relpath, const char *digest, uint64_t records,
                    struct pb_error *err)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "path", relpath, "blake3", digest, "records",
                          (json_int_t)records);
    if (!o || json_array_append_new(json_object_get(stage, "outputs"), o) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return 0;
}

json_t *
pb_batch_output(const json_t *stage, const char *relpath)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(stage, "outputs"), i, o) {
        const char *p = json_string_value(json_object_get(o, "path"));
        if (p && !strcmp(p, relpath))
            return o;
    }
    return NULL;
}

/* The identity of the file at path, as text; -1 when it cannot be had. */
static int
identity(const char *path, struct stat *sb, char out[160])
{
    if (stat(path, sb) != 0)
        return -1;
    snprintf(out, 160, "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", (unsigned long long)sb->st_dev,
             (unsigned long long)sb->st_ino, (long long)sb->st_size,
             (long long)sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec, (long long)sb->st_ctim.tv_sec,
             sb->st_ctim.tv_nsec);
    return 0;
}

static int
later(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

int
pb_batch_note_identity(const struct pb_batch *b, json_t *stage, const char *relpath,
                       struct pb_error *err)
{
    json_t *o = pb_batch_output(stage, relpath);
    char *path = pb_batch_file(b, relpath);
    struct stat sb;
    char id[160];
    int rc = 0;
    if (!o || !path || identity(path, &sb, id) < 0)
        goto out;
    /* File times come from the kernel's coarse clock (or finer): once it is past the
     * change time, any later write stamps a later one. */
    for (int tries = 0; tries < 200; tries++) {
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME_COARSE, &now) != 0)
            goto out;
        if (later(&now, &sb.st_ctim)) {
            if (json_object_set_new(o, "identity", json_string(id)) < 0)
                rc = pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
out:
    free(path);
    return rc;
}

int
pb_batch_same_identity(const struct pb_batch *b, const json_t *stage, const char *relpath)
{
    const json_t *o = pb_batch_output(stage, relpath);
    const char *was = json_string_value(json_object_get(o, "identity"));
    char *path = pb_batch_file(b, relpath);
    struct stat sb;
    char id[160];
    int same = was && path && identity(path, &sb, id) == 0 && !strcmp(was, id);
    free(path);
    return same;
}

int
pb_batch_save(struct pb_batch *b, struct pb_error *err)
{
    char *text = json_dumps(b->manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *path = pb_path_join(b->dir, "manifest.json");
    int rc = -1;
    if (!text || !path) {
        pb_error_set(err, PB_EOS, "out of memory");
    } else {
        size_t n = strlen(text);
        text[n] = '\n';
        rc = pb_atomic_write(path, text, n + 1, err);
    }
    free(text);
    free(path);
    return rc;
}

int
pb_batch_publish(struct pb_batch *b, struct pb_error *err)
{
    if (pb_batch_save(b, err) < 0)
        return -1;
    if (!b->final_dir)
        return 0;
    if (b->replace) {
        if (pb_tmpdir_replace(b->dir, b->final_dir, err) < 0)
            return -1;
    } else {
        if (access(b->final_dir, F_OK) == 0)
            rmdir(b->final_dir); /* only an empty directory goes; anything else fails below */
        if (pb_tmpdir_publish(b->dir, b->final_dir, err) < 0)
            return -1;
    }
    free(b->dir);
    b->dir = b->final_dir;
    b->final_dir = NULL;
    return 0;
}

int
pb_batch_open(struct pb_batch *b, const char *dir, struct pb_error *err)
{
    json_error_t je;
    memset(b, 0, sizeof(*b));
    char *path = pb_path_join(dir, "manifest.json");
    if (!path)
        return pb_error_set(err, PB_EOS, "out of memory");
    b->manifest = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!b->manifest) {
        if (access(path, F_OK) != 0)
            pb_error_sys(err, PB_ENOINPUT, errno, "'%s' is not a batch (no manifest.json)",
                         dir);
        else
            pb_error_at(err, PB_EDATA, path, je.line, je.column, -1, NULL, "%s", je.text);
        free(path);
        return -1;
    }
    free(path);
    b->dir = strdup(dir);
    const char *id = json_string_value(json_object_get(b->manifest, "id"));
    b->id = strdup(id ? id : "");
    if (!b->dir || !b->id) {
        pb_batch_release(b);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 0;
}

void
pb_batch_release(struct pb_batch *b)
{
    if (b->final_dir && b->dir)
        pb_tmpdir_remove(b->dir);
    free(b->dir);
    free(b->final_dir);
    free(b->id);
    json_decref(b->manifest);
    memset(b, 0, sizeof(*b));
}

char *
pb_batch_file(const struct pb_batch *b, const char *name)
{
    return pb_path_join(b->dir, name);
}
