/* Mapping tables: load, look up, remember what passed through unmapped. */
#include "posbridge/maps.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"
#include "posbridge/banned.h"

static const char *const field_names[PB_MAP__COUNT] = {
    "attribute", "size", "option3", "department", "category", "vendor", "tag", "tender",
};

const char *
pb_map_field_name(enum pb_map_field f)
{
    return (unsigned)f < PB_MAP__COUNT ? field_names[f] : "?";
}

struct entry {
    char *key;      /* normalised from-value */
    char *to;
    size_t to_len;
    unsigned long count; /* for unmapped entries: how often seen */
    size_t order;
};

/* An open-addressing table of entries keyed by their normalised text. */
struct table {
    struct entry *e;
    size_t n, cap;
};

struct pb_maps {
    int ci;
    struct table rows[PB_MAP__COUNT];
    struct entry *deflt[PB_MAP__COUNT];
    struct table unmapped[PB_MAP__COUNT];
    size_t order;
    struct pb_buf norm;
};

struct pb_maps *
pb_maps_new(int ci)
{
    struct pb_maps *m = calloc(1, sizeof(*m));
    if (m) {
        m->ci = ci;
        pb_buf_init(&m->norm, 4096);
    }
    return m;
}

static void
table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->e[i].key);
        free(t->e[i].to);
    }
    free(t->e);
    memset(t, 0, sizeof(*t));
}

void
pb_maps_free(struct pb_maps *m)
{
    if (!m)
        return;
    for (int f = 0; f < PB_MAP__COUNT; f++) {
        table_free(&m->rows[f]);
        table_free(&m->unmapped[f]);
        if (m->deflt[f]) {
            free(m->deflt[f]->to);
            free(m->deflt[f]);
        }
    }
    pb_buf_release(&m->norm);
    free(m);
}

static uint64_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct entry *
lookup(struct table *t, const char *key, int add)
{
    if (t->cap == 0) {
        if (!add)
            return NULL;
        t->cap = 64;
        if (!(t->e = calloc(t->cap, sizeof(*t->e))))
            return NULL;
    } else if (add && (t->n + 1) * 2 > t->cap) {
        struct table bigger = {calloc(t->cap * 2, sizeof(struct entry)), t->n, t->cap * 2};
        if (!bigger.e)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i].key)
                continue;
            size_t j = hash(t->e[i].key) & (bigger.cap - 1);
            while (bigger.e[j].key)
                j = (j + 1) & (bigger.cap - 1);
            bigger.e[j] = t->e[i];
        }
        free(t->e);
        *t = bigger;
    }
    size_t j = hash(key) & (t->cap - 1);
    while (t->e[j].key) {
        if (strcmp(t->e[j].key, key) == 0)
            return &t->e[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!add || !(t->e[j].key = strdup(key)))
        return NULL;
    t->n++;
    return &t->e[j];
}

/* Trim, collapse nothing else; lower-case when matching ignores case. */
static const char *
normalise(struct pb_maps *m, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    pb_buf_reset(&m->norm);
    if (pb_buf_add(&m->norm, v, len) < 0)
        return NULL;
    if (m->ci)
        for (size_t i = 0; i < m->norm.len; i++)
            if (m->norm.data[i] >= 'A' && m->norm.data[i] <= 'Z')
                m->norm.data[i] = (char)(m->norm.data[i] - 'A' + 'a');
    return m->norm.data;
}

