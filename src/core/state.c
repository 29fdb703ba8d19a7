/* The catalog state and the results journal.  See include/posbridge/state.h. */
#include "posbridge/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

static char *
dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? strndup(path, (size_t)(s - path)) : strdup(".");
}

/* ---- catalog state ---- */

/*
 * Where `,"row":{...}` is in a line as pb_state_save writes it: [*a, *b).  0 when it is not
 * there in that form (a hand-made line is then parsed whole).
 */
static int
row_span(const char *s, size_t n, size_t *a, size_t *b)
{
    static const char key[] = ",\"row\":{";
    const char *p = NULL;
    for (const char *q = s; !p && (q = memchr(q, ',', n - (size_t)(q - s))); q++)
        if ((size_t)(q - s) + sizeof(key) - 1 <= n && !memcmp(q, key, sizeof(key) - 1))
            p = q;
    if (!p)
        return 0;
    size_t i = (size_t)(p - s) + sizeof(key) - 2; /* at the { */
    int depth = 0, str = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = 0;
        } else if (c == '"') {
            str = 1;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            *a = (size_t)(p - s);
            *b = i + 1;
            return 1;
        }
    }
    return 0;
}

struct pb_state_line {
    char *sku;
    char *text; /* with its newline; NULL: a tombstone (read from the log) */
    size_t len;
    size_t seq; /* the order read, for the log's lines */
};

static int
cmp_line(const void *a, const void *b)
{
    const struct pb_state_line *x = a, *y = b;
    return strcmp(x->sku, y->sku);
}

/* The same, lines about one SKU in the order they were read. */
static int
cmp_line_seq(const void *a, const void *b)
{
    const struct pb_state_line *x = a, *y = b;
    int c = strcmp(x->sku, y->sku);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void
free_line(struct pb_state_line *l)
{
    free(l->sku);
    free(l->text);
}

/* Keep a line as read, to be written back unchanged if its entry is never touched
 * (text NULL: a tombstone). */
static int
keep_line(struct pb_state_line **lines, size_t *n, size_t *cap, const char *sku,
          const char *text, size_t len)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        struct pb_state_line *nl = realloc(*lines, ncap * sizeof(*nl));
        if (!nl)
            return -1;
        *lines = nl;
        *cap = ncap;
    }
    struct pb_state_line *l = &(*lines)[*n];
    l->sku = strdup(sku);
    l->text = text ? malloc(len + 1) : NULL;
    l->len = 0;
    l->seq = *n;
    if (!l->sku || (text && !l->text)) {
        free_line(l);
        return -1;
    }
    if (text) {
        memcpy(l->text, text, len);
        l->len = len;
        if (text[len - 1] != '\n')
            l->text[l->len++] = '\n';
    }
    (*n)++;
    return 0;
}

/* Sort the kept lines by SKU (a file we wrote is sorted already); a SKU on two lines is
 * written back from its entry, whichever line won. */
static void
sort_lines(struct pb_state *st)
{
    int sorted = 1;
    for (size_t i = 1; i < st->nlines && sorted; i++)
        sorted = strcmp(st->lines[i - 1].sku, st->lines[i].sku) < 0;
    if (sorted)
        return;
    qsort(st->lines, st->nlines, sizeof(*st->lines), cmp_line);
    for (size_t i = 1; i < st->nlines; i++)
        if (!strcmp(st->lines[i - 1].sku, st->lines[i].sku))
            json_object_set_new(st->touched, st->lines[i].sku, json_true());
}

/* The entry on a line (NULL when it does not parse). */
static json_t *
parse_line(const char *line, size_t n)
{
    json_error_t je;
    size_t a, b;
    if (!row_span(line, n, &a, &b))
        return json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
    /* the row last sent is read only when it is needed (pb_state_row): most runs compare
     * hashes and never look at it */
    json_t *raw = json_stringn(line + a + 7, b - a - 7);
    char *head = malloc(n - (b - a));
    if (head) {
        memcpy(head, line, a);
        memcpy(head + a, line + b, n - b);
    }
    json_t *e = head ? json_loadb(head, n - (b - a), JSON_REJECT_DUPLICATES, &je) : NULL;
    free(head);
    if (e && raw && !json_object_get(e, "row"))
        json_object_set_new(e, "row", raw);
    else
        json_decref(raw);
    return e;
}

