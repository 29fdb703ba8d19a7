/* qbposXML item answers: pb_qbpos_read_items_mem on small inline documents. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/qbpos_items.h"
#include "posbridge/record.h"

#define MAX_ITEMS 16

struct item {
    struct pb_rec rec;
    int bad;
    struct pb_error why;
};

struct got {
    struct item it[MAX_ITEMS];
    int n;
    int stop_at; /* the callback refuses this item (index), -1 never */
};

static int
collect(void *user, struct pb_rec *rec, const struct pb_error *bad, struct pb_error *err)
{
    struct got *g = user;
    if (g->n == g->stop_at)
        return pb_error_set(err, PB_ECANTCREAT, "callback stops at item %d", g->n + 1);
    if (g->n >= MAX_ITEMS)
        return 0;
    struct item *it = &g->it[g->n];
    if (pb_rec_init(&it->rec, &pb_schema_items, err) < 0 || pb_rec_copy(&it->rec, rec) < 0)
        return -1;
    it->bad = bad != NULL;
    pb_error_init(&it->why);
    if (bad)
        it->why = *bad;
    g->n++;
    return 0;
}

static void
got_release(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        pb_rec_release(&g->it[i].rec);
    g->n = 0;
}

static int
parse(const char *doc, const char *tz, struct got *g, struct pb_qbpos_stats *st,
      struct pb_error *err)
{
    memset(g, 0, sizeof(*g));
    memset(st, 0, sizeof(*st));
    g->stop_at = -1;
    pb_error_init(err);
    return pb_qbpos_read_items_mem("test.xml", doc, strlen(doc), tz, collect, g, st, err);
}

static const char *
get(const struct pb_rec *r, int i)
{
    static char buf[4][512];
    static int k;
    size_t n;
    const char *v = pb_rec_get(r, i, &n);
    if (!v)
        return "(absent)";
    char *b = buf[k++ % 4];
    snprintf(b, 512, "%.*s", (int)n, v);
    return b;
}

static const char *
extra(const struct pb_rec *r, const char *name)
{
    for (size_t k = 0; k < r->nextra; k++)
        if (strcmp(pb_rec_extra_name(r, k), name) == 0)
            return pb_rec_extra_value(r, k, NULL);
    return "(absent)";
}

#define HEAD "<?xml version=\"1.0\"?>\n<QBPOSXML>\n<QBPOSXMLMsgsRs>\n"
#define RS "<ItemInventoryQueryRs requestID=\"1\" statusCode=\"0\" statusSeverity=\"Info\">\n"
#define TAIL "</ItemInventoryQueryRs>\n</QBPOSXMLMsgsRs>\n</QBPOSXML>\n"

