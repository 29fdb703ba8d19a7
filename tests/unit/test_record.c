/* Records: values, extras, typed accessors, copy, required fields, JSON text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/record.h"

static const char *
get(const struct pb_rec *r, int i)
{
    static char buf[4][256];
    static int k;
    size_t n;
    const char *v = pb_rec_get(r, i, &n);
    if (!v)
        return "(absent)";
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%.*s", (int)n, v);
    return b;
}

static void
test_set_get(void)
{
    struct pb_rec r;
    struct pb_error err;
    const char *why;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(r.line == -1 && r.record_no == -1 && r.nextra == 0);
    CHECK_STR(get(&r, PB_ITEMS_PRICE1), "(absent)");
    CHECK(pb_rec_set(&r, PB_ITEMS_DESC1, "hello", 5) == 0);
    CHECK_STR(get(&r, PB_ITEMS_DESC1), "hello");
    CHECK(pb_rec_has(&r, PB_ITEMS_DESC1));
    /* present but empty reads as absent */
    CHECK(pb_rec_set(&r, PB_ITEMS_DESC2, "", 0) == 0);
    CHECK(!pb_rec_has(&r, PB_ITEMS_DESC2));
    /* a later set replaces */
    CHECK(pb_rec_set(&r, PB_ITEMS_DESC1, "bye", 3) == 0);
    CHECK_STR(get(&r, PB_ITEMS_DESC1), "bye");
    /* checked: normalised, or refused leaving the old value */
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_PRICE1, "1", 1, NULL, &why) == 0);
    CHECK_STR(get(&r, PB_ITEMS_PRICE1), "1.00");
    size_t before = r.text.len;
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_PRICE1, "x", 1, NULL, &why) == -1);
    CHECK_STR(why, "not a number");
    CHECK_STR(get(&r, PB_ITEMS_PRICE1), "1.00");
    CHECK(r.text.len == before); /* nothing left behind */
    /* out-of-range indexes are absent, not a crash */
    CHECK(pb_rec_get(&r, -1, NULL) == NULL);
    CHECK(pb_rec_get(&r, PB_ITEMS__COUNT, NULL) == NULL);
    /* values stay right as the text buffer grows and moves */
    char v[256];
    for (int i = 0; i < PB_ITEMS__COUNT; i++) {
        snprintf(v, sizeof(v), "value-%d-%0200d", i, i);
        CHECK(pb_rec_set(&r, i, v, strlen(v)) == 0);
    }
    for (int i = 0; i < PB_ITEMS__COUNT; i++) {
        char want[256];
        snprintf(want, sizeof(want), "value-%d-%0200d", i, i);
        CHECK_STR(get(&r, i), want);
    }
    pb_rec_clear(&r);
    for (int i = 0; i < PB_ITEMS__COUNT; i++)
        CHECK(!pb_rec_has(&r, i));
    CHECK(r.text.len == 0);
    pb_rec_release(&r);
    pb_rec_release(&r); /* twice is harmless */
}

static void
test_extras(void)
{
    struct pb_rec r;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    for (int k = 0; k < 50; k++) {
        char name[16], v[32];
        snprintf(name, sizeof(name), "x_%d", k);
        snprintf(v, sizeof(v), "v%d", k * 7);
        CHECK(pb_rec_add_extra(&r, name, strlen(name), v, strlen(v)) == 0);
    }
    CHECK(r.nextra == 50);
    for (size_t k = 0; k < 50; k++) {
        char name[16], v[32];
        size_t n;
        snprintf(name, sizeof(name), "x_%zu", k);
        snprintf(v, sizeof(v), "v%zu", k * 7);
        CHECK_STR(pb_rec_extra_name(&r, k), name);
        CHECK_STR(pb_rec_extra_value(&r, k, &n), v);
        CHECK(n == strlen(v));
    }
    /* lengths are honoured, and values may hold any byte */
    CHECK(pb_rec_add_extra(&r, "x_bin_junk", 5, "a\0b", 3) == 0);
    size_t n;
    const char *v = pb_rec_extra_value(&r, 50, &n);
    CHECK_STR(pb_rec_extra_name(&r, 50), "x_bin");
    CHECK(n == 3 && memcmp(v, "a\0b", 3) == 0);
    pb_rec_clear(&r);
    CHECK(r.nextra == 0);
    pb_rec_release(&r);
}

struct typed_case {
    int field;
    const char *raw; /* set unchecked */
    int rc;
    int64_t want;
};