/*
 * Put the log's lines in place of the base's (both sorted by SKU: one walk).  The last
 * line about a SKU wins, so the copy of an untouched entry is never the base's old text;
 * a SKU dropped last has no line.  Takes the log's lines.
 */
static int
merge_log(struct pb_state *st, struct pb_state_line *log, size_t nlog)
{
    struct pb_state_line *out = malloc((st->nlines + nlog) * sizeof(*out));
    if (!out) {
        for (size_t j = 0; j < nlog; j++)
            free_line(&log[j]);
        free(log);
        return -1;
    }
    qsort(log, nlog, sizeof(*log), cmp_line_seq);
    size_t n = 0, i = 0, j = 0;
    while (i < st->nlines || j < nlog) {
        if (j == nlog || (i < st->nlines && strcmp(st->lines[i].sku, log[j].sku) < 0)) {
            out[n++] = st->lines[i++];
            continue;
        }
        while (i < st->nlines && !strcmp(st->lines[i].sku, log[j].sku))
            free_line(&st->lines[i++]);
        while (j + 1 < nlog && !strcmp(log[j + 1].sku, log[j].sku))
            free_line(&log[j++]);
        if (log[j].text)
            out[n++] = log[j];
        else
            free_line(&log[j]);
        j++;
    }
    free(log);
    free(st->lines);
    st->lines = out;
    st->nlines = n;
    return 0;
}

/*
 * Replay the change log over the base: each whole line replaces the entry of its SKU, a
 * tombstone deletes it.  A torn last line is left out of log_size, so the next append
 * cuts it off first.
 */
static int
load_log(struct pb_state *st, struct pb_error *err)
{
    FILE *fp = fopen(st->log_path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        return pb_error_sys(err, PB_EIO, errno, "cannot read '%s'", st->log_path);
    }
    struct pb_state_line *log = NULL;
    char *line = NULL;
    size_t cap = 0, nlog = 0, lcap = 0;
    ssize_t n;
    long lineno = 0;
    int oom = 0;
    st->log_size = 0;
    while (!oom && (n = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            pb_log(PB_LOG_WARN, "%s:%ld: incomplete line from an interrupted run ignored",
                   st->log_path, lineno);
            st->dirty = 1; /* the next save cuts it off */
            break;
        }
        st->log_size += n;
        json_t *e = parse_line(line, (size_t)n);
        const char *sku = e ? json_string_value(json_object_get(e, "sku")) : NULL;
        if (!sku) {
            pb_log(PB_LOG_WARN, "%s:%ld: unreadable line ignored", st->log_path, lineno);
            json_decref(e);
            st->dirty = st->compact = 1; /* the next save leaves it out */
            continue;
        }
        int dropped = json_is_true(json_object_get(e, "dropped"));
        oom = keep_line(&log, &nlog, &lcap, sku, dropped ? NULL : line, (size_t)n) < 0;
        if (dropped) {
            json_object_del(st->by_sku, sku);
            json_decref(e);
        } else {
            json_object_set_new(st->by_sku, sku, e);
        }
    }
    int rerr = ferror(fp) ? errno : 0;
    free(line);
    fclose(fp);
    if (oom || rerr) {
        for (size_t j = 0; j < nlog; j++)
            free_line(&log[j]);
        free(log);
        return oom ? pb_error_set(err, PB_EOS, "out of memory")
                   : pb_error_sys(err, PB_EIO, rerr, "cannot read '%s'", st->log_path);
    }
    if (nlog && merge_log(st, log, nlog) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return 0;
}

/* The change log beside the base: catalog.jsonl -> catalog.log.jsonl. */
static char *
log_path_of(const char *path)
{
    struct pb_buf b = PB_BUF_INIT;
    size_t n = strlen(path);
    int bad = n >= 6 && !strcmp(path + n - 6, ".jsonl")
                  ? pb_buf_add(&b, path, n - 6) < 0 || pb_buf_adds(&b, ".log.jsonl") < 0
                  : pb_buf_adds(&b, path) < 0 || pb_buf_adds(&b, ".log") < 0;
    if (bad) {
        pb_buf_release(&b);
        return NULL;
    }
    return pb_buf_detach(&b, NULL);
}

static int
load_base(struct pb_state *st, const char *path, struct pb_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        return pb_error_sys(err, PB_EIO, errno, "cannot read '%s'", path);
    }
    char *line = NULL;
    size_t cap = 0, lcap = 0;
    ssize_t n;
    long lineno = 0;
    int oom = 0;
    st->base_size = 0;
    while (!oom && (n = getline(&line, &cap, fp)) > 0) {
        lineno++;
        st->base_size += n;
        json_t *e = parse_line(line, (size_t)n);
        const char *sku = e ? json_string_value(json_object_get(e, "sku")) : NULL;
        if (!sku) {
            pb_log(PB_LOG_WARN, "%s:%ld: unreadable line ignored", path, lineno);
            json_decref(e);
            st->dirty = st->compact = 1; /* the next save leaves it out */
            continue;
        }
        oom = keep_line(&st->lines, &st->nlines, &lcap, sku, line, (size_t)n) < 0;
        json_object_set_new(st->by_sku, sku, e);
    }
    free(line);
    fclose(fp);
    if (oom)
        return pb_error_set(err, PB_EOS, "out of memory");
    sort_lines(st);
    return 0;
}