/* Elements in any order; booleans normalised; times to UTC; quantities derived. */
static void
test_any_order(void)
{
    static const char doc[] =
        HEAD
        "<ItemInventoryQueryRs requestID=\"1\" retCount=\"2\" statusCode=\"0\" "
        "statusSeverity=\"Info\" iteratorRemainingCount=\"0\">\n"
        "<ItemInventoryRet>\n"                                     /* line 5 */
        "<WebPrice>5</WebPrice>\n"
        "<TimeModified>2026-11-20T17:42:49-06:00</TimeModified>\n"
        "<Price1> 12.5 </Price1>\n"
        "<OnHandStore02>2</OnHandStore02>\n"
        "<IsWebItem>True</IsWebItem>\n"
        "<Desc1>  Harbor Tub  </Desc1>\n"
        "<ItemType>inventory</ItemType>\n"
        "<QuantityOnCustomerOrder>1</QuantityOnCustomerOrder>\n"
        "<OnHandStore01>1.50</OnHandStore01>\n"
        "<ItemNumber>8021</ItemNumber>\n"
        "<ListID>-4416720693517240021</ListID>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet><IsWebItem>False</IsWebItem><QuantityOnHand>3.00</QuantityOnHand>"
        "<ItemNumber>8022</ItemNumber></ItemInventoryRet>\n"       /* line 18 */
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(err.code == PB_OK);
    CHECK(g.n == 2);
    CHECK(st.responses == 1 && st.items == 2 && st.declared == 2 && st.remaining == 0);
    if (g.n == 2) {
        const struct pb_rec *r = &g.it[0].rec;
        CHECK(!g.it[0].bad);
        CHECK(r->line == 5 && r->record_no == 1);
        CHECK(r->file && strcmp(r->file, "test.xml") == 0);
        CHECK_STR(get(r, PB_ITEMS_ITEM_NUMBER), "8021");
        CHECK_STR(get(r, PB_ITEMS_LIST_ID), "-4416720693517240021");
        CHECK_STR(get(r, PB_ITEMS_PRICE1), "12.50");
        CHECK_STR(get(r, PB_ITEMS_WEB_PRICE), "5.00");
        CHECK_STR(get(r, PB_ITEMS_IS_WEB_ITEM), "true");
        CHECK_STR(get(r, PB_ITEMS_ITEM_TYPE), "Inventory");
        CHECK_STR(get(r, PB_ITEMS_DESC1), "  Harbor Tub  "); /* text is kept exactly */
        CHECK_STR(get(r, PB_ITEMS_TIME_MODIFIED), "2026-11-20T23:42:49Z");
        CHECK_STR(get(r, PB_ITEMS_ON_HAND_STORE_01), "1.5");
        CHECK_STR(get(r, PB_ITEMS_ON_HAND_STORE_02), "2");
        CHECK_STR(get(r, PB_ITEMS_QTY_ON_HAND), "3.5");   /* sum of the stores */
        CHECK_STR(get(r, PB_ITEMS_AVAILABLE_QTY), "2.5"); /* minus customer orders */
        r = &g.it[1].rec;
        CHECK(!g.it[1].bad);
        CHECK(r->line == 18 && r->record_no == 2);
        CHECK_STR(get(r, PB_ITEMS_IS_WEB_ITEM), "false");
        CHECK_STR(get(r, PB_ITEMS_QTY_ON_HAND), "3");
        CHECK_STR(get(r, PB_ITEMS_AVAILABLE_QTY), "3");
        CHECK_STR(get(r, PB_ITEMS_PRICE1), "(absent)");
    }
    got_release(&g);
}

struct complete_case {
    const char *store1, *store2, *on_hand, *cust, *avail; /* NULL: absent */
    const char *want_on_hand, *want_avail;                 /* "(absent)" when none */
};

static void
test_items_complete(void)
{
    static const struct complete_case cases[] = {
        {"1", "2", NULL, NULL, NULL, "3", "3"},
        {"1.5", "2.25", NULL, "0.75", NULL, "3.75", "3"},
        {"1", NULL, "10", "4", NULL, "10", "6"},  /* given on hand wins over the stores */
        {NULL, NULL, "5", NULL, NULL, "5", "5"},
        {NULL, NULL, "5", "7", NULL, "5", "-2"}, /* oversold */
        {NULL, NULL, "5", "1", "9", "5", "9"},   /* given available is kept */
        {NULL, NULL, NULL, "1", NULL, "(absent)", "(absent)"},
        {"-2", "1", NULL, NULL, NULL, "-1", "-1"},
        {"0", NULL, NULL, NULL, NULL, "0", "0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct complete_case *c = &cases[i];
        struct pb_rec r;
        struct pb_error err;
        const char *why;
        pb_error_init(&err);
        CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
        const char *v[] = {c->store1, c->store2, c->on_hand, c->cust, c->avail};
        const int f[] = {PB_ITEMS_ON_HAND_STORE_01, PB_ITEMS_ON_HAND_STORE_02,
                         PB_ITEMS_QTY_ON_HAND, PB_ITEMS_QTY_ON_CUSTOMER_ORDER,
                         PB_ITEMS_AVAILABLE_QTY};
        for (int k = 0; k < 5; k++)
            if (v[k])
                CHECK(pb_rec_set_checked(&r, f[k], v[k], strlen(v[k]), NULL, &why) == 0);
        CHECK(pb_items_complete(&r) == 0);
        CHECK_STR(get(&r, PB_ITEMS_QTY_ON_HAND), c->want_on_hand);
        CHECK_STR(get(&r, PB_ITEMS_AVAILABLE_QTY), c->want_avail);
        pb_rec_release(&r);
    }
}

/*
 * Regression: pb_items_complete adds the store
 * quantities and subtracts the customer orders in int64_t without an overflow check.
 * Each value parses (at most 922337203685477.5807), but their sum does not fit: signed
 * overflow, which UBSan aborts on.  The item should come back as bad (or the derived
 * value left absent), never wrap.
 */
static void
test_items_complete_overflow(void)
{
    struct pb_rec r;
    struct pb_error err;
    const char *why;
    pb_error_init(&err);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    const char *big = "900000000000000";
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_ON_HAND_STORE_01, big, strlen(big), NULL, &why) == 0);
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_ON_HAND_STORE_02, big, strlen(big), NULL, &why) == 0);
    int rc = pb_items_complete(&r);
    CHECK(rc == -1 || !pb_rec_has(&r, PB_ITEMS_QTY_ON_HAND));
    pb_rec_release(&r);
    CHECK(pb_rec_init(&r, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_QTY_ON_HAND, "-900000000000000", 16, NULL, &why) == 0);
    CHECK(pb_rec_set_checked(&r, PB_ITEMS_QTY_ON_CUSTOMER_ORDER, big, strlen(big), NULL, &why) ==
          0);
    rc = pb_items_complete(&r);
    CHECK(rc == -1 || !pb_rec_has(&r, PB_ITEMS_AVAILABLE_QTY));
    pb_rec_release(&r);
}

