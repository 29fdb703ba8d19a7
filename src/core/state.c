/* The catalog state and the results journal.  See include/posbridge/state.h. */
#include "posbridge/state.h"

#include <errno.h>
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
    char *text; /* with its newline */
    size_t len;
};

static int
cmp_line(const void *a, const void *b)
{
    const struct pb_state_line *x = a, *y = b;
    return strcmp(x->sku, y->sku);
}

/* Keep a line as read, to be written back unchanged if its entry is never touched. */
static int
keep_line(struct pb_state *st, size_t *cap, const char *sku, const char *text, size_t len)
{
    if (st->nlines == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        struct pb_state_line *nl = realloc(st->lines, ncap * sizeof(*nl));
        if (!nl)
            return -1;
        st->lines = nl;
        *cap = ncap;
    }
    struct pb_state_line *l = &st->lines[st->nlines];
    l->sku = strdup(sku);
    l->text = malloc(len + 1);
    if (!l->sku || !l->text) {
        free(l->sku);
        free(l->text);
        return -1;
    }
    memcpy(l->text, text, len);
    l->len = len;
    if (text[len - 1] != '\n')
        l->text[l->len++] = '\n';
    st->nlines++;
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

int
pb_state_load(struct pb_state *st, const char *path, struct pb_error *err)
{
    memset(st, 0, sizeof(*st));
    st->path = strdup(path);
    st->by_sku = json_object();
    st->touched = json_object();
    if (!st->path || !st->by_sku || !st->touched)
        return pb_error_set(err, PB_EOS, "out of memory");
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
    while (!oom && (n = getline(&line, &cap, fp)) > 0) {
        lineno++;
        json_error_t je;
        size_t a, b;
        json_t *e;
        const char *sku = NULL;
        if (row_span(line, (size_t)n, &a, &b)) {
            /* the row last sent is read only when it is needed (pb_state_row): most runs
             * compare hashes and never look at it */
            json_t *raw = json_stringn(line + a + 7, b - a - 7);
            char *head = malloc((size_t)n - (b - a));
            if (head) {
                memcpy(head, line, a);
                memcpy(head + a, line + b, (size_t)n - b);
            }
            e = head ? json_loadb(head, (size_t)n - (b - a), JSON_REJECT_DUPLICATES, &je)
                     : NULL;
            free(head);
            if (e && raw && !json_object_get(e, "row"))
                json_object_set_new(e, "row", raw);
            else
                json_decref(raw);
        } else {
            e = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        }
        sku = e ? json_string_value(json_object_get(e, "sku")) : NULL;
        if (!sku) {
            pb_log(PB_LOG_WARN, "%s:%ld: unreadable line ignored", path, lineno);
            json_decref(e);
            st->dirty = 1; /* the next save leaves it out */
            continue;
        }
        oom = keep_line(st, &lcap, sku, line, (size_t)n) < 0;
        json_object_set_new(st->by_sku, sku, e);
    }
    free(line);
    fclose(fp);
    if (oom)
        return pb_error_set(err, PB_EOS, "out of memory");
    sort_lines(st);
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
    free(dir);
    size_t n = json_object_size(st->by_sku), k = 0;
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    if (!keys)
        return pb_error_set(err, PB_EOS, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(st->by_sku, key, v) keys[k++] = key;
    qsort(keys, k, sizeof(*keys), cmp_str);
    struct pb_atomic af;
    if (pb_atomic_open(st->path, 0600, &af, err) < 0) {
        free(keys);
        return -1;
    }
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
            continue;
        }
        char *text = entry_text(json_object_get(st->by_sku, keys[i]));
        if (!text || fputs(text, af.fp) < 0 || fputc('\n', af.fp) < 0) {
            free(text);
            free(keys);
            pb_atomic_abort(&af);
            return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", st->path);
        }
        free(text);
    }
    free(keys);
    if (pb_atomic_commit(&af, err) < 0)
        return -1;
    st->dirty = 0;
    return 0;
}

void
pb_state_release(struct pb_state *st)
{
    for (size_t i = 0; i < st->nlines; i++) {
        free(st->lines[i].sku);
        free(st->lines[i].text);
    }
    free(st->lines);
    json_decref(st->touched);
    json_decref(st->by_sku);
    free(st->path);
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