int
pb_state_load(struct pb_state *st, const char *path, struct pb_error *err)
{
    memset(st, 0, sizeof(*st));
    st->base_size = st->log_size = -1;
    st->path = strdup(path);
    st->log_path = log_path_of(path);
    st->by_sku = json_object();
    st->touched = json_object();
    if (!st->path || !st->log_path || !st->by_sku || !st->touched)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (load_base(st, path, err) < 0 || load_log(st, err) < 0) {
        st->dirty = 0; /* half a state must never be saved over the whole one */
        return -1;
    }
    return 0;
}

json_t *
pb_state_row(json_t *entry)
{
    json_t *r = json_object_get(entry, "row");
    if (!json_is_string(r))
        return r;
    json_t *o = json_loadb(json_string_value(r), json_string_length(r), JSON_REJECT_DUPLICATES,
                           NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        json_object_del(entry, "row");
        return NULL;
    }
    json_object_set_new(entry, "row", o);
    return o;
}

json_t *
pb_state_get(const struct pb_state *st, const char *sku)
{
    return json_object_get(st->by_sku, sku);
}

json_t *
pb_state_entry(struct pb_state *st, const char *sku)
{
    json_t *e = json_object_get(st->by_sku, sku);
    if (e)
        return e;
    e = json_pack("{s:s}", "sku", sku);
    if (!e || json_object_set_new(st->by_sku, sku, e) < 0)
        return NULL;
    pb_state_touch(st, sku);
    return e;
}

void
pb_state_touch(struct pb_state *st, const char *sku)
{
    json_object_set_new(st->touched, sku, json_true());
    st->dirty = 1;
}