/* The item's own Price1 and UnitOfMeasure are not overwritten by the same names nested
 * in UnitOfMeasure1..3, VendorInfo2..5 or other aggregates. */
static void
test_nested_not_overwriting(void)
{
    static const char doc[] =
        HEAD RS
        "<ItemInventoryRet>\n"
        "<UnitOfMeasure1><ALU>CASE-1</ALU><Price1>99.00</Price1><UnitOfMeasure>Case"
        "</UnitOfMeasure><NumberOfBaseUnits>12</NumberOfBaseUnits></UnitOfMeasure1>\n"
        "<Price1>12.00</Price1>\n"
        "<UnitOfMeasure>Each</UnitOfMeasure>\n"
        "<ItemNumber>1</ItemNumber>\n"
        "<ALU>A-1</ALU>\n"
        "<UnitOfMeasure2><Price1>88.00</Price1><UnitOfMeasure>Pack</UnitOfMeasure>"
        "<Price2>77.00</Price2></UnitOfMeasure2>\n"
        "<VendorInfo2><VendorListID>555</VendorListID><OrderCost>1.00</OrderCost></VendorInfo2>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet>\n"
        "<ItemNumber>2</ItemNumber>\n"
        "<UnitOfMeasure1><Price1>99.00</Price1><Price1>bad</Price1><ItemNumber>x</ItemNumber>"
        "</UnitOfMeasure1>\n"
        "<AvailableQty><StoreNumber>1</StoreNumber><QuantityOnHand>50</QuantityOnHand>"
        "</AvailableQty>\n"
        "</ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 2);
    if (g.n == 2) {
        const struct pb_rec *r = &g.it[0].rec;
        CHECK(!g.it[0].bad);
        CHECK_STR(get(r, PB_ITEMS_PRICE1), "12.00");
        CHECK_STR(get(r, PB_ITEMS_PRICE2), "(absent)");
        CHECK_STR(get(r, PB_ITEMS_UNIT_OF_MEASURE), "Each");
        CHECK_STR(get(r, PB_ITEMS_ALU), "A-1");
        CHECK_STR(get(r, PB_ITEMS_VENDOR_LIST_ID), "(absent)");
        CHECK_STR(get(r, PB_ITEMS_ORDER_COST), "(absent)");
        CHECK(r->nextra == 0);
        r = &g.it[1].rec;
        CHECK(!g.it[1].bad); /* the nested bad values are not the item's */
        CHECK_STR(get(r, PB_ITEMS_ITEM_NUMBER), "2");
        CHECK_STR(get(r, PB_ITEMS_PRICE1), "(absent)");
        CHECK_STR(get(r, PB_ITEMS_QTY_ON_HAND), "(absent)");
    }
    got_release(&g);
}

/* A windows-1252 document: bytes converted to UTF-8; entities and character references. */
static void
test_windows_1252(void)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\r\n"
        "<QBPOSXML>\r\n<QBPOSXMLMsgsRs>\r\n" RS
        "<ItemInventoryRet>\r\n"
        "<Desc1>Caf\xe9 \x93Mug\x94 \x80" "5</Desc1>\r\n"
        "<Desc2>A &amp; B &lt;C&gt; &#233;&#x20AC; &quot;q&quot; &apos;</Desc2>\r\n"
        "<ItemNumber>1</ItemNumber>\r\n"
        "</ItemInventoryRet>\r\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 1);
    if (g.n == 1) {
        CHECK(!g.it[0].bad);
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_DESC1),
                  "Caf\xc3\xa9 \xe2\x80\x9cMug\xe2\x80\x9d \xe2\x82\xac" "5");
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_DESC2),
                  "A & B <C> \xc3\xa9\xe2\x82\xac \"q\" '");
        CHECK(g.it[0].rec.line == 5);
    }
    got_release(&g);
}

