/* Record spools: put many records with extras, rewind, read them back, twice. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/record.h"
#include "posbridge/spool.h"

enum { N = 3000 };

/* Record i: a deterministic mix of present fields, empty-ish values and extras. */
static void
fill(struct pb_rec *r, int i)
{
    char v[64];
    pb_rec_clear(r);
    snprintf(v, sizeof(v), "%d", i + 1);
    pb_rec_set(r, PB_ITEMS_ITEM_NUMBER, v, strlen(v));
    if (i % 2)
        pb_rec_set(r, PB_ITEMS_PRICE1, "39.90", 5);
    if (i % 3 == 0) {
        snprintf(v, sizeof(v), "desc %d, \"quoted\"\nline", i);
        pb_rec_set(r, PB_ITEMS_DESC1, v, strlen(v));
    }
    if (i % 5 == 0)
        pb_rec_set(r, PB_ITEMS_ON_HAND_STORE_20, "2.5", 3);
    if (i % 7 == 0)
        pb_rec_set(r, PB_ITEMS_DESC2, "a\0b", 3); /* bytes, NUL included */
    for (int k = 0; k < i % 4; k++) {
        char name[16];
        snprintf(name, sizeof(name), "x_e%d", k);
        snprintf(v, sizeof(v), "value %d.%d", i, k);
        pb_rec_add_extra(r, name, strlen(name), v, k == 2 ? 0 : strlen(v));
    }
    r->line = 10L * i + 2;
    r->record_no = i + 1;
}

static int
same(const struct pb_rec *a, const struct pb_rec *b)
{
    if (a->line != b->line || a->record_no != b->record_no || a->nextra != b->nextra)
        return 0;
    for (int f = 0; f < a->schema->nfields; f++) {
        size_t na = 0, nb = 0;
        const char *va = pb_rec_get(a, f, &na), *vb = pb_rec_get(b, f, &nb);
        if (!va != !vb || (va && (na != nb || memcmp(va, vb, na) != 0)))
            return 0;
    }
    for (size_t k = 0; k < a->nextra; k++) {
        size_t na, nb;
        const char *va = pb_rec_extra_value(a, k, &na), *vb = pb_rec_extra_value(b, k, &nb);
        if (strcmp(pb_rec_extra_name(a, k), pb_rec_extra_name(b, k)) != 0 || na != nb ||
            memcmp(va, vb, na) != 0)
            return 0;
    }
    return 1;
}

static int
dir_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void
test_put_get(void)
{
    char dir[] = "/tmp/pb-test-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct pb_spool sp;
    struct pb_error err;
    struct pb_rec w, r, want;
    pb_error_init(&err);
    CHECK(pb_rec_init(&w, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_init(&want, &pb_schema_items, &err) == 0);
    CHECK(pb_spool_open(&sp, dir, &err) == 0);
    CHECK(dir_entries(dir) == 0); /* unlinked at once */
    for (int i = 0; i < N; i++) {
        fill(&w, i);
        CHECK(pb_spool_put(&sp, &w, i % 3, &err) == 0);
    }
    CHECK(sp.count == N);
    for (int pass = 0; pass < 2; pass++) {
        CHECK(pb_spool_rewind(&sp, &err) == 0);
        int n = 0, bad = 0;
        for (;;) {
            int fi = -1;
            int rc = pb_spool_get(&sp, &r, &fi, &err);
            if (rc <= 0) {
                CHECK(rc == 0);
                break;
            }
            fill(&want, n);
            if (!same(&r, &want) || fi != n % 3)
                bad++;
            n++;
        }
        CHECK(n == N);
        CHECK(bad == 0);
        /* at the end it stays at the end */
        int fi;
        CHECK(pb_spool_get(&sp, &r, &fi, &err) == 0);
    }
    CHECK(err.code == PB_OK);
    /* spot checks of the data itself */
    CHECK(pb_spool_rewind(&sp, &err) == 0);
    int fi;
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 1);
    size_t len;
    const char *d2 = pb_rec_get(&r, PB_ITEMS_DESC2, &len);
    CHECK(d2 && len == 3 && memcmp(d2, "a\0b", 3) == 0);
    CHECK(r.nextra == 0 && r.line == 2 && r.record_no == 1 && fi == 0);
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 1);
    CHECK(r.nextra == 1);
    CHECK_STR(pb_rec_extra_name(&r, 0), "x_e0");
    CHECK_STR(pb_rec_extra_value(&r, 0, NULL), "value 1.0");
    pb_spool_close(&sp);
    pb_spool_close(&sp); /* twice is harmless */
    CHECK(dir_entries(dir) == 0);
    rmdir(dir);
    pb_rec_release(&w);
    pb_rec_release(&r);
    pb_rec_release(&want);
}