void
pb_state_drop(struct pb_state *st, const char *sku)
{
    if (json_object_del(st->by_sku, sku) == 0)
        pb_state_touch(st, sku);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj (borrowed), sorted; *n of them.  NULL when out of memory. */
static const char **
sorted_keys(json_t *obj, size_t *n)
{
    const char **keys = malloc((json_object_size(obj) + 1) * sizeof(*keys));
    if (!keys)
        return NULL;
    const char *key;
    json_t *v;
    *n = 0;
    json_object_foreach(obj, key, v) keys[(*n)++] = key;
    qsort(keys, *n, sizeof(*keys), cmp_str);
    return keys;
}

/* One line of the file; a row never read goes back as it came. */
static char *
entry_text(json_t *e)
{
    json_t *r = json_object_get(e, "row");
    if (!json_is_string(r))
        return json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    json_incref(r);
    json_object_del(e, "row");
    char *text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(e, "row", r);
    const char *at = text ? strstr(text, ",\"sku\":") : NULL;
    if (!at) {
        free(text);
        return pb_state_row(e) ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    }
    struct pb_buf b = PB_BUF_INIT;
    size_t head = (size_t)(at - text);
    int bad = pb_buf_add(&b, text, head) < 0 || pb_buf_adds(&b, ",\"row\":") < 0 ||
              pb_buf_add(&b, json_string_value(r), json_string_length(r)) < 0 ||
              pb_buf_adds(&b, at) < 0;
    free(text);
    if (bad) {
        pb_buf_release(&b);
        return NULL;
    }
    return pb_buf_detach(&b, NULL);
}

/*
 * How big the log may grow: an eighth of the base, or 256 KiB for a small one.  A load
 * reads at most an eighth more than the base, and the base is rewritten once per eighth
 * of its size in changes (a few dozen nightly runs that change 1% of a big catalog)
 * instead of at every save.
 */
static size_t
log_limit(off_t base)
{
    size_t min = 256 * 1024, part = (size_t)(base / 8);
    return part > min ? part : min;
}

/*
 * The log lines of the touched entries, in SKU order: each entry as the base would hold
 * it, a tombstone for a SKU no longer there.  Stops early (returning 1) once `out` holds
 * more than `limit` bytes.
 */
static int
touched_lines(struct pb_state *st, struct pb_buf *out, size_t limit)
{
    size_t k;
    const char **keys = sorted_keys(st->touched, &k);
    if (!keys)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        json_t *e = json_object_get(st->by_sku, keys[i]);
        json_t *tomb = e ? NULL : json_pack("{s:b, s:s}", "dropped", 1, "sku", keys[i]);
        char *text = e      ? entry_text(e)
                     : tomb ? json_dumps(tomb, JSON_COMPACT | JSON_SORT_KEYS)
                            : NULL;
        json_decref(tomb);
        if (!text || pb_buf_adds(out, text) < 0 || pb_buf_addch(out, '\n') < 0)
            rc = -1;
        else if (out->len > limit)
            rc = 1;
        free(text);
    }
    free(keys);
    return rc;
}

/*
 * Append buf to the log in one write and fsync it (and the directory when the log is
 * new).  A torn tail left by a crash is cut off first; on an error the log is cut back
 * to its whole lines, so no half line is left to be read as a whole one.
 */