struct enc_case {
    const char *decl;
    const char *desc1;  /* raw bytes in the document */
    const char *want;   /* UTF-8 */
};

/* The encodings QBPOS and other tools declare, decoded; columns count characters. */
static void
test_encodings(void)
{
    static const struct enc_case cases[] = {
        {"<?xml version=\"1.0\" encoding=\"windows-1252\"?>", "\x80\x81\xe9", "\xe2\x82\xac\xc2\x81\xc3\xa9"},
        {"<?xml version='1.0' encoding = 'CP1252' ?>", "\x92", "\xe2\x80\x99"},
        {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "\x80\xe9", "\xc2\x80\xc3\xa9"},
        {"<?xml version=\"1.0\" encoding=\"latin1\"?>", "\xff", "\xc3\xbf"},
        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "\xc3\xa9\xe2\x82\xac", "\xc3\xa9\xe2\x82\xac"},
        {"<?xml version=\"1.0\"?>", "caf\xc3\xa9", "caf\xc3\xa9"},
        {"\xef\xbb\xbf<?xml version=\"1.0\"?>", "\xc3\xa9", "\xc3\xa9"},
        {"", "plain", "plain"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_buf doc = PB_BUF_INIT;
        CHECK(pb_buf_addf(&doc, "%s\n<QBPOSXML><QBPOSXMLMsgsRs>\n" RS
                                "<ItemInventoryRet>\n<ItemNumber>1</ItemNumber>\n"
                                "<Desc1>%s</Desc1><Price1>bad</Price1>\n"
                                "</ItemInventoryRet>\n" TAIL,
                          cases[i].decl, cases[i].desc1) == 0);
        struct got g;
        struct pb_qbpos_stats st;
        struct pb_error err;
        int rc = parse(doc.data, NULL, &g, &st, &err);
        if (rc != 0)
            printf("#   case %zu: %s\n", i, err.msg);
        CHECK(rc == 0);
        CHECK(g.n == 1);
        if (g.n == 1) {
            CHECK_STR(get(&g.it[0].rec, PB_ITEMS_DESC1), cases[i].want);
            /* <Desc1> 7, the text, </Desc1> 8, <Price1> 8: the value's column */
            long chars = 0;
            for (const char *c = cases[i].want; *c; c++)
                chars += ((unsigned char)*c & 0xc0) != 0x80;
            CHECK(g.it[0].bad);
            CHECK(g.it[0].why.line == 6);
            CHECK(g.it[0].why.column == 7 + chars + 8 + 8 + 1);
        }
        got_release(&g);
        pb_buf_release(&doc);
    }
}

/* A windows-1252 document bigger than the reader's chunk: every chunk is decoded. */
static void
test_big_cp1252(void)
{
    struct pb_buf doc = PB_BUF_INIT;
    CHECK(pb_buf_adds(&doc, "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n"
                            "<QBPOSXML><QBPOSXMLMsgsRs>\n" RS) == 0);
    enum { ITEMS = 6000 };
    for (int i = 0; i < ITEMS; i++)
        CHECK(pb_buf_addf(&doc, "<ItemInventoryRet><ItemNumber>%d</ItemNumber>"
                                "<Desc1>Caf\xe9 \x93%d\x94</Desc1></ItemInventoryRet>\n",
                          i + 1, i + 1) == 0);
    CHECK(pb_buf_adds(&doc, TAIL) == 0);
    CHECK(doc.len > 2 * 256 * 1024);
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    g.stop_at = -1;
    pb_error_init(&err);
    CHECK(pb_qbpos_read_items_mem("big.xml", doc.data, doc.len, NULL, collect, &g, &st, &err) ==
          0);
    CHECK(st.items == ITEMS);
    CHECK(g.n == MAX_ITEMS);
    if (g.n == MAX_ITEMS)
        CHECK_STR(get(&g.it[MAX_ITEMS - 1].rec, PB_ITEMS_DESC1),
                  "Caf\xc3\xa9 \xe2\x80\x9c" "16\xe2\x80\x9d");
    got_release(&g);
    pb_buf_release(&doc);
}

