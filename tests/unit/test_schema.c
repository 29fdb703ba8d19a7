/* Schemas: file names, column lookup, per-type value normalisation, UTF-8, Windows-1252. */
#include <string.h>

#include "check.h"
#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/schema.h"

static void
test_find(void)
{
    CHECK(pb_schema_find("items") == &pb_schema_items);
    CHECK(pb_schema_find("rejects") == &pb_schema_rejects);
    CHECK(pb_schema_find("Items") == NULL);
    CHECK(pb_schema_find("") == NULL);
    CHECK(pb_schema_items.nfields == PB_ITEMS__COUNT);
    CHECK(pb_schema_rejects.nfields == PB_REJECTS__COUNT);
    CHECK_STR(pb_schema_items.fields[PB_ITEMS_PRICE1].name, "price1");
    CHECK_STR(pb_schema_items.fields[PB_ITEMS_ON_HAND_STORE_20].name, "on_hand_store_20");
    CHECK(pb_schema_items.fields[PB_ITEMS_ITEM_NUMBER].presence == PB_REQUIRED);
    CHECK(pb_schema_items.fields[PB_ITEMS_ON_HAND_STORE_01].presence == PB_SPARSE);
    CHECK(pb_schema_items.fields[PB_ITEMS_ALU].maxlen == 20);
    /* Each schema's list of required fields is its PB_REQUIRED fields, in order. */
    int some = 0;
    for (const struct pb_schema *const *s = pb_schemas; *s; s++) {
        const int *r = (*s)->required;
        for (int i = 0; i < (*s)->nfields; i++)
            if ((*s)->fields[i].presence == PB_REQUIRED) {
                CHECK(*r == i);
                r += *r == i;
                some++;
            }
        CHECK(*r == -1);
    }
    CHECK(some >= 5);
    CHECK(pb_schema_items.required[0] == PB_ITEMS_ITEM_NUMBER);
}

struct path_case {
    const char *path;
    const struct pb_schema *want;
};