int
pb_maps_load(struct pb_maps *m, const char *path, struct pb_error *err)
{
    struct pb_read_opts ro = {PB_READ_STAGED, NULL, PB_ENC_CSV, NULL, 1, NULL, NULL};
    struct pb_rec rec;
    struct pb_error bad;
    int rc = -1;
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_maps, &ro, err);
    if (!rd) {
        if (err)
            err->code = PB_ECONFIG;
        return -1;
    }
    if (pb_rec_init(&rec, &pb_schema_maps, err) < 0) {
        pb_reader_close(rd, NULL);
        return -1;
    }
    for (;;) {
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, err);
        if (r < 0) {
            if (err)
                err->code = PB_ECONFIG;
            goto out;
        }
        if (r == PB_READ_EOF)
            break;
        if (r == PB_READ_REJECT) {
            *err = bad;
            err->code = PB_ECONFIG;
            goto out;
        }
        size_t n;
        const char *field = pb_rec_get(&rec, PB_MAPS_FIELD, &n);
        int f;
        for (f = 0; f < PB_MAP__COUNT; f++)
            if (!strcmp(field, field_names[f]))
                break;
        const char *from = pb_rec_get(&rec, PB_MAPS_FROM, &n);
        size_t tl = 0;
        const char *to = pb_rec_get(&rec, PB_MAPS_TO, &tl);
        if (!to)
            to = "";
        /* "to" is what the store gets: trim it as a spreadsheet user would expect. */
        while (tl && (*to == ' ' || *to == '\t'))
            to++, tl--;
        while (tl && (to[tl - 1] == ' ' || to[tl - 1] == '\t'))
            tl--;
        struct entry *e;
        if (from && n == 1 && from[0] == '*') {
            if (!m->deflt[f] && !(m->deflt[f] = calloc(1, sizeof(struct entry))))
                goto oom;
            e = m->deflt[f];
        } else {
            const char *key = normalise(m, from ? from : "", from ? n : 0);
            if (!key || !(e = lookup(&m->rows[f], key, 1)))
                goto oom;
        }
        free(e->to);
        if (!(e->to = strndup(to, tl)))
            goto oom;
        e->to_len = tl;
    }
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_rec_release(&rec);
    return rc;
}

int
pb_maps_has(const struct pb_maps *m, enum pb_map_field f)
{
    return m && (m->rows[f].n || m->deflt[f]);
}

/* Count key (normalised) as a value of field f that no row maps, for pb_maps_unmapped. */
static void
remember_unmapped(struct pb_maps *m, enum pb_map_field f, const char *key)
{
    struct entry *u = lookup(&m->unmapped[f], key, 1);
    if (u && !u->count++)
        u->order = m->order++;
}

const char *
pb_maps_apply(struct pb_maps *m, enum pb_map_field f, const char *v, size_t *len, int *mapped)
{
    *mapped = 0;
    if (!pb_maps_has(m, f))
        return v;
    const char *key = normalise(m, v, *len);
    if (!key)
        return v;
    struct entry *e = lookup(&m->rows[f], key, 0);
    if (!e && m->deflt[f])
        e = m->deflt[f];
    if (e) {
        *mapped = 1;
        *len = e->to_len;
        return e->to;
    }
    if (f != PB_MAP_TAG) /* a tag map lists only the tags to rename or drop */
        remember_unmapped(m, f, key);
    return v;
}

void
pb_maps_note_unmapped(struct pb_maps *m, enum pb_map_field f, const char *v, size_t len)
{
    if (!pb_maps_has(m, f) || f == PB_MAP_TAG)
        return;
    const char *key = normalise(m, v, len);
    if (key)
        remember_unmapped(m, f, key);
}

struct seen {
    const char *field;
    const struct entry *e;
};

static int
by_order(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    return x->e->order < y->e->order ? -1 : x->e->order > y->e->order;
}

void
pb_maps_unmapped(const struct pb_maps *m,
                 void (*fn)(void *user, const char *field, const char *value,
                            unsigned long count),
                 void *user)
{
    size_t total = 0, k = 0;
    for (int f = 0; f < PB_MAP__COUNT; f++)
        total += m->unmapped[f].n;
    if (!total)
        return;
    struct seen *all = malloc(total * sizeof(*all));
    if (!all)
        return;
    for (int f = 0; f < PB_MAP__COUNT; f++)
        for (size_t i = 0; i < m->unmapped[f].cap; i++)
            if (m->unmapped[f].e[i].key)
                all[k++] = (struct seen){field_names[f], &m->unmapped[f].e[i]};
    qsort(all, k, sizeof(*all), by_order);
    for (size_t i = 0; i < k; i++)
        fn(user, all[i].field, all[i].e->key, all[i].e->count);
    free(all);
}