/* Several responses in one document: all items, summed counts, the last remaining count. */
static void
test_two_responses(void)
{
    static const char doc[] =
        HEAD
        "<ItemInventoryQueryRs requestID=\"1\" retCount=\"2\" statusCode=\"0\" "
        "statusSeverity=\"Info\" iteratorRemainingCount=\"1\">\n"
        "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>\n"
        "<ItemInventoryRet><ItemNumber>2</ItemNumber></ItemInventoryRet>\n"
        "</ItemInventoryQueryRs>\n"
        "<ItemInventoryQueryRs requestID=\"2\" retCount=\"1\" statusCode=\"0\" "
        "statusSeverity=\"Info\" iteratorRemainingCount=\"0\">\n"
        "<ItemInventoryRet><ItemNumber>3</ItemNumber></ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 3);
    CHECK(st.responses == 2 && st.items == 3 && st.declared == 3 && st.remaining == 0);
    for (int i = 0; i < g.n; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", i + 1);
        CHECK_STR(get(&g.it[i].rec, PB_ITEMS_ITEM_NUMBER), want);
        CHECK(g.it[i].rec.record_no == i + 1);
    }
    got_release(&g);
}

struct status_case {
    const char *attrs;
    int rc;
    const char *msg_part; /* for rc -1 */
};

static void
test_status(void)
{
    static const struct status_case cases[] = {
        {"statusCode=\"1\" statusSeverity=\"Info\" statusMessage=\"A query request did not "
         "find a matching object in QuickBooks POS\" retCount=\"0\"",
         0, NULL},
        {"statusCode=\"0\" statusSeverity=\"Info\" retCount=\"0\"", 0, NULL},
        {"statusCode=\"3250\" statusSeverity=\"Error\" statusMessage=\"This feature is not "
         "enabled or not available in this version of QuickBooks POS.\"",
         -1, "3250"},
        {"statusCode=\"3250\" statusSeverity=\"Error\" statusMessage=\"This feature is not "
         "enabled or not available in this version of QuickBooks POS.\"",
         -1, "This feature is not enabled"},
        {"statusCode=\"9999\" statusSeverity=\"Error\"", -1, "9999"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_buf doc = PB_BUF_INIT;
        CHECK(pb_buf_addf(&doc, HEAD "<ItemInventoryQueryRs requestID=\"1\" %s>\n" TAIL,
                          cases[i].attrs) == 0);
        struct got g;
        struct pb_qbpos_stats st;
        struct pb_error err;
        int rc = parse(doc.data, NULL, &g, &st, &err);
        CHECK(rc == cases[i].rc);
        CHECK(g.n == 0);
        CHECK(st.responses == 1);
        if (cases[i].rc == -1) {
            CHECK(err.code == PB_EDATA);
            CHECK(err.line == 4);
            CHECK_STR(err.file, "test.xml");
            CHECK(strstr(err.msg, cases[i].msg_part) != NULL);
        } else {
            CHECK(err.code == PB_OK);
        }
        got_release(&g);
        pb_buf_release(&doc);
    }
}

struct refuse_case {
    const char *doc;
    long line;           /* expected err.line, 0: do not check */
    const char *msg_part;
};

/* Documents refused as a whole: -1 with a positioned error; no item is delivered after. */
static void
test_refused(void)
{
    static const struct refuse_case cases[] = {
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE QBPOSXML [\n<!ENTITY e \"boom\">\n]>\n"
         "<QBPOSXML><QBPOSXMLMsgsRs>" RS
         "<ItemInventoryRet><ItemNumber>1</ItemNumber><Desc1>&e;</Desc1></ItemInventoryRet>"
         TAIL,
         2, "DTD"},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE QBPOSXML SYSTEM \"http://127.0.0.1:9/x.dtd\">\n"
         "<QBPOSXML><QBPOSXMLMsgsRs>" RS
         "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>" TAIL,
         2, "DTD"},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE QBPOSXML [\n<!ENTITY lol \"lol\">\n"
         "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
         "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n]>\n"
         "<QBPOSXML><QBPOSXMLMsgsRs>" RS
         "<ItemInventoryRet><ItemNumber>1</ItemNumber><Desc1>&lol2;</Desc1></ItemInventoryRet>"
         TAIL,
         2, "DTD"},
        {HEAD RS "<ItemInventoryRet>\n<ItemNumber>1</ItemNumber>\n<Desc1>&e;</Desc1>\n"
                 "</ItemInventoryRet>\n" TAIL,
         7, "entity '&e;' is not allowed"},
        {"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><item><title>x</title>"
         "</item></channel></rss>\n",
         2, "not a qbposXML document"},
        {"<?xml version=\"1.0\"?>\n<qbposxml></qbposxml>\n", 2, "not a qbposXML document"},
        {HEAD RS "<ItemInventoryRet>\n<ItemNumber>1</ItemNumber>\n<Desc1>Mug</Desc2>\n"
                 "</ItemInventoryRet>\n" TAIL,
         7, "malformed XML"},
        {HEAD RS "<ItemInventoryRet>\n<ItemNumber>1</ItemNumber>\n<Desc1>Jalape",
         0, "truncated"},
        {HEAD RS "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>\n"
                 "</ItemInventoryQueryRs>\n</QBPOSXMLMsgsRs>\n</QBPOSXML>\n<extra/>\n",
         0, "malformed XML"},
        {"not xml at all", 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct got g;
        struct pb_qbpos_stats st;
        struct pb_error err;
        int rc = parse(cases[i].doc, NULL, &g, &st, &err);
        if (rc != -1 || !strstr(err.msg, cases[i].msg_part) ||
            (cases[i].line && err.line != cases[i].line))
            printf("#   case %zu: rc %d line %ld msg '%s'\n", i, rc, err.line, err.msg);
        CHECK(rc == -1);
        CHECK(err.code == PB_EDATA);
        CHECK_STR(err.file, "test.xml");
        CHECK(strstr(err.msg, cases[i].msg_part) != NULL);
        if (cases[i].line)
            CHECK(err.line == cases[i].line);
        /* nothing of a DTD's entities ever reaches a record */
        for (int k = 0; k < g.n; k++) {
            CHECK(strstr(get(&g.it[k].rec, PB_ITEMS_DESC1), "boom") == NULL);
            CHECK(strstr(get(&g.it[k].rec, PB_ITEMS_DESC1), "lol") == NULL);
        }
        got_release(&g);
    }
}

/*
 * Regression: an empty document (a 0-byte file)
 * is reported as "malformed XML: Extra content at the end of the document"; libxml2's
 * XML_ERR_DOCUMENT_END reaches on_xml_error before run() can say "the document is empty".
 */
static void
test_empty_document(void)
{
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse("", NULL, &g, &st, &err) == -1);
    CHECK(err.code == PB_EDATA);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK(strstr(err.msg, "Extra content") == NULL);
    got_release(&g);
}

