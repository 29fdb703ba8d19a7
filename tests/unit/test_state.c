/* The catalog state and the results journal. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/atomic.h"
#include "posbridge/err.h"
#include "posbridge/state.h"

static char dir[] = "/tmp/pb-test-state-XXXXXX";

static char *
path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void
test_state_round_trip_sorted(void)
{
    struct pb_state st;
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_state_load(&st, path("s/catalog.jsonl"), &e) == 0); /* missing: empty */
    json_t *b = pb_state_entry(&st, "B-2");
    json_t *a = pb_state_entry(&st, "A-1");
    json_object_set_new(b, "variant_id", json_string("v2"));
    json_object_set_new(a, "variant_id", json_string("v1"));
    CHECK(pb_state_save(&st, &e) == 0);
    pb_state_release(&st);
    FILE *fp = fopen(path("s/catalog.jsonl"), "r");
    char line[256] = "";
    CHECK(fp && fgets(line, sizeof(line), fp));
    CHECK(strstr(line, "\"A-1\"") != NULL); /* sorted by SKU */
    if (fp)
        fclose(fp);
    CHECK(pb_state_load(&st, path("s/catalog.jsonl"), &e) == 0);
    CHECK_STR(json_string_value(json_object_get(pb_state_get(&st, "B-2"), "variant_id")), "v2");
    CHECK(pb_state_get(&st, "C-3") == NULL);
    pb_state_drop(&st, "A-1");
    CHECK(pb_state_get(&st, "A-1") == NULL);
    pb_state_release(&st);
}

static char *
slurp(const char *p)
{
    FILE *fp = fopen(p, "r");
    static char buf[4096];
    size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
    buf[n] = 0;
    if (fp)
        fclose(fp);
    return buf;
}

/* An entry never touched goes back byte for byte; a touched one is written again. */
static void
test_state_untouched_lines_kept(void)
{
    struct pb_error e;
    pb_error_init(&e);
    FILE *fp = fopen(path("k.jsonl"), "w");
    CHECK(fp != NULL);
    if (!fp)
        return;
    /* out of order, spaced by hand, one SKU twice, one unreadable line, no final newline */
    fputs("{\"sku\": \"B\",  \"hash\": \"b1\"}\n"
          "{\"hash\":\"a1\",\"row\":{\"price\":\"1.00\"},\"sku\":\"A\"}\n"
          "not json\n"
          "{\"sku\":\"C\",\"hash\":\"c1\"}\n"
          "{\"sku\":\"C\",\"hash\":\"c2\"}\n"
          "{\"sku\": \"D\", \"hash\": \"d1\"}", fp);
    fclose(fp);
    struct pb_state st;
    CHECK(pb_state_load(&st, path("k.jsonl"), &e) == 0);
    CHECK_STR(json_string_value(json_object_get(pb_state_get(&st, "C"), "hash")), "c2");
    CHECK_STR(json_string_value(json_object_get(pb_state_row(pb_state_get(&st, "A")), "price")),
              "1.00");
    json_object_set_new(pb_state_get(&st, "B"), "hash", json_string("b2"));
    pb_state_touch(&st, "B");
    json_object_set_new(pb_state_entry(&st, "E"), "hash", json_string("e1"));
    CHECK(pb_state_save(&st, &e) == 0);
    pb_state_release(&st);
    CHECK_STR(slurp(path("k.jsonl")),
              "{\"hash\":\"a1\",\"row\":{\"price\":\"1.00\"},\"sku\":\"A\"}\n"
              "{\"hash\":\"b2\",\"sku\":\"B\"}\n"
              "{\"hash\":\"c2\",\"sku\":\"C\"}\n"
              "{\"sku\": \"D\", \"hash\": \"d1\"}\n"
              "{\"hash\":\"e1\",\"sku\":\"E\"}\n");
    /* nothing touched: nothing written */
    CHECK(pb_state_load(&st, path("k.jsonl"), &e) == 0);
    CHECK(st.dirty == 0);
    pb_state_release(&st);
}

/* ---- the change log ---- */