static int
log_append(struct pb_state *st, const struct pb_buf *buf, struct pb_error *err)
{
    int created = 0;
    int fd = open(st->log_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(st->log_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        created = 1;
    }
    if (fd < 0)
        return pb_error_sys(err, PB_ECANTCREAT, errno, "cannot write '%s'", st->log_path);
    off_t at = st->log_size < 0 ? 0 : st->log_size;
    struct stat sb;
    int bad = fstat(fd, &sb) < 0;
    if (!bad && !buf->len && sb.st_size == at && !created)
        return close(fd) < 0 ? pb_error_sys(err, PB_EIO, errno, "cannot write '%s'",
                                            st->log_path)
                             : 0;
    bad = bad || (sb.st_size != at && ftruncate(fd, at) < 0);
    for (size_t done = 0; !bad && done < buf->len;) {
        ssize_t w = pwrite(fd, buf->data + done, buf->len - done, at + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        bad = w <= 0;
        done += bad ? 0 : (size_t)w;
    }
    if (bad || fsync(fd) < 0) {
        int e = errno;
        if (ftruncate(fd, at) == 0)
            fsync(fd);
        close(fd);
        if (created)
            st->log_size = 0;
        return pb_error_sys(err, PB_EIO, e, "cannot write '%s'", st->log_path);
    }
    if (close(fd) < 0)
        return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", st->log_path);
    st->log_size = at + (off_t)buf->len;
    if (created) {
        char *dir = dir_of(st->log_path);
        int rc = dir ? pb_fsync_dir(dir, err)
                     : pb_error_set(err, PB_EOS, "out of memory");
        free(dir);
        return rc;
    }
    return 0;
}

/* The whole base, atomically: every entry, the untouched ones copied as read. */
static int
write_base(struct pb_state *st, struct pb_error *err)
{
    size_t k;
    const char **keys = sorted_keys(st->by_sku, &k);
    if (!keys)
        return pb_error_set(err, PB_EOS, "out of memory");
    struct pb_atomic af;
    if (pb_atomic_open(st->path, 0600, &af, err) < 0) {
        free(keys);
        return -1;
    }
    off_t size = 0;
    size_t at = 0; /* the kept lines and the keys are both sorted: one walk */
    for (size_t i = 0; i < k; i++) {
        while (at < st->nlines && strcmp(st->lines[at].sku, keys[i]) < 0)
            at++;
        if (at < st->nlines && !strcmp(st->lines[at].sku, keys[i]) &&
            !json_object_get(st->touched, keys[i])) {
            if (fwrite(st->lines[at].text, 1, st->lines[at].len, af.fp) != st->lines[at].len) {
                free(keys);
                pb_atomic_abort(&af);
                return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", st->path);
            }
            size += (off_t)st->lines[at].len;
            continue;
        }
        char *text = entry_text(json_object_get(st->by_sku, keys[i]));
        if (!text || fputs(text, af.fp) < 0 || fputc('\n', af.fp) < 0) {
            free(text);
            free(keys);
            pb_atomic_abort(&af);
            return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", st->path);
        }
        size += (off_t)strlen(text) + 1;
        free(text);
    }
    free(keys);
    if (pb_atomic_commit(&af, err) < 0)
        return -1;
    st->base_size = size;
    return 0;
}

int
pb_state_save(struct pb_state *st, struct pb_error *err)
{
    if (!st->dirty)
        return 0;
    char *dir = dir_of(st->path);
    if (!dir || pb_mkdirs(dir, 0700, err) < 0) {
        free(dir);
        return -1;
    }
    struct pb_buf add = PB_BUF_INIT;
    int rc = 0, append = 0;
    if (st->base_size >= 0 && !st->compact) {
        size_t limit = log_limit(st->base_size);
        size_t used = st->log_size > 0 ? (size_t)st->log_size : 0;
        size_t room = used < limit ? limit - used : 0;
        /* with no log to feed first, changes that will not fit are not needed */
        rc = touched_lines(st, &add, st->log_size < 0 ? room : SIZE_MAX);
        append = rc == 0 && add.len <= room;
    } else if (st->log_size >= 0) {
        rc = touched_lines(st, &add, SIZE_MAX);
    }
    if (rc < 0) {
        rc = pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    /*
     * Rewriting the base with a log on disk: the log gets the changes first.  The new
     * base is then always the old one with the whole log replayed over it, so a crash
     * between its rename and the log's unlink leaves a log whose replay changes nothing.
     */
    rc = 0;
    /* appending also cuts off a torn tail, even with nothing to add */
    int feed = append ? add.len || st->log_size >= 0 : add.len && st->log_size >= 0;
    if (feed && log_append(st, &add, err) < 0) {
        rc = -1;
        goto out;
    }
    if (!append) {
        if (write_base(st, err) < 0) {
            rc = -1;
            goto out;
        }
        if (st->log_size >= 0) {
            if (unlink(st->log_path) < 0 && errno != ENOENT) {
                rc = pb_error_sys(err, PB_EIO, errno, "cannot remove '%s'", st->log_path);
                goto out;
            }
            st->log_size = -1;
            if (pb_fsync_dir(dir, err) < 0) {
                rc = -1;
                goto out;
            }
        }
        st->compact = 0;
    }
    st->dirty = 0;
out:
    pb_buf_release(&add);
    free(dir);
    return rc;
}

void
pb_state_release(struct pb_state *st)
{
    for (size_t i = 0; i < st->nlines; i++)
        free_line(&st->lines[i]);
    free(st->lines);
    json_decref(st->touched);
    json_decref(st->by_sku);
    free(st->path);
    free(st->log_path);
    memset(st, 0, sizeof(*st));
}

/* ---- journal ---- */

int
pb_journal_open(struct pb_journal *j, const char *path, struct pb_error *err)
{
    memset(j, 0, sizeof(*j));
    j->path = strdup(path);
    j->last = json_object();
    if (!j->path || !j->last)
        return pb_error_set(err, PB_EOS, "out of memory");
    FILE *rd = fopen(path, "r");
    off_t good = 0;
    if (rd) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        off_t at = 0;
        long lineno = 0;
        while ((n = getline(&line, &cap, rd)) > 0) {
            lineno++;
            json_t *e = NULL;
            if (line[n - 1] == '\n')
                e = json_loadb(line, (size_t)n, 0, NULL);
            if (!e) {
                /* A crash mid-write leaves a torn last line: cut it off. */
                pb_log(PB_LOG_WARN, "%s:%ld: incomplete line from an interrupted run ignored",
                       path, lineno);
                break;
            }
            at += n;
            good = at;
            json_int_t seq = json_integer_value(json_object_get(e, "seq"));
            if ((uint64_t)seq > j->seq)
                j->seq = (uint64_t)seq;
            const char *key = json_string_value(json_object_get(e, "key"));
            if (key)
                json_object_set(j->last, key, e);
            json_decref(e);
        }
        free(line);
        fclose(rd);
        if (truncate(path, good) < 0 && errno != ENOENT)
            return pb_error_sys(err, PB_EIO, errno, "cannot repair '%s'", path);
    }
    char *dir = dir_of(path);
    int drc = dir ? pb_mkdirs(dir, 0755, err) : -1;
    free(dir);
    if (drc < 0)
        return -1;
    j->fp = fopen(path, "a");
    if (!j->fp)
        return pb_error_sys(err, PB_ECANTCREAT, errno, "cannot write '%s'", path);
    return 0;
}

static int
append(struct pb_journal *j, json_t *line, struct pb_error *err)
{
    char ts[32];
    pb_time_format((int64_t)time(NULL), ts);
    json_object_set_new(line, "t", json_string(ts));
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return pb_error_set(err, PB_EOS, "out of memory");
    int bad = fputs(text, j->fp) < 0 || fputc('\n', j->fp) < 0;
    free(text);
    if (bad)
        return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", j->path);
    const char *key = json_string_value(json_object_get(line, "key"));
    if (key)
        json_object_set(j->last, key, line);
    j->unsynced++;
    return 0;
}

uint64_t
pb_journal_intent(struct pb_journal *j, const char *op, const char *key, json_t *extra,
                  struct pb_error *err)
{
    uint64_t seq = ++j->seq;
    json_t *line = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)seq, "kind", "intent",
                             "op", op, "key", key);
    if (!line) {
        json_decref(extra);
        pb_error_set(err, PB_EOS, "out of memory");
        return 0;
    }
    if (extra)
        json_object_update(line, extra);
    json_decref(extra);
    int rc = append(j, line, err);
    json_decref(line);
    return rc < 0 ? 0 : seq;
}

int
pb_journal_outcome(struct pb_journal *j, uint64_t seq, const char *op, const char *key,
                   json_t *extra, struct pb_error *err)
{
    json_t *line = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)seq, "kind", "outcome",
                             "op", op, "key", key);
    if (!line) {
        json_decref(extra);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    if (extra)
        json_object_update(line, extra);
    json_decref(extra);
    int rc = append(j, line, err);
    json_decref(line);
    return rc;
}

int
pb_journal_sync(struct pb_journal *j, struct pb_error *err)
{
    if (!j->fp || !j->unsynced)
        return 0;
    if (fflush(j->fp) != 0 || fsync(fileno(j->fp)) < 0)
        return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", j->path);
    j->unsynced = 0;
    return 0;
}

json_t *
pb_journal_last(const struct pb_journal *j, const char *key)
{
    return json_object_get(j->last, key);
}

int
pb_journal_close(struct pb_journal *j, struct pb_error *err)
{
    int rc = pb_journal_sync(j, err);
    if (j->fp && fclose(j->fp) != 0 && rc == 0)
        rc = pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", j->path);
    json_decref(j->last);
    free(j->path);
    memset(j, 0, sizeof(*j));
    return rc;
}