/*
 * Regression: a DataExtValue longer than
 * PB_FIELD_MAX is silently stored as an empty (or cut) x_ extra and the item is good.
 * on_chars sets too_long when dx_value refuses the bytes, but end_dataext never looks at
 * it.  The item should be bad ("value longer than ...", field the x_ name).
 */
static void
test_dataext_too_long(void)
{
    struct pb_buf doc = PB_BUF_INIT;
    CHECK(pb_buf_adds(&doc, HEAD RS "<ItemInventoryRet><ItemNumber>1</ItemNumber>"
                                    "<DataExtRet><DataExtName>Big</DataExtName><DataExtValue>") ==
          0);
    for (int i = 0; i < PB_FIELD_MAX / 16 + 10; i++)
        CHECK(pb_buf_adds(&doc, "0123456789abcdef") == 0);
    CHECK(pb_buf_adds(&doc, "</DataExtValue></DataExtRet></ItemInventoryRet>\n" TAIL) == 0);
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc.data, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 1);
    if (g.n == 1) {
        size_t n = strlen(extra(&g.it[0].rec, "x_big"));
        CHECK(g.it[0].bad || n == (size_t)(PB_FIELD_MAX / 16 + 10) * 16);
    }
    got_release(&g);
    pb_buf_release(&doc);
}