/* A whole file (malloc'd, NUL-terminated; NULL when it cannot be read). */
static char *
read_all(const char *p, size_t *len)
{
    FILE *fp = fopen(p, "r");
    if (!fp)
        return NULL;
    struct stat sb;
    char *buf = fstat(fileno(fp), &sb) == 0 ? malloc((size_t)sb.st_size + 1) : NULL;
    size_t n = buf ? fread(buf, 1, (size_t)sb.st_size, fp) : 0;
    fclose(fp);
    if (buf)
        buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

static int
exists(const char *p)
{
    return access(p, F_OK) == 0;
}

static int
count_lines(const char *p)
{
    char *t = read_all(p, NULL);
    int n = 0;
    for (char *c = t; c && *c; c++)
        n += *c == '\n';
    free(t);
    return n;
}

static void
add_to_file(const char *p, const char *text)
{
    FILE *fp = fopen(p, "a");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* Entries S<from>..S<to-1>, each with a row, as an upload leaves them. */
static void
put_entries(struct pb_state *st, int from, int to, const char *hash)
{
    for (int i = from; i < to; i++) {
        char sku[32];
        snprintf(sku, sizeof(sku), "S%05d", i);
        json_t *e = pb_state_entry(st, sku);
        json_object_set_new(e, "hash", json_string(hash));
        json_object_set_new(e, "variant_id", json_integer(1000 + i));
        json_object_set_new(e, "row", json_pack("{s:s, s:s}", "name",
                                                "A product with a longish name, for size",
                                                "price", "10.00"));
        pb_state_touch(st, sku);
    }
}

static const char *
hash_of(const struct pb_state *st, const char *sku)
{
    return json_string_value(json_object_get(pb_state_get(st, sku), "hash"));
}

/* Two loads hold the same entries (every row read, so lazy and parsed rows compare). */
static int
same_entries(const struct pb_state *a, const struct pb_state *b)
{
    const char *k;
    json_t *v;
    json_object_foreach(a->by_sku, k, v) pb_state_row(v);
    json_object_foreach(b->by_sku, k, v) pb_state_row(v);
    return json_equal(a->by_sku, b->by_sku);
}

/* Load a state file into st; 0 on success. */
static int
load(struct pb_state *st, const char *p)
{
    struct pb_error e;
    pb_error_init(&e);
    return pb_state_load(st, p, &e);
}

static int
save(struct pb_state *st)
{
    struct pb_error e;
    pb_error_init(&e);
    return pb_state_save(st, &e);
}

/* A small change to a big catalog is appended to the log; the base is not rewritten. */
static void
test_state_log_small_change_appends(void)
{
    char base[256], logp[256];
    snprintf(base, sizeof(base), "%s", path("l1/catalog.jsonl"));
    snprintf(logp, sizeof(logp), "%s", path("l1/catalog.log.jsonl"));
    struct pb_state st;
    CHECK(load(&st, base) == 0);
    CHECK_STR(st.log_path, logp);
    put_entries(&st, 0, 2000, "h1");
    CHECK(save(&st) == 0); /* no base yet: written whole, no log */
    pb_state_release(&st);
    CHECK(!exists(logp));
    size_t blen;
    char *before = read_all(base, &blen);
    CHECK(before && blen > 100000);

    CHECK(load(&st, base) == 0);
    CHECK(st.dirty == 0 && json_object_size(st.touched) == 0);
    json_object_set_new(pb_state_get(&st, "S00042"), "hash", json_string("h2"));
    pb_state_touch(&st, "S00042");
    put_entries(&st, 2000, 2001, "new");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    size_t alen;
    char *after = read_all(base, &alen);
    CHECK(after && alen == blen && !memcmp(before, after, blen)); /* byte for byte */
    free(after);
    CHECK(count_lines(logp) == 2);
    char *log = read_all(logp, NULL);
    CHECK(log && !strncmp(log, "{\"hash\":\"h2\",\"row\":{", 20)); /* SKU order, as the base */
    CHECK(log && strstr(log, "\"sku\":\"S02000\",\"variant_id\":3000}\n") != NULL);
    free(log);

    /* the reload sees the log; its lines are not touched, and their rows read lazily */
    CHECK(load(&st, base) == 0);
    CHECK(st.dirty == 0 && json_object_size(st.touched) == 0);
    CHECK_STR(hash_of(&st, "S00042"), "h2");
    CHECK_STR(hash_of(&st, "S02000"), "new");
    CHECK_STR(hash_of(&st, "S00041"), "h1");
    CHECK(json_object_size(st.by_sku) == 2001);
    CHECK(json_is_string(json_object_get(pb_state_get(&st, "S02000"), "row")));
    CHECK_STR(json_string_value(json_object_get(pb_state_row(pb_state_get(&st, "S02000")),
                                                "price")),
              "10.00");
    /* a second small change goes to the log again, the base still untouched */
    json_object_set_new(pb_state_get(&st, "S00042"), "hash", json_string("h3"));
    pb_state_touch(&st, "S00042");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    after = read_all(base, &alen);
    CHECK(after && alen == blen && !memcmp(before, after, blen));
    free(after);
    free(before);
    CHECK(count_lines(logp) == 3);
    CHECK(load(&st, base) == 0);
    CHECK_STR(hash_of(&st, "S00042"), "h3"); /* the last line wins */
    pb_state_release(&st);
}

/* A dropped SKU leaves a tombstone; dropped then added again in later saves. */
static void
test_state_log_drop_and_readd(void)
{
    char base[256], logp[256];
    snprintf(base, sizeof(base), "%s", path("l2/catalog.jsonl"));
    snprintf(logp, sizeof(logp), "%s", path("l2/catalog.log.jsonl"));
    struct pb_state st;
    CHECK(load(&st, base) == 0);
    put_entries(&st, 0, 50, "h1");
    CHECK(save(&st) == 0);
    pb_state_release(&st);

    CHECK(load(&st, base) == 0);
    pb_state_drop(&st, "S00007");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    char *log = read_all(logp, NULL);
    CHECK_STR(log, "{\"dropped\":true,\"sku\":\"S00007\"}\n");
    free(log);
    CHECK(load(&st, base) == 0);
    CHECK(pb_state_get(&st, "S00007") == NULL);
    CHECK(json_object_size(st.by_sku) == 49);
    CHECK(st.dirty == 0);
    /* dropping what the log already dropped changes nothing */
    pb_state_drop(&st, "S00007");
    CHECK(st.dirty == 0);
    put_entries(&st, 7, 8, "back");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(count_lines(logp) == 2);
    CHECK(load(&st, base) == 0);
    CHECK_STR(hash_of(&st, "S00007"), "back");
    CHECK(json_object_size(st.by_sku) == 50);
    /* a rewrite of the base now keeps the SKU with its new text, not the base's old line */
    st.compact = 1;
    st.dirty = 1;
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(!exists(logp));
    char *b = read_all(base, NULL);
    CHECK(b && strstr(b, "\"hash\":\"back\"") != NULL);
    CHECK(b && count_lines(base) == 50);
    free(b);
    /* dropped again, and the base rewritten: gone from it */
    CHECK(load(&st, base) == 0);
    pb_state_drop(&st, "S00007");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(load(&st, base) == 0);
    CHECK(pb_state_get(&st, "S00007") == NULL);
    st.compact = 1;
    st.dirty = 1;
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(!exists(logp) && count_lines(base) == 49);
    b = read_all(base, NULL);
    CHECK(b && !strstr(b, "S00007"));
    free(b);
}

/* Past the limit the base is rewritten with everything and the log removed. */
static void
test_state_log_compacts(void)
{
    char base[256], logp[256];
    snprintf(base, sizeof(base), "%s", path("l3/catalog.jsonl"));
    snprintf(logp, sizeof(logp), "%s", path("l3/catalog.log.jsonl"));
    struct pb_state st, want, got;
    CHECK(load(&st, base) == 0);
    put_entries(&st, 0, 20, "h1");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    size_t blen;
    char *b0 = read_all(base, &blen);

    /* small saves go to the log, whatever its size under the limit (256 KiB here) */
    CHECK(load(&st, base) == 0);
    pb_state_drop(&st, "S00003");
    json_object_set_new(pb_state_get(&st, "S00004"), "hash", json_string("h2"));
    pb_state_touch(&st, "S00004");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(exists(logp) && count_lines(logp) == 2);
    char *b1 = read_all(base, NULL);
    CHECK(b0 && b1 && !strcmp(b0, b1));
    free(b1);

    /* about 400 KiB of changes: past the limit */
    CHECK(load(&st, base) == 0);
    put_entries(&st, 100, 3500, "big");
    CHECK(save(&st) == 0);
    CHECK(st.log_size == -1 && st.base_size > 256 * 1024);
    CHECK(load(&want, base) == 0); /* (the log is gone: the base alone) */
    CHECK(!exists(logp));
    CHECK(same_entries(&st, &want));
    pb_state_release(&st);
    CHECK(json_object_size(want.by_sku) == 19 + 3400);
    CHECK(pb_state_get(&want, "S00003") == NULL);
    CHECK_STR(hash_of(&want, "S00004"), "h2");
    CHECK_STR(hash_of(&want, "S03499"), "big");
    char *b2 = read_all(base, NULL);
    CHECK(b2 && !strstr(b2, "S00003") && !strstr(b2, "\"h1\",\"row\":{\"name\":\"A product "
                                                          "with a longish name, for size\","
                                                          "\"price\":\"10.00\"},\"sku\":\"S00004\""));
    free(b2);
    free(b0);

    /* the limit is an eighth of the base now: a change well under it is appended */
    json_object_set_new(pb_state_get(&want, "S00005"), "hash", json_string("h3"));
    pb_state_touch(&want, "S00005");
    CHECK(save(&want) == 0);
    CHECK(exists(logp) && count_lines(logp) == 1);
    CHECK(load(&got, base) == 0);
    CHECK(same_entries(&want, &got));
    pb_state_release(&got);
    pb_state_release(&want);
}

/* A crash in the middle of an append: the torn line is ignored, then cut off. */
static void
test_state_log_torn_line(void)
{
    char base[256], logp[256];
    snprintf(base, sizeof(base), "%s", path("l4/catalog.jsonl"));
    snprintf(logp, sizeof(logp), "%s", path("l4/catalog.log.jsonl"));
    struct pb_state st;
    CHECK(load(&st, base) == 0);
    put_entries(&st, 0, 10, "h1");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(load(&st, base) == 0);
    put_entries(&st, 1, 2, "h2");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    size_t good;
    char *whole = read_all(logp, &good);
    add_to_file(logp, "{\"hash\":\"torn\",\"sku\":\"S00002\",\"variant_id\":10");

    CHECK(load(&st, base) == 0);
    CHECK_STR(hash_of(&st, "S00001"), "h2");
    CHECK_STR(hash_of(&st, "S00002"), "h1");
    CHECK(st.log_size == (off_t)good);
    put_entries(&st, 3, 4, "h3");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    size_t len;
    char *log = read_all(logp, &len);
    CHECK(log && whole && len > good && !memcmp(log, whole, good));
    CHECK(log && !strstr(log, "torn"));
    CHECK(log && !strncmp(log + good, "{\"hash\":\"h3\"", 12));
    CHECK(log && log[len - 1] == '\n' && count_lines(logp) == 2);
    free(log);
    free(whole);
    CHECK(load(&st, base) == 0);
    CHECK_STR(hash_of(&st, "S00002"), "h1");
    CHECK_STR(hash_of(&st, "S00003"), "h3");
    CHECK(st.dirty == 0);
    pb_state_release(&st);

    /* torn, then a run that changes nothing: its save still cuts the tail off */
    add_to_file(logp, "{\"hash\":\"to");
    CHECK(load(&st, base) == 0);
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    log = read_all(logp, NULL);
    CHECK(log && !strstr(log, "\"to") && count_lines(logp) == 2);
    free(log);
}

/* The changes of the save in two stores at once. */
static void
crash_changes(struct pb_state *st)
{
    pb_state_drop(st, "S00001"); /* in the base */
    pb_state_drop(st, "S00011"); /* only in the log */
    json_object_set_new(pb_state_get(st, "S00002"), "hash", json_string("c2"));
    pb_state_touch(st, "S00002");
    put_entries(st, 1, 2, "again"); /* S00001 dropped and back */
    put_entries(st, 20, 25, "c3");
}

/*
 * The crash window of a rewrite: the new base renamed, the log not yet removed.  The log
 * left then is the old one with this save's changes appended (as a plain append leaves
 * it); read over the new base it changes nothing.
 */
static void
test_state_log_crash_before_unlink(void)
{
    char a[256], alog[256], b[256], blog[256];
    snprintf(a, sizeof(a), "%s", path("l5a/catalog.jsonl"));
    snprintf(alog, sizeof(alog), "%s", path("l5a/catalog.log.jsonl"));
    snprintf(b, sizeof(b), "%s", path("l5b/catalog.jsonl"));
    snprintf(blog, sizeof(blog), "%s", path("l5b/catalog.log.jsonl"));
    struct pb_state st, want, got;
    /* two identical stores with a base and a log (a drop, a change, additions) */
    for (int i = 0; i < 2; i++) {
        const char *p = i ? b : a;
        CHECK(load(&st, p) == 0);
        put_entries(&st, 0, 10, "h1");
        CHECK(save(&st) == 0);
        pb_state_release(&st);
        CHECK(load(&st, p) == 0);
        pb_state_drop(&st, "S00005");
        put_entries(&st, 2, 3, "h2");
        put_entries(&st, 10, 15, "h2");
        CHECK(save(&st) == 0);
        pb_state_release(&st);
    }
    CHECK(exists(alog) && exists(blog));
    /* a: the changes appended, which is the first step of a rewrite */
    CHECK(load(&st, a) == 0);
    crash_changes(&st);
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    /* b: the same changes, rewriting the base; a second name for its log keeps what
     * was in it when it was unlinked */
    char aside[256];
    snprintf(aside, sizeof(aside), "%s", path("l5b/aside"));
    CHECK(link(blog, aside) == 0);
    CHECK(load(&st, b) == 0);
    crash_changes(&st);
    st.compact = 1;
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(!exists(blog));
    size_t alen, blen;
    char *at = read_all(alog, &alen), *bt = read_all(aside, &blen);
    CHECK(at && bt && alen == blen && !memcmp(at, bt, alen)); /* the changes went in first */
    free(at);
    free(bt);
    CHECK(load(&want, b) == 0);
    CHECK(load(&got, a) == 0);
    CHECK(same_entries(&want, &got)); /* the log holds the changes, the new base too */
    pb_state_release(&got);
    CHECK(pb_state_get(&want, "S00011") == NULL && pb_state_get(&want, "S00005") == NULL);
    CHECK_STR(hash_of(&want, "S00001"), "again");
    CHECK_STR(hash_of(&want, "S00002"), "c2");
    CHECK_STR(hash_of(&want, "S00024"), "c3");

    /* the crash: the log as it was at the unlink beside the new base */
    CHECK(rename(aside, blog) == 0);
    CHECK(load(&got, b) == 0);
    CHECK(same_entries(&want, &got));
    CHECK(got.dirty == 0);
    /* and a later save over it still reads back right */
    put_entries(&got, 3, 4, "later");
    CHECK(save(&got) == 0);
    pb_state_release(&got);
    put_entries(&want, 3, 4, "later");
    CHECK(load(&got, b) == 0);
    CHECK(same_entries(&want, &got));
    pb_state_release(&got);
    pb_state_release(&want);
}

/* A whole line of the log that is not an entry: warned about, ignored, then left out. */
static void
test_state_log_unreadable_line(void)
{
    char base[256], logp[256], errp[256];
    snprintf(base, sizeof(base), "%s", path("l6/catalog.jsonl"));
    snprintf(logp, sizeof(logp), "%s", path("l6/catalog.log.jsonl"));
    snprintf(errp, sizeof(errp), "%s", path("l6-stderr"));
    struct pb_state st;
    CHECK(load(&st, base) == 0);
    put_entries(&st, 0, 5, "h1");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(load(&st, base) == 0);
    put_entries(&st, 1, 2, "h2");
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    add_to_file(logp, "not json\n{\"hash\":\"nosku\"}\n");
    add_to_file(logp, "{\"hash\":\"h3\",\"sku\":\"S00003\"}\n");

    fflush(stderr);
    int saved = dup(2), fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    int rc = load(&st, base);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(rc == 0);
    char *msg = read_all(errp, NULL);
    char want[512];
    snprintf(want, sizeof(want), "%s:2: unreadable line ignored", logp);
    CHECK(msg && strstr(msg, want) != NULL);
    snprintf(want, sizeof(want), "%s:3: unreadable line ignored", logp);
    CHECK(msg && strstr(msg, want) != NULL);
    free(msg);
    CHECK_STR(hash_of(&st, "S00001"), "h2");
    CHECK_STR(hash_of(&st, "S00003"), "h3"); /* the line after it still counts */
    CHECK(json_object_size(st.by_sku) == 5);
    /* the next save rewrites the base without it */
    CHECK(st.dirty == 1);
    CHECK(save(&st) == 0);
    pb_state_release(&st);
    CHECK(!exists(logp));
    char *b = read_all(base, NULL);
    CHECK(b && !strstr(b, "not json") && !strstr(b, "nosku"));
    CHECK(b && strstr(b, "{\"hash\":\"h3\",\"sku\":\"S00003\"}\n") != NULL);
    free(b);
    CHECK(load(&st, base) == 0);
    CHECK(json_object_size(st.by_sku) == 5 && st.dirty == 0);
    pb_state_release(&st);

    /* a state file whose name does not end in .jsonl: the log is name + ".log" */
    CHECK(load(&st, path("l6/other.state")) == 0);
    snprintf(want, sizeof(want), "%s", path("l6/other.state.log"));
    CHECK_STR(st.log_path, want);
    pb_state_release(&st);
}

static void
test_journal_intent_outcome_and_torn_line(void)
{
    struct pb_journal j;
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_journal_open(&j, path("r/results.jsonl"), &e) == 0);
    uint64_t s1 = pb_journal_intent(&j, "create", "P1", NULL, &e);
    CHECK(s1 == 1);
    CHECK(pb_journal_outcome(&j, s1, "create", "P1", json_pack("{s:s}", "status", "ok"), &e) == 0);
    uint64_t s2 = pb_journal_intent(&j, "create", "P2", NULL, &e);
    CHECK(s2 == 2);
    CHECK(pb_journal_close(&j, &e) == 0);
    /* a crash in the middle of the next line */
    FILE *fp = fopen(path("r/results.jsonl"), "a");
    fputs("{\"seq\":3,\"kind\":\"outc", fp);
    fclose(fp);
    CHECK(pb_journal_open(&j, path("r/results.jsonl"), &e) == 0);
    CHECK(j.seq == 2);
    CHECK_STR(json_string_value(json_object_get(pb_journal_last(&j, "P1"), "status")), "ok");
    CHECK_STR(json_string_value(json_object_get(pb_journal_last(&j, "P2"), "kind")), "intent");
    CHECK(pb_journal_last(&j, "P3") == NULL);
    CHECK(pb_journal_intent(&j, "update", "P3", NULL, &e) == 3);
    CHECK(pb_journal_close(&j, &e) == 0);
    /* the torn tail was cut off: every line parses */
    fp = fopen(path("r/results.jsonl"), "r");
    char line[512];
    int lines = 0, bad = 0;
    while (fp && fgets(line, sizeof(line), fp)) {
        lines++;
        json_t *x = json_loads(line, 0, NULL);
        bad += x == NULL;
        json_decref(x);
    }
    if (fp)
        fclose(fp);
    CHECK(lines == 4 && bad == 0);
}

int
main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_state_round_trip_sorted);
    RUN(test_state_untouched_lines_kept);
    RUN(test_state_log_small_change_appends);
    RUN(test_state_log_drop_and_readd);
    RUN(test_state_log_compacts);
    RUN(test_state_log_torn_line);
    RUN(test_state_log_crash_before_unlink);
    RUN(test_state_log_unreadable_line);
    RUN(test_journal_intent_outcome_and_torn_line);
    pb_rmtree(dir);
    return check_summary();
}