static void
test_typed(void)
{
    static const struct typed_case cases[] = {
        {PB_ITEMS_PRICE1, "39.90", 0, 3990},
        {PB_ITEMS_PRICE1, "-0.01", 0, -1},
        {PB_ITEMS_PRICE1, "1.005", -1, 0},
        {PB_ITEMS_PRICE1, "x", -1, 0},
        {PB_ITEMS_PRICE1, NULL, 1, 0},
        {PB_ITEMS_PRICE1, "", 1, 0},
        {PB_ITEMS_QTY_ON_HAND, "2.5", 0, 25000},
        {PB_ITEMS_QTY_ON_HAND, "-1", 0, -10000},
        {PB_ITEMS_ITEM_NUMBER, "8021", 0, 8021},
        {PB_ITEMS_ITEM_NUMBER, "1.5", -1, 0},
        {PB_ITEMS_IS_WEB_ITEM, "true", 0, 1},
        {PB_ITEMS_IS_WEB_ITEM, "false", 0, 0},
        {PB_ITEMS_IS_WEB_ITEM, "True", -1, 0}, /* only canonical text */
        {PB_ITEMS_IS_WEB_ITEM, NULL, 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct typed_case *c = &cases[i];
        struct pb_rec r;
        struct pb_error err;
        pb_error_init(&err);
        CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
        if (c->raw)
            CHECK(pb_rec_set(&r, c->field, c->raw, strlen(c->raw)) == 0);
        int64_t v = 777;
        int b = 7, rc;
        switch (pb_schema_items.fields[c->field].type) {
        case PB_T_MONEY:
            rc = pb_rec_money(&r, c->field, &v);
            break;
        case PB_T_QTY:
            rc = pb_rec_qty(&r, c->field, &v);
            break;
        case PB_T_INT:
            rc = pb_rec_int(&r, c->field, &v);
            break;
        default:
            rc = pb_rec_bool(&r, c->field, &b);
            v = b;
        }
        if (rc != c->rc)
            printf("#   case %zu: rc %d\n", i, rc);
        CHECK(rc == c->rc);
        if (c->rc == 0)
            CHECK(v == c->want);
        pb_rec_release(&r);
    }
}

static void
test_copy_and_missing(void)
{
    struct pb_rec a, b;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_rec_init(&a, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_init(&b, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_missing(&a) == PB_ITEMS_ITEM_NUMBER);
    CHECK(pb_rec_set(&a, PB_ITEMS_ITEM_NUMBER, "", 0) == 0);
    CHECK(pb_rec_missing(&a) == PB_ITEMS_ITEM_NUMBER); /* empty is missing */
    CHECK(pb_rec_set(&a, PB_ITEMS_ITEM_NUMBER, "12", 2) == 0);
    CHECK(pb_rec_missing(&a) == -1);
    CHECK(pb_rec_set(&a, PB_ITEMS_DESC1, "d", 1) == 0);
    CHECK(pb_rec_add_extra(&a, "x_a", 3, "1", 1) == 0);
    a.file = "in.csv";
    a.line = 7;
    a.record_no = 3;
    CHECK(pb_rec_set(&b, PB_ITEMS_PRICE1, "9.99", 4) == 0); /* replaced by the copy */
    CHECK(pb_rec_add_extra(&b, "x_old", 5, "z", 1) == 0);
    CHECK(pb_rec_copy(&b, &a) == 0);
    CHECK_STR(get(&b, PB_ITEMS_ITEM_NUMBER), "12");
    CHECK_STR(get(&b, PB_ITEMS_DESC1), "d");
    CHECK_STR(get(&b, PB_ITEMS_PRICE1), "(absent)");
    CHECK(b.nextra == 1);
    CHECK_STR(pb_rec_extra_name(&b, 0), "x_a");
    CHECK(b.file == a.file && b.line == 7 && b.record_no == 3);
    /* the copy is independent */
    pb_rec_clear(&a);
    CHECK_STR(get(&b, PB_ITEMS_ITEM_NUMBER), "12");
    pb_rec_release(&a);
    pb_rec_release(&b);
    /* rejects: stage, source and reason are required */
    struct pb_rec rj;
    CHECK(pb_rec_init(&rj, &pb_schema_rejects, &err) == 0);
    CHECK(pb_rec_missing(&rj) == PB_REJECTS_STAGE);
    CHECK(pb_rec_set(&rj, PB_REJECTS_STAGE, "export", 6) == 0);
    CHECK(pb_rec_set(&rj, PB_REJECTS_SOURCE, "f", 1) == 0);
    CHECK(pb_rec_missing(&rj) == PB_REJECTS_REASON);
    pb_rec_release(&rj);
}

static void
test_json_text(void)
{
    struct pb_rec r;
    struct pb_error err;
    struct pb_buf out = PB_BUF_INIT;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_to_json_text(&r, &out) == 0);
    CHECK_STR(out.data, "{}");
    pb_buf_reset(&out);
    CHECK(pb_rec_set(&r, PB_ITEMS_PRICE1, "12.3x", 5) == 0);
    CHECK(pb_rec_set(&r, PB_ITEMS_ITEM_NUMBER, "1", 1) == 0);
    CHECK(pb_rec_set(&r, PB_ITEMS_DESC1, "say \"hi\"\\\n\t\x01", 12) == 0);
    CHECK(pb_rec_add_extra(&r, "x_e", 3, "caf\xc3\xa9", 5) == 0);
    CHECK(pb_rec_to_json_text(&r, &out) == 0);
    /* schema order, raw text, then the extras */
    CHECK_STR(out.data, "{\"item_number\":\"1\",\"desc1\":\"say \\\"hi\\\"\\\\\\u000a\\u0009"
                        "\\u0001\",\"price1\":\"12.3x\",\"x_e\":\"caf\xc3\xa9\"}");
    pb_buf_release(&out);
    pb_rec_release(&r);
}

int
main(void)
{
    RUN(test_set_get);
    RUN(test_extras);
    RUN(test_typed);
    RUN(test_copy_and_missing);
    RUN(test_json_text);
    return check_summary();
}