/* A bad value: the item goes to the callback as bad, with its position; reading goes on. */
static void
test_bad_values(void)
{
    static const char doc[] =
        HEAD RS
        "<ItemInventoryRet>\n"               /* 5 */
        "<ItemNumber>1</ItemNumber>\n"
        "<Price1>12.3x</Price1>\n"           /* 7 */
        "<Price2>1.005</Price2>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet>\n"               /* 10 */
        "<Price1>2</Price1>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet>\n"               /* 13 */
        "<ItemNumber>3</ItemNumber>\n"
        "<Desc1>a<b>inner</b></Desc1>\n"     /* 15 */
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet>\n"               /* 17 */
        "<ItemNumber>4</ItemNumber>\n"
        "<IsWebItem>Maybe</IsWebItem>\n"      /* 19 */
        "<OnHandStore02>abc</OnHandStore02>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet>\n"               /* 22 */
        "<ItemNumber>5</ItemNumber>\n"
        "</ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 5);
    if (g.n == 5) {
        const struct item *it = &g.it[0];
        CHECK(it->bad);
        CHECK(it->why.code == PB_EDATA);
        CHECK_STR(it->why.file, "test.xml");
        CHECK(it->why.line == 7);
        CHECK(it->why.column == 9); /* where the value starts */
        CHECK(it->why.record == 1);
        CHECK_STR(it->why.field, "price1");
        CHECK_STR(it->why.msg, "not a number: '12.3x'");
        CHECK_STR(get(&it->rec, PB_ITEMS_PRICE1), "12.3x"); /* the raw value is kept */
        CHECK_STR(get(&it->rec, PB_ITEMS_PRICE2), "1.005");
        it = &g.it[1];
        CHECK(it->bad);
        CHECK_STR(it->why.field, "item_number");
        CHECK_STR(it->why.msg, "required value is missing");
        CHECK(it->why.line == 10 && it->why.record == 2);
        it = &g.it[2];
        CHECK(it->bad);
        CHECK_STR(it->why.field, "desc1");
        CHECK(strstr(it->why.msg, "unexpected element") != NULL);
        CHECK(it->why.line == 15 && it->why.record == 3);
        it = &g.it[3];
        CHECK(it->bad);
        CHECK_STR(it->why.field, "is_web_item"); /* the first problem */
        CHECK(it->why.line == 19);
        CHECK(it->why.column == 12);
        CHECK_STR(get(&it->rec, PB_ITEMS_ON_HAND_STORE_02), "abc");
        it = &g.it[4];
        CHECK(!it->bad);
        CHECK_STR(get(&it->rec, PB_ITEMS_ITEM_NUMBER), "5");
    }
    got_release(&g);
}

/* A value past PB_FIELD_MAX: that item is bad, memory stays bounded, the rest is read. */
static void
test_too_long(void)
{
    struct pb_buf doc = PB_BUF_INIT;
    CHECK(pb_buf_adds(&doc, HEAD RS "<ItemInventoryRet><ItemNumber>1</ItemNumber><Desc2>") == 0);
    for (int i = 0; i < PB_FIELD_MAX / 16 + 10; i++)
        CHECK(pb_buf_adds(&doc, "0123456789abcdef") == 0);
    CHECK(pb_buf_adds(&doc, "</Desc2></ItemInventoryRet>\n"
                            "<ItemInventoryRet><ItemNumber>2</ItemNumber></ItemInventoryRet>\n"
                            TAIL) == 0);
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc.data, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 2);
    if (g.n == 2) {
        CHECK(g.it[0].bad);
        CHECK_STR(g.it[0].why.field, "desc2");
        CHECK(strstr(g.it[0].why.msg, "longer than") != NULL);
        CHECK(!g.it[1].bad);
    }
    got_release(&g);
    pb_buf_release(&doc);
}

/* DataExtRet becomes an x_ extra named after DataExtName. */
static void
test_dataext(void)
{
    static const char doc[] =
        HEAD RS
        "<ItemInventoryRet>\n"
        "<ItemNumber>1</ItemNumber>\n"
        "<DataExtRet><OwnerID>0</OwnerID><DataExtName>Web Color</DataExtName>"
        "<DataExtType>STR255TYPE</DataExtType><DataExtValue>Sea Blue</DataExtValue>"
        "</DataExtRet>\n"
        "<DataExtRet><DataExtValue>value first</DataExtValue>"
        "<DataExtName>  Season (2026)!  </DataExtName></DataExtRet>\n"
        "<DataExtRet><DataExtName>empty</DataExtName><DataExtValue></DataExtValue></DataExtRet>\n"
        "<DataExtRet><DataExtName>!!!</DataExtName><DataExtValue>dropped</DataExtValue>"
        "</DataExtRet>\n"
        "<Price1>1</Price1>\n"
        "</ItemInventoryRet>\n"
        "<ItemInventoryRet><ItemNumber>2</ItemNumber></ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 2);
    if (g.n == 2) {
        const struct pb_rec *r = &g.it[0].rec;
        CHECK(!g.it[0].bad);
        CHECK_STR(extra(r, "x_web_color"), "Sea Blue");
        CHECK_STR(extra(r, "x_season_2026"), "value first");
        CHECK_STR(extra(r, "x_empty"), "");
        CHECK(r->nextra == 3);
        if (r->nextra >= 1)
            CHECK_STR(pb_rec_extra_name(r, 0), "x_web_color");
        CHECK_STR(get(r, PB_ITEMS_PRICE1), "1.00");
        CHECK(g.it[1].rec.nextra == 0); /* extras do not leak into the next item */
    }
    got_release(&g);
}