/* Writing after reading appends; an empty spool reads as empty. */
static void
test_empty_and_append(void)
{
    char dir[] = "/tmp/pb-test-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct pb_spool sp;
    struct pb_error err;
    struct pb_rec r;
    int fi;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_spool_open(&sp, dir, &err) == 0);
    CHECK(pb_spool_rewind(&sp, &err) == 0);
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 0);
    /* a record with nothing at all */
    CHECK(pb_spool_put(&sp, &r, 0, &err) == 0);
    CHECK(pb_spool_rewind(&sp, &err) == 0);
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 1);
    CHECK(!pb_rec_has(&r, PB_ITEMS_ITEM_NUMBER) && r.nextra == 0);
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 0);
    pb_spool_close(&sp);
    rmdir(dir);
    /* a directory that does not exist */
    pb_error_init(&err);
    CHECK(pb_spool_open(&sp, "/nonexistent/pb-test", &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    pb_spool_close(&sp);
    pb_rec_release(&r);
}

/* A record as a reader makes it: its values in field order, no extras (kept compact
 * when no value is longer than 65,535 bytes). */
static void
fill_compact(struct pb_rec *r, const char *big, size_t longest)
{
    pb_rec_clear(r);
    pb_rec_set(r, PB_ITEMS_ITEM_NUMBER, "7", 1);
    pb_rec_set(r, PB_ITEMS_DESC1, big, 200);
    pb_rec_set(r, PB_ITEMS_DESC2, big, longest);
    r->line = 1 << 20;
    r->record_no = 5;
}

/* One record's bytes changed at `at` (from the record's start) to the first `width`
 * bytes of v: read back, refused.  The record is fill(21) (fields, a NUL inside a value,
 * an extra: the full form), or with compact the one fill_compact makes. */
static int
damaged(const char *dir, int compact, long at, uint64_t v, size_t width)
{
    struct pb_spool sp;
    struct pb_error err;
    struct pb_rec r;
    int fi, rc;
    char *big = malloc(70000);
    memset(big, 'b', 70000);
    pb_error_init(&err);
    pb_rec_init(&r, &pb_schema_items, &err);
    pb_spool_open(&sp, dir, &err);
    if (compact)
        fill_compact(&r, big, 65535);
    else
        fill(&r, 21);
    pb_spool_put(&sp, &r, 0, &err);
    pb_spool_rewind(&sp, &err);
    free(big);
    if (pwrite(fileno(sp.fp), &v, width, at) != (ssize_t)width)
        return -2;
    rc = pb_spool_get(&sp, &r, &fi, &err);
    int cleared = !pb_rec_has(&r, PB_ITEMS_ITEM_NUMBER) && r.nextra == 0;
    pb_spool_close(&sp);
    pb_rec_release(&r);
    return rc == -1 && err.code == PB_EIO && strstr(err.msg, "damaged") && cleared ? 1 : 0;
}

static int
damaged_at(const char *dir, long at, uint32_t v)
{
    return damaged(dir, 0, at, v, 4);
}

static int
damaged_compact_at(const char *dir, long at, uint64_t v, size_t width)
{
    return damaged(dir, 1, at, v, width);
}

/* The compact form: its exact size, the values back beside records of the full form, and
 * damage found. */
static void
test_compact(void)
{
    char dir[] = "/tmp/pb-test-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct pb_spool sp;
    struct pb_error err;
    struct pb_rec r, back;
    int fi;
    char *big = malloc(70000);
    for (int i = 0; i < 70000; i++)
        big[i] = (char)('a' + i % 26);
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_init(&back, &pb_schema_items, &err) == 0);
    CHECK(pb_spool_open(&sp, dir, &err) == 0);
    fill_compact(&r, big, 65535);
    CHECK(pb_spool_put(&sp, &r, 3, &err) == 0);
    /* head, the mask, three lengths, the text */
    uint64_t one = 36 + 8 + 3 * 2 + 2 + 201 + 65536;
    CHECK(pb_spool_tell(&sp) == one);
    fill_compact(&r, big, 65536); /* too long a value: the full form */
    CHECK(pb_spool_put(&sp, &r, 4, &err) == 0);
    CHECK(pb_spool_tell(&sp) == one + 36 + 3 * 12 + 2 + 201 + 65537);
    fill(&r, 21); /* extras and fields out of order: the full form */
    CHECK(pb_spool_put(&sp, &r, 0, &err) == 0);
    CHECK(pb_spool_rewind(&sp, &err) == 0);
    CHECK(pb_spool_get(&sp, &back, &fi, &err) == 1);
    fill_compact(&r, big, 65535);
    CHECK(same(&r, &back));
    CHECK(fi == 3);
    CHECK(pb_spool_get(&sp, &back, &fi, &err) == 1);
    fill_compact(&r, big, 65536);
    CHECK(same(&r, &back));
    CHECK(fi == 4);
    CHECK(pb_spool_get(&sp, &back, &fi, &err) == 1);
    fill(&r, 21);
    CHECK(same(&r, &back));
    CHECK(pb_spool_get(&sp, &back, &fi, &err) == 0);
    pb_spool_close(&sp);
    free(big);
    pb_rec_release(&r);
    pb_rec_release(&back);

    /* layout: u32 fields @24 (with the mark), u32 extras @28, u32 text @32, the mask @36,
     * the lengths from @44 */
    CHECK(damaged_compact_at(dir, 24, 4u | 0x80000000u, 4) == 1); /* a field too many */
    CHECK(damaged_compact_at(dir, 24, 2u | 0x80000000u, 4) == 1); /* a field too few */
    CHECK(damaged_compact_at(dir, 28, 1, 4) == 1);                /* extras */
    CHECK(damaged_compact_at(dir, 32, 65740, 4) == 1);            /* text longer */
    CHECK(damaged_compact_at(dir, 36, 0x7000000000000002ull, 8) == 1); /* no such fields */
    CHECK(damaged_compact_at(dir, 44, 2, 2) == 1);    /* a value's end is not a NUL */
    CHECK(damaged_compact_at(dir, 46, 300, 2) == 1);  /* a value too long */
    CHECK(damaged_compact_at(dir, 36, 0, 0) == 0);    /* undamaged: read */
    rmdir(dir);
}

