/* The catalog state and the results journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    RUN(test_journal_intent_outcome_and_torn_line);
    pb_rmtree(dir);
    return check_summary();
}