/* Times without an offset are read in tz (UTC when NULL). */
static void
test_naive_times(void)
{
    static const char doc[] =
        HEAD RS
        "<ItemInventoryRet><ItemNumber>1</ItemNumber>"
        "<TimeCreated>2026-11-20T17:42:49</TimeCreated>"
        "<TimeModified>2026-07-01T12:00:00</TimeModified></ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, "America/Chicago", &g, &st, &err) == 0);
    CHECK(g.n == 1);
    if (g.n == 1) {
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_TIME_CREATED), "2026-11-20T23:42:49Z");
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_TIME_MODIFIED), "2026-07-01T17:00:00Z");
    }
    got_release(&g);
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 1);
    if (g.n == 1)
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_TIME_CREATED), "2026-11-20T17:42:49Z");
    got_release(&g);
}

/* The callback can stop the parse; its error is returned. */
static void
test_callback_stop(void)
{
    static const char doc[] =
        HEAD RS
        "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>\n"
        "<ItemInventoryRet><ItemNumber>2</ItemNumber></ItemInventoryRet>\n"
        "<ItemInventoryRet><ItemNumber>3</ItemNumber></ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    g.stop_at = 1;
    pb_error_init(&err);
    int rc = pb_qbpos_read_items_mem("test.xml", doc, strlen(doc), NULL, collect, &g, &st, &err);
    CHECK(rc == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK_STR(err.msg, "callback stops at item 2");
    CHECK(g.n == 1);
    got_release(&g);
}

/* Items outside an ItemInventoryQueryRs, and other responses, are not items. */
static void
test_other_elements(void)
{
    static const char doc[] =
        HEAD
        "<ItemInventoryRet><ItemNumber>9</ItemNumber></ItemInventoryRet>\n"
        "<CustomerQueryRs statusCode=\"0\"><ItemInventoryRet><ItemNumber>8</ItemNumber>"
        "</ItemInventoryRet></CustomerQueryRs>\n"
        RS
        "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>\n"
        TAIL;
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    CHECK(parse(doc, NULL, &g, &st, &err) == 0);
    CHECK(g.n == 1);
    CHECK(st.responses == 1 && st.items == 1);
    if (g.n == 1)
        CHECK_STR(get(&g.it[0].rec, PB_ITEMS_ITEM_NUMBER), "1");
    got_release(&g);
}

/* Reading from a file gives the same as from memory; a missing file is PB_ENOINPUT. */
static void
test_file(void)
{
    char dir[] = "/tmp/pb-test-qbpos-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[80];
    snprintf(path, sizeof(path), "%s/items.xml", dir);
    static const char doc[] =
        HEAD RS "<ItemInventoryRet><ItemNumber>1</ItemNumber></ItemInventoryRet>\n" TAIL;
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs(doc, fp);
        fclose(fp);
    }
    struct got g;
    struct pb_qbpos_stats st;
    struct pb_error err;
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    g.stop_at = -1;
    pb_error_init(&err);
    CHECK(pb_qbpos_read_items(path, NULL, collect, &g, &st, &err) == 0);
    CHECK(g.n == 1);
    if (g.n == 1)
        CHECK(g.it[0].rec.file && strcmp(g.it[0].rec.file, path) == 0);
    got_release(&g);
    unlink(path);
    pb_error_init(&err);
    CHECK(pb_qbpos_read_items(path, NULL, collect, &g, &st, &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    rmdir(dir);
}

int
main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the lines if a sanitizer aborts */
    pb_log_level = PB_LOG_ERROR;
    RUN(test_any_order);
    RUN(test_items_complete);
    RUN(test_nested_not_overwriting);
    RUN(test_windows_1252);
    RUN(test_encodings);
    RUN(test_big_cp1252);
    RUN(test_two_responses);
    RUN(test_status);
    RUN(test_refused);
    RUN(test_bad_values);
    RUN(test_too_long);
    RUN(test_dataext);
    RUN(test_naive_times);
    RUN(test_callback_stop);
    RUN(test_other_elements);
    RUN(test_file);
    RUN(test_empty_document);
    RUN(test_dataext_too_long);
    RUN(test_items_complete_overflow);
    return check_summary();
}