/* A damaged record is an error, never a read outside it; a value set twice comes back as
 * set last. */
static void
test_damaged(void)
{
    char dir[] = "/tmp/pb-test-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* layout: u32 payload, i64, i64, i32, u32 fields @24, u32 extras @28, u32 text @32,
     * then the first field's index @36, offset @40, len @44 */
    CHECK(damaged_at(dir, 0, 20) == 1);           /* payload shorter than its parts */
    CHECK(damaged_at(dir, 24, 1000000) == 1);     /* more fields than there is room for */
    CHECK(damaged_at(dir, 28, 7) == 1);           /* extras that do not fit */
    CHECK(damaged_at(dir, 32, 0xffffffffu) == 1); /* text longer than the record */
    CHECK(damaged_at(dir, 36, 5000) == 1);        /* no such field */
    CHECK(damaged_at(dir, 40, 1u << 30) == 1);    /* a value outside the text */
    CHECK(damaged_at(dir, 44, 1) == 1);           /* a value whose end is not a NUL */

    struct pb_spool sp;
    struct pb_error err;
    struct pb_rec r;
    int fi;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_spool_open(&sp, dir, &err) == 0);
    pb_rec_set(&r, PB_ITEMS_DESC1, "first", 5);
    pb_rec_set(&r, PB_ITEMS_DESC1, "second", 6);
    CHECK(pb_spool_put(&sp, &r, 0, &err) == 0);
    pb_rec_clear(&r);
    CHECK(pb_spool_rewind(&sp, &err) == 0);
    CHECK(pb_spool_get(&sp, &r, &fi, &err) == 1);
    CHECK_STR(pb_rec_get(&r, PB_ITEMS_DESC1, NULL), "second");
    pb_spool_close(&sp);
    pb_rec_release(&r);
    rmdir(dir);
}

int
main(void)
{
    RUN(test_put_get);
    RUN(test_empty_and_append);
    RUN(test_damaged);
    RUN(test_compact);
    return check_summary();
}