static void
test_for_path(void)
{
    const struct path_case cases[] = {
        {"items.csv", &pb_schema_items},
        {"items.jsonl", &pb_schema_items},
        {"x/items.csv.gz", &pb_schema_items},
        {"batches/20261127T020000Z-catalog/items.jsonl.gz", &pb_schema_items},
        {"/abs/path/rejects.csv", &pb_schema_rejects},
        {"items-edited.jsonl", &pb_schema_items},
        {"items_old.csv", &pb_schema_items},
        {"items.2026.csv", &pb_schema_items},
        {"dir.with.dots/items.csv", &pb_schema_items},
        {"foo.csv", NULL},
        {"itemsfoo.csv", NULL},
        {"items.txt", NULL},
        {"items", NULL},
        {"items.gz", NULL},
        {".csv", NULL},
        {"items/", NULL},
        {"", NULL},
        {"my-items.csv", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pb_schema *s = pb_schema_for_path(cases[i].path);
        if (s != cases[i].want)
            printf("#   '%s' -> %s\n", cases[i].path, s ? s->kind : "NULL");
        CHECK(s == cases[i].want);
    }
    /* a base name too long for the internal buffer: NULL, no overflow */
    char longname[400];
    memset(longname, 'i', sizeof(longname));
    memcpy(longname + sizeof(longname) - 5, ".csv", 5);
    CHECK(pb_schema_for_path(longname) == NULL);
}

struct lookup_case {
    const char *name;
    int want;
};

static void
test_lookup(void)
{
    static const struct lookup_case cases[] = {
        {"price1", PB_ITEMS_PRICE1},
        {"PRICE1", PB_ITEMS_PRICE1},
        {"Regular Price", PB_ITEMS_PRICE1},
        {"regular price", PB_ITEMS_PRICE1},
        {"  Regular Price\t", PB_ITEMS_PRICE1},
        {"Price 1", PB_ITEMS_PRICE1},
        {"qty 2", PB_ITEMS_ON_HAND_STORE_02},
        {"Qty 20", PB_ITEMS_ON_HAND_STORE_20},
        {"On Hand Store 7", PB_ITEMS_ON_HAND_STORE_07},
        {"OnHandStore07", PB_ITEMS_ON_HAND_STORE_07}, /* the qbposXML element */
        {"Item #", PB_ITEMS_ITEM_NUMBER},
        {"item number", PB_ITEMS_ITEM_NUMBER},
        {"ItemNumber", PB_ITEMS_ITEM_NUMBER},
        {"Company Total", PB_ITEMS_QTY_ON_HAND},
        {"Colour", PB_ITEMS_ATTRIBUTE},
        {"UOM", PB_ITEMS_UNIT_OF_MEASURE},
        {"Qty 21", -1},
        {"Qty 02", -1},
        {"Regular  Price", -1},
        {"price", -1},
        {"price1x", -1},
        {"", -1},
        {"   ", -1},
        {"x_note", -1},
        {"-", -1}, /* the "no alias" marker of the .tsv is not a name */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = pb_schema_lookup(&pb_schema_items, cases[i].name, strlen(cases[i].name));
        if (got != cases[i].want)
            printf("#   '%s' -> %d, want %d\n", cases[i].name, got, cases[i].want);
        CHECK(got == cases[i].want);
    }
    /* exact names only for pb_schema_field */
    CHECK(pb_schema_field(&pb_schema_items, "price1", 6) == PB_ITEMS_PRICE1);
    CHECK(pb_schema_field(&pb_schema_items, "Price1", 6) == -1);
    CHECK(pb_schema_field(&pb_schema_items, "price12", 6) == PB_ITEMS_PRICE1);
    CHECK(pb_schema_field(&pb_schema_items, "price", 5) == -1);
    CHECK(pb_schema_source(&pb_schema_items, "Price1") == PB_ITEMS_PRICE1);
    CHECK(pb_schema_source(&pb_schema_items, "price1") == -1);
    CHECK(pb_schema_source(&pb_schema_items, "UnitOfMeasure") == PB_ITEMS_UNIT_OF_MEASURE);
    CHECK(pb_schema_source(&pb_schema_items, "UnitOfMeasure1") == -1);
    CHECK(pb_schema_source(&pb_schema_items, "-") == -1);
    CHECK_STR(pb_ftype_name(PB_T_MONEY), "money");
    CHECK_STR(pb_ftype_name(PB_T_ENUM), "enum");
    CHECK_STR(pb_ftype_name((enum pb_ftype)99), "?");
}

struct norm_case {
    int field;         /* items field index */
    const char *in;
    const char *tz;
    const char *want;  /* NULL: refused */
    const char *why;   /* reason when refused (NULL: do not check) */
};

static void
test_normalize(void)
{
    static const struct norm_case cases[] = {
        /* bool */
        {PB_ITEMS_IS_WEB_ITEM, "True", NULL, "true", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "False", NULL, "false", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "TRUE", NULL, "true", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "yes", NULL, "true", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "No", NULL, "false", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "1", NULL, "true", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "0", NULL, "false", NULL},
        {PB_ITEMS_IS_WEB_ITEM, "maybe", NULL, NULL, "not a boolean (true or false)"},
        {PB_ITEMS_IS_WEB_ITEM, "truee", NULL, NULL, "not a boolean (true or false)"},
        {PB_ITEMS_IS_WEB_ITEM, "2", NULL, NULL, "not a boolean (true or false)"},
        /* enum */
        {PB_ITEMS_ITEM_TYPE, "inventory", NULL, "Inventory", NULL},
        {PB_ITEMS_ITEM_TYPE, "NONINVENTORY", NULL, "NonInventory", NULL},
        {PB_ITEMS_ITEM_TYPE, "SpecialOrder", NULL, "SpecialOrder", NULL},
        {PB_ITEMS_ITEM_TYPE, "Inventor", NULL, NULL, "not one of the allowed values"},
        {PB_ITEMS_ITEM_TYPE, "Inventory|Service", NULL, NULL, "not one of the allowed values"},
        {PB_ITEMS_ITEM_TYPE, "Special", NULL, NULL, "not one of the allowed values"},
        /* text with a cap: alu is text:20, counted in characters */
        {PB_ITEMS_ALU, "ABC-123", NULL, "ABC-123", NULL},
        {PB_ITEMS_ALU, "12345678901234567890", NULL, "12345678901234567890", NULL},
        {PB_ITEMS_ALU, "123456789012345678901", NULL, NULL, "longer than 20 characters"},
        {PB_ITEMS_ALU, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
         NULL,
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
         NULL}, /* 20 characters, 40 bytes */
        {PB_ITEMS_DEPARTMENT_CODE, "ABCD", NULL, NULL, "longer than 3 characters"},
        /* text must be UTF-8, kept as is (spaces too) */
        {PB_ITEMS_DESC1, "  Caf\xc3\xa9, \"quoted\"\n", NULL, "  Caf\xc3\xa9, \"quoted\"\n", NULL},
        {PB_ITEMS_DESC1, "Caf\xe9", NULL, NULL, "not valid UTF-8"},
        {PB_ITEMS_DESC1, "\xc0\xaf", NULL, NULL, "not valid UTF-8"},
        {PB_ITEMS_DESC1, "=SUM(A1)", NULL, "=SUM(A1)", NULL},
        /* ids */
        {PB_ITEMS_LIST_ID, "-8935689215445827583", NULL, "-8935689215445827583", NULL},
        {PB_ITEMS_LIST_ID, "12 34", NULL, NULL,
         "identifier contains a space or control character"},
        {PB_ITEMS_LIST_ID, "1234\t", NULL, NULL,
         "identifier contains a space or control character"},
        {PB_ITEMS_LIST_ID, "12\x7f", NULL, NULL,
         "identifier contains a space or control character"},
        {PB_ITEMS_LIST_ID, "12\xff", NULL, NULL, "not a valid identifier"},
        /* money: two decimals always */
        {PB_ITEMS_PRICE1, "39.9", NULL, "39.90", NULL},
        {PB_ITEMS_PRICE1, "+4", NULL, "4.00", NULL},
        {PB_ITEMS_PRICE1, "-.5", NULL, "-0.50", NULL},
        {PB_ITEMS_PRICE1, "39.9900", NULL, "39.99", NULL},
        {PB_ITEMS_PRICE1, "1.005", NULL, NULL, "more than 2 decimal places"},
        {PB_ITEMS_PRICE1, "$1.00", NULL, NULL, "not a number"},
        {PB_ITEMS_PRICE1, " 1.00", NULL, NULL, "not a number"},
        /* qty: minimal */
        {PB_ITEMS_QTY_ON_HAND, "2.50", NULL, "2.5", NULL},
        {PB_ITEMS_QTY_ON_HAND, "4.0000", NULL, "4", NULL},
        {PB_ITEMS_QTY_ON_HAND, "-0", NULL, "0", NULL},
        {PB_ITEMS_QTY_ON_HAND, "0.00001", NULL, NULL, "more than 4 decimal places"},
        /* decimal: six places, minimal */
        {PB_ITEMS_WEIGHT, "1.250000", NULL, "1.25", NULL},
        {PB_ITEMS_WEIGHT, "0.0000001", NULL, NULL, "more than 6 decimal places"},
        /* int */
        {PB_ITEMS_ITEM_NUMBER, "0042", NULL, "42", NULL},
        {PB_ITEMS_ITEM_NUMBER, "-7", NULL, "-7", NULL},
        {PB_ITEMS_ITEM_NUMBER, "4.5", NULL, NULL, "not a whole number"},
        {PB_ITEMS_ITEM_NUMBER, "abc", NULL, NULL, "not a whole number"},
        {PB_ITEMS_ITEM_NUMBER, "99999999999999999999", NULL, NULL, "not a whole number"},
        /* datetime: to UTC */
        {PB_ITEMS_TIME_CREATED, "2026-11-20T17:42:49-06:00", NULL, "2026-11-20T23:42:49Z", NULL},
        {PB_ITEMS_TIME_CREATED, "2026-11-20T23:42:49.5Z", NULL, "2026-11-20T23:42:49Z", NULL},
        {PB_ITEMS_TIME_CREATED, "2026-11-20T17:42:49", "America/Chicago",
         "2026-11-20T23:42:49Z", NULL},
        {PB_ITEMS_TIME_CREATED, "2026-11-20T17:42:49", NULL, NULL,
         "timestamp has no UTC offset (add Z or +hh:mm)"},
        {PB_ITEMS_TIME_CREATED, "2026-02-30T00:00:00Z", NULL, NULL, "not a real date"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct norm_case *c = &cases[i];
        struct pb_buf out = PB_BUF_INIT;
        const char *why = NULL;
        CHECK(pb_buf_adds(&out, "<") == 0); /* normalize appends */
        int rc = pb_value_normalize(&pb_schema_items.fields[c->field], c->in, strlen(c->in),
                                    c->tz, &out, &why);
        if (c->want) {
            if (rc != 0)
                printf("#   case %zu '%s' refused: %s\n", i, c->in, why);
            CHECK(rc == 0);
            CHECK(out.data[0] == '<');
            CHECK_STR(out.data + 1, c->want);
        } else {
            if (rc == 0)
                printf("#   case %zu '%s' accepted as '%s'\n", i, c->in, out.data + 1);
            CHECK(rc == -1);
            if (c->why)
                CHECK_STR(why, c->why);
        }
        pb_buf_release(&out);
    }
}

/* Empty is valid for every type and appends nothing; a NUL inside text is refused;
 * over-long values are refused. */
static void
test_normalize_edges(void)
{
    struct pb_buf out = PB_BUF_INIT;
    const char *why = NULL;
    for (int i = 0; i < pb_schema_items.nfields; i++) {
        CHECK(pb_value_normalize(&pb_schema_items.fields[i], "", 0, NULL, &out, &why) == 0);
        CHECK(out.len == 0);
    }
    CHECK(pb_value_normalize(&pb_schema_items.fields[PB_ITEMS_DESC1], "a\0b", 3, NULL, &out,
                             &why) == -1);
    CHECK_STR(why, "contains a NUL byte");
    CHECK(out.len == 0);
    /* desc1 has the default cap: PB_FIELD_MAX bytes */
    static char big[PB_FIELD_MAX + 1];
    memset(big, 'a', sizeof(big));
    CHECK(pb_value_normalize(&pb_schema_items.fields[PB_ITEMS_DESC1], big, PB_FIELD_MAX, NULL,
                             &out, &why) == 0);
    CHECK(out.len == PB_FIELD_MAX);
    pb_buf_reset(&out);
    CHECK(pb_value_normalize(&pb_schema_items.fields[PB_ITEMS_DESC1], big, PB_FIELD_MAX + 1,
                             NULL, &out, &why) == -1);
    CHECK_STR(why, "value too long");
    CHECK(out.len == 0);
    /* an id longer than 128 bytes */
    CHECK(pb_value_normalize(&pb_schema_items.fields[PB_ITEMS_LIST_ID], big, 129, NULL, &out,
                             &why) == -1);
    CHECK_STR(why, "not a valid identifier");
    pb_buf_release(&out);
    /* a full output buffer: refused with a reason, not a crash */
    struct pb_buf tiny;
    pb_buf_init(&tiny, 3);
    CHECK(pb_value_normalize(&pb_schema_items.fields[PB_ITEMS_PRICE1], "39.99", 5, NULL, &tiny,
                             &why) == -1);
    CHECK(why != NULL);
    CHECK(tiny.len == 0);
    pb_buf_release(&tiny);
}

struct utf8_case {
    const char *s;
    size_t len;
    int valid;
};

#define U(lit, v) {lit, sizeof(lit) - 1, v}

static void
test_utf8(void)
{
    static const struct utf8_case cases[] = {
        U("", 1),
        U("plain ascii", 1),
        U("\x00", 1),                  /* NUL is valid UTF-8 */
        U("\xc3\xa9", 1),              /* é */
        U("\xe2\x82\xac", 1),          /* € */
        U("\xf0\x9f\x98\x80", 1),      /* U+1F600 */
        U("\xf4\x8f\xbf\xbf", 1),      /* U+10FFFF */
        U("\xed\x9f\xbf", 1),          /* U+D7FF */
        U("\xee\x80\x80", 1),          /* U+E000 */
        U("\xc2\x80", 1),              /* U+0080 */
        U("\xef\xbf\xbf", 1),          /* U+FFFF */
        /* overlongs */
        U("\xc0\xaf", 0),
        U("\xc1\xbf", 0),
        U("\xe0\x80\xaf", 0),
        U("\xe0\x9f\xbf", 0),
        U("\xf0\x80\x80\xaf", 0),
        U("\xf0\x8f\xbf\xbf", 0),
        /* surrogates */
        U("\xed\xa0\x80", 0),
        U("\xed\xbf\xbf", 0),
        U("\xed\xa0\xbd\xed\xb8\x80", 0),
        /* past U+10FFFF */
        U("\xf4\x90\x80\x80", 0),
        U("\xf5\x80\x80\x80", 0),
        U("\xff", 0),
        U("\xfe", 0),
        /* truncated sequences */
        U("\xc3", 0),
        U("a\xc3", 0),
        U("\xe2\x82", 0),
        U("\xf0\x9f\x98", 0),
        U("\xe2\x82" "a", 0),
        /* stray continuation bytes */
        U("\x80", 0),
        U("a\xbf" "b", 0),
        /* Windows-1252 text */
        U("Caf\xe9", 0),
        U("\x93quoted\x94", 0),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = pb_utf8_valid(cases[i].s, cases[i].len);
        if (got != cases[i].valid)
            printf("#   utf8 case %zu: got %d\n", i, got);
        CHECK(got == cases[i].valid);
    }
    /* the length bounds the check: a valid prefix of a longer string */
    CHECK(pb_utf8_valid("\xc3\xa9\xc3", 2) == 1);
    CHECK(pb_utf8_valid("\xc3\xa9\xc3", 1) == 0);
}

struct cp_case {
    const char *in;
    size_t len;
    const char *want;
};

static void
test_cp1252(void)
{
    static const struct cp_case cases[] = {
        U("\x80", "\xe2\x82\xac"),            /* € */
        U("\x92", "\xe2\x80\x99"),            /* ’ */
        U("\x93x\x94", "\xe2\x80\x9cx\xe2\x80\x9d"),
        U("\xe9", "\xc3\xa9"),                /* é */
        U("Caf\xe9", "Caf\xc3\xa9"),
        U("\x81", "\xc2\x81"),                /* undefined: kept as U+0081 */
        U("\x8d\x8f\x90\x9d", "\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d"),
        U("\x9f", "\xc5\xb8"),                /* Ÿ */
        U("\xa0", "\xc2\xa0"),
        U("\xff", "\xc3\xbf"),
        U("abc", "abc"),
        U("", ""),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_buf out = PB_BUF_INIT;
        CHECK(pb_cp1252_to_utf8(cases[i].in, cases[i].len, &out) == 0);
        CHECK_STR(out.data, cases[i].want);
        CHECK(pb_utf8_valid(out.data, out.len));
        pb_buf_release(&out);
    }
    /* every byte converts to valid UTF-8 */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    struct pb_buf out = PB_BUF_INIT;
    CHECK(pb_cp1252_to_utf8(all, sizeof(all), &out) == 0);
    CHECK(pb_utf8_valid(out.data, out.len));
    pb_buf_release(&out);
    /* ASCII runs around the 8-byte fast path, with a byte to convert at every offset */
    for (size_t at = 0; at < 40; at++) {
        char in[41], want[64];
        memset(in, 'a', 40);
        in[40] = '\0';
        in[at] = '\xe9';
        snprintf(want, sizeof(want), "%.*s\xc3\xa9%s", (int)at, in, in + at + 1);
        struct pb_buf o = PB_BUF_INIT;
        CHECK(pb_buf_adds(&o, "<") == 0); /* appends after what is there */
        CHECK(pb_cp1252_to_utf8(in, 40, &o) == 0);
        CHECK(o.len == 42);
        CHECK_STR(o.data + 1, want);
        pb_buf_release(&o);
    }
    /* past the buffer's cap: -1 */
    struct pb_buf small;
    pb_buf_init(&small, 4);
    CHECK(pb_cp1252_to_utf8("\x80\x80", 2, &small) == -1);
    pb_buf_release(&small);
}

/* ISO-8859-1: every byte is its own code point, 0x80..0x9f included. */
static void
test_latin1(void)
{
    static const struct cp_case cases[] = {
        U("\x80", "\xc2\x80"),
        U("\x92", "\xc2\x92"),
        U("Caf\xe9", "Caf\xc3\xa9"),
        U("\xff", "\xc3\xbf"),
        U("abcdefghij", "abcdefghij"),
        U("", ""),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_buf out = PB_BUF_INIT;
        CHECK(pb_latin1_to_utf8(cases[i].in, cases[i].len, &out) == 0);
        CHECK_STR(out.data, cases[i].want);
        pb_buf_release(&out);
    }
}

int
main(void)
{
    RUN(test_find);
    RUN(test_for_path);
    RUN(test_lookup);
    RUN(test_normalize);
    RUN(test_normalize_edges);
    RUN(test_utf8);
    RUN(test_cp1252);
    RUN(test_latin1);
    return check_summary();
}
