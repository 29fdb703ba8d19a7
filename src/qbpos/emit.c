/*
 * emit: a batch's qbpos/receipts.* -> qbpos/requests.xml, one qbposXML 3.0 document with
 * every request in the element order of qbposxmlops30.xml.  See receipts.h.
 *
 * One message set, onError="continueOnError", so one refused receipt does not stop the
 * others.  A new customer is a CustomerAddRq with defMacro, and the receipts that need it
 * follow in the same document with useMacro.  requestIDs are stable ("add:KEY",
 * "check:KEY", "customer:KEY", "check-customer:KEY") so ingest can match every answer,
 * in any order, to what was asked.
 */
#include "posbridge/receipts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/rejects.h"
#include "posbridge/sha256.h"
#include "posbridge/staged.h"
#include "posbridge/state.h"
#include "posbridge/banned.h"

int
pb_receipt_marker(const char *key, char *out, size_t n)
{
    int k = snprintf(out, n, "[pb:%s]", key);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

void
pb_customer_code(const char *key, char out[20])
{
    struct pb_sha256 s;
    char hex[65];
    pb_sha256_init(&s);
    pb_sha256_update(&s, key, strlen(key));
    pb_sha256_hex(&s, hex);
    snprintf(out, 20, "pb-%.16s", hex);
}

/* ---- reading the receipts ---- */

struct receipt {
    char *key;
    struct pb_rec *rows;
    int n, cap;
    int bad;                  /* a row of it was refused: the whole receipt is */
};

struct emit {
    const struct pb_config *cfg;
    struct receipt *v;
    int n, cap;
    json_t *index;            /* key -> position */
    struct pb_rejects rejects;
    struct pb_journal ledger;
    struct pb_emit_result *res;
    char *rel;                /* how messages name the receipts file */
};

static struct receipt *
receipt_for(struct emit *e, const char *key)
{
    json_t *ix = json_object_get(e->index, key);
    if (ix)
        return &e->v[json_integer_value(ix)];
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 64;
        struct receipt *v = realloc(e->v, (size_t)cap * sizeof(*v));
        if (!v)
            return NULL;
        e->v = v;
        e->cap = cap;
    }
    struct receipt *r = &e->v[e->n];
    memset(r, 0, sizeof(*r));
    if (!(r->key = strdup(key)) || json_object_set_new(e->index, key, json_integer(e->n)) < 0)
        return NULL;
    e->n++;
    return r;
}

static int
add_row(struct receipt *r, const struct pb_rec *rec, struct pb_error *err)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 4;
        struct pb_rec *v = realloc(r->rows, (size_t)cap * sizeof(*v));
        if (!v)
            return pb_error_set(err, PB_EOS, "out of memory");
        r->rows = v;
        r->cap = cap;
    }
    if (pb_rec_init(&r->rows[r->n], &pb_schema_receipts, err) < 0)
        return -1;
    r->n++;
    if (pb_rec_copy(&r->rows[r->n - 1], rec) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    r->rows[r->n - 1].file = NULL; /* the reader's name goes away with it */
    return 0;
}

/* Receipt-level fields: the same on every row of a receipt. */
static int
is_receipt_field(int f)
{
    return f < PB_RECEIPTS_LINE_LIST_ID || f >= PB_RECEIPTS_TENDER_01_TYPE;
}

static int
read_receipts(struct emit *e, const char *path, const char *rel, struct pb_error *err)
{
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, rel, 1, NULL, NULL};
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_receipts, &ro, err);
    struct pb_rec rec;
    int rc = -1;
    if (!rd || pb_rec_init(&rec, &pb_schema_receipts, err) < 0) {
        pb_reader_close(rd, NULL);
        return -1;
    }
    for (;;) {
        struct pb_error bad;
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, err);
        if (r < 0)
            goto out;
        if (r == PB_READ_EOF)
            break;
        const char *key = pb_rec_get(&rec, PB_RECEIPTS_RECEIPT_KEY, NULL);
        if (r == PB_READ_REJECT) {
            pb_log_error(PB_LOG_ERROR, &bad);
            if (pb_rejects_add(&e->rejects, &bad, &rec, err) < 0)
                goto out;
            if (!key)
                continue; /* no key: nothing else to hold back */
        }
        struct receipt *rc2 = receipt_for(e, key);
        if (!rc2) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (r == PB_READ_REJECT) {
            rc2->bad = 1;
            continue;
        }
        if (rc2->n) {
            /* A hand edit may have changed one row's copy of a receipt field. */
            const struct pb_rec *first = &rc2->rows[0];
            for (int f = 0; f < rec.schema->nfields; f++) {
                size_t a = 0, b = 0;
                const char *x = pb_rec_get(first, f, &a), *y = pb_rec_get(&rec, f, &b);
                if (!is_receipt_field(f) || (!x && !y) || (x && y && a == b && !memcmp(x, y, a)))
                    continue;
                pb_log(PB_LOG_WARN,
                       "%s:%ld: receipt '%s': %s is '%.*s' here but '%.*s' on line %ld; the "
                       "first is used",
                       rel, rec.line, key, rec.schema->fields[f].name, y ? (int)b : 0,
                       y ? y : "", x ? (int)a : 0, x ? x : "", first->line);
            }
        }
        if (add_row(rc2, &rec, err) < 0)
            goto out;
    }
    rc = 0;
out:
    if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_rec_release(&rec);
    return rc;
}

/* ---- writing XML ---- */

static int
esc(struct pb_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        switch (c) {
        case '&': rc = pb_buf_adds(b, "&amp;"); break;
        case '<': rc = pb_buf_adds(b, "&lt;"); break;
        case '>': rc = pb_buf_adds(b, "&gt;"); break;
        case '"': rc = pb_buf_adds(b, "&quot;"); break;
        case '\'': rc = pb_buf_adds(b, "&apos;"); break;
        case '\t': case '\n': case '\r': rc = pb_buf_addch(b, ' '); break;
        default: rc = c < 0x20 || c == 0x7f ? 0 : pb_buf_addch(b, c);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* <Name>value</Name> when the field has a value. */
static int
el(struct pb_buf *b, int depth, const char *name, const char *v, size_t n)
{
    if (!v || !n)
        return 0;
    if (pb_buf_addf(b, "%*s<%s>", 2 * depth, "", name) < 0 || esc(b, v, n) < 0 ||
        pb_buf_addf(b, "</%s>\n", name) < 0)
        return -1;
    return 0;
}

static int
field(struct pb_buf *b, int depth, const char *name, const struct pb_rec *r, int f)
{
    size_t n;
    const char *v = pb_rec_get(r, f, &n);
    return el(b, depth, name, v, v ? n : 0);
}

static int
els(struct pb_buf *b, int depth, const char *name, const char *v)
{
    return el(b, depth, name, v, v ? strlen(v) : 0);
}

static int
any(const struct pb_rec *r, int from, int to)
{
    for (int f = from; f <= to; f++)
        if (pb_rec_has(r, f))
            return 1;
    return 0;
}

/* ---- the requests ---- */

static int
customer_add(struct pb_buf *b, const struct pb_rec *r, const char *key, int macro)
{
    char code[20];
    pb_customer_code(key, code);
    int rc = pb_buf_adds(b, "    <CustomerAddRq requestID=\"customer:") < 0 || esc(b, key, strlen(key)) < 0 ||
             pb_buf_addf(b, "\">\n      <CustomerAdd defMacro=\"ListID:c%d\">\n", macro) < 0 ||
             field(b, 4, "CompanyName", r, PB_RECEIPTS_CUSTOMER_COMPANY) < 0 ||
             els(b, 4, "CustomerID", code) < 0 ||
             field(b, 4, "EMail", r, PB_RECEIPTS_CUSTOMER_EMAIL) < 0 ||
             field(b, 4, "FirstName", r, PB_RECEIPTS_CUSTOMER_FIRST_NAME) < 0 ||
             field(b, 4, "LastName", r, PB_RECEIPTS_CUSTOMER_LAST_NAME) < 0 ||
             field(b, 4, "Phone", r, PB_RECEIPTS_CUSTOMER_PHONE) < 0;
    if (!rc && any(r, PB_RECEIPTS_BILL_STREET, PB_RECEIPTS_BILL_COUNTRY))
        rc = pb_buf_adds(b, "        <BillAddress>\n") < 0 ||
             field(b, 5, "City", r, PB_RECEIPTS_BILL_CITY) < 0 ||
             field(b, 5, "Country", r, PB_RECEIPTS_BILL_COUNTRY) < 0 ||
             field(b, 5, "PostalCode", r, PB_RECEIPTS_BILL_POSTAL_CODE) < 0 ||
             field(b, 5, "State", r, PB_RECEIPTS_BILL_STATE) < 0 ||
             field(b, 5, "Street", r, PB_RECEIPTS_BILL_STREET) < 0 ||
             field(b, 5, "Street2", r, PB_RECEIPTS_BILL_STREET2) < 0 ||
             pb_buf_adds(b, "        </BillAddress>\n") < 0;
    return rc || pb_buf_adds(b, "      </CustomerAdd>\n    </CustomerAddRq>\n") < 0 ? -1 : 0;
}

static int
customer_check(struct pb_buf *b, const char *key)
{
    char code[20];
    pb_customer_code(key, code);
    return pb_buf_adds(b, "    <CustomerQueryRq requestID=\"check-customer:") < 0 ||
                   esc(b, key, strlen(key)) < 0 ||
                   pb_buf_addf(b, "\">\n      <CustomerIDFilter>\n        <MatchStringCriterion>"
                                  "Equal</MatchStringCriterion>\n        <CustomerID>%s</CustomerID>\n"
                                  "      </CustomerIDFilter>\n      <IncludeRetElement>ListID"
                                  "</IncludeRetElement>\n      <IncludeRetElement>CustomerID"
                                  "</IncludeRetElement>\n    </CustomerQueryRq>\n",
                               code) < 0
               ? -1
               : 0;
}

static int
receipt_check(struct pb_buf *b, const char *key)
{
    char mark[256];
    if (pb_receipt_marker(key, mark, sizeof(mark)) < 0)
        return -1;
    return pb_buf_adds(b, "    <SalesReceiptQueryRq requestID=\"check:") < 0 ||
                   esc(b, key, strlen(key)) < 0 ||
                   pb_buf_adds(b, "\">\n      <CommentsFilter>\n        <MatchStringCriterion>"
                                  "Contains</MatchStringCriterion>\n        <Comments>") < 0 ||
                   esc(b, mark, strlen(mark)) < 0 ||
                   pb_buf_adds(b, "</Comments>\n      </CommentsFilter>\n      <IncludeRetElement>"
                                  "TxnID</IncludeRetElement>\n      <IncludeRetElement>Comments"
                                  "</IncludeRetElement>\n    </SalesReceiptQueryRq>\n") < 0
               ? -1
               : 0;
}

/* Tender elements in schema order, whatever order the file lists them in. */
static const struct {
    const char *type, *element;
} tenders[] = {
    {"Account", "TenderAccountAdd"}, {"Cash", "TenderCashAdd"},
    {"Check", "TenderCheckAdd"},     {"CreditCard", "TenderCreditCardAdd"},
    {"DebitCard", "TenderDebitCardAdd"}, {"Deposit", "TenderDepositAdd"},
    {"Gift", "TenderGiftAdd"},       {"GiftCard", "TenderGiftCardAdd"},
};

#define NTENDERS 20
/* tender n (from 0), k: 0 type, 1 card name, 2 amount; the schema lists each kind 01..20 */
#define TENDER_FIELD(n, k) (PB_RECEIPTS_TENDER_01_TYPE + NTENDERS * (k) + (n))

static int
receipt_add(struct pb_buf *b, const struct receipt *rc, const char *customer_list_id,
            int customer_macro)
{
    const struct pb_rec *r = &rc->rows[0];
    char mark[256];
    struct pb_buf comments = PB_BUF_INIT;
    size_t n = 0;
    const char *type = pb_rec_get(r, PB_RECEIPTS_TYPE, NULL);
    const char *num = pb_rec_get(r, PB_RECEIPTS_WEB_NUMBER, &n);
    const char *store = pb_rec_get(r, PB_RECEIPTS_WEB_STORE, NULL);
    const char *more = pb_rec_get(r, PB_RECEIPTS_COMMENTS, NULL);
    int bad = pb_receipt_marker(rc->key, mark, sizeof(mark)) < 0 ||
              pb_buf_addf(&comments, "Web %s %.*s%s%s%s %s%s%s", !strcmp(type, "Return") ? "return" : "order",
                          (int)n, num, store ? " (" : "", store ? store : "", store ? ")" : "", mark,
                          more ? "\n" : "", more ? more : "") < 0;
    bad = bad || pb_buf_adds(b, "    <SalesReceiptAddRq requestID=\"add:") < 0 ||
          esc(b, rc->key, strlen(rc->key)) < 0 || pb_buf_adds(b, "\">\n      <SalesReceiptAdd>\n") < 0 ||
          field(b, 4, "Associate", r, PB_RECEIPTS_ASSOCIATE) < 0 ||
          field(b, 4, "Cashier", r, PB_RECEIPTS_CASHIER) < 0 ||
          el(b, 4, "Comments", comments.data, comments.len) < 0;
    if (!bad && customer_list_id)
        bad = els(b, 4, "CustomerListID", customer_list_id) < 0;
    else if (!bad && customer_macro)
        bad = pb_buf_addf(b, "        <CustomerListID useMacro=\"ListID:c%d\"/>\n", customer_macro) < 0;
    bad = bad || field(b, 4, "Discount", r, PB_RECEIPTS_DISCOUNT) < 0 ||
          els(b, 4, "SalesReceiptType", type) < 0 ||
          field(b, 4, "StoreNumber", r, PB_RECEIPTS_STORE_NUMBER) < 0 ||
          field(b, 4, "TxnDate", r, PB_RECEIPTS_TXN_DATE) < 0;
    if (!bad && any(r, PB_RECEIPTS_SHIP_FULL_NAME, PB_RECEIPTS_SHIPPING))
        bad = pb_buf_adds(b, "        <ShippingInformation>\n") < 0 ||
              field(b, 5, "City", r, PB_RECEIPTS_SHIP_CITY) < 0 ||
              field(b, 5, "CompanyName", r, PB_RECEIPTS_SHIP_COMPANY) < 0 ||
              field(b, 5, "Country", r, PB_RECEIPTS_SHIP_COUNTRY) < 0 ||
              field(b, 5, "FullName", r, PB_RECEIPTS_SHIP_FULL_NAME) < 0 ||
              field(b, 5, "Phone", r, PB_RECEIPTS_SHIP_PHONE) < 0 ||
              field(b, 5, "PostalCode", r, PB_RECEIPTS_SHIP_POSTAL_CODE) < 0 ||
              field(b, 5, "ShipBy", r, PB_RECEIPTS_SHIP_BY) < 0 ||
              field(b, 5, "Shipping", r, PB_RECEIPTS_SHIPPING) < 0 ||
              field(b, 5, "State", r, PB_RECEIPTS_SHIP_STATE) < 0 ||
              field(b, 5, "Street", r, PB_RECEIPTS_SHIP_STREET) < 0 ||
              field(b, 5, "Street2", r, PB_RECEIPTS_SHIP_STREET2) < 0 ||
              pb_buf_adds(b, "        </ShippingInformation>\n") < 0;
    for (int i = 0; !bad && i < rc->n; i++) {
        const struct pb_rec *l = &rc->rows[i];
        bad = pb_buf_adds(b, "        <SalesReceiptItemAdd>\n") < 0 ||
              field(b, 5, "ListID", l, PB_RECEIPTS_LINE_LIST_ID) < 0 ||
              field(b, 5, "ALU", l, PB_RECEIPTS_LINE_SKU) < 0 ||
              field(b, 5, "Desc1", l, PB_RECEIPTS_LINE_DESC) < 0 ||
              field(b, 5, "Discount", l, PB_RECEIPTS_LINE_DISCOUNT) < 0 ||
              field(b, 5, "Price", l, PB_RECEIPTS_LINE_PRICE) < 0 ||
              field(b, 5, "Qty", l, PB_RECEIPTS_LINE_QTY) < 0 ||
              field(b, 5, "TaxCode", l, PB_RECEIPTS_LINE_TAX_CODE) < 0 ||
              pb_buf_adds(b, "        </SalesReceiptItemAdd>\n") < 0;
    }
    for (size_t t = 0; !bad && t < sizeof(tenders) / sizeof(tenders[0]); t++) {
        for (int k = 0; !bad && k < NTENDERS; k++) {
            const char *tt = pb_rec_get(r, TENDER_FIELD(k, 0), NULL);
            if (!tt || strcmp(tt, tenders[t].type))
                continue;
            bad = pb_buf_addf(b, "        <%s>\n", tenders[t].element) < 0 ||
                  (!strcmp(tt, "CreditCard") &&
                   field(b, 5, "CardName", r, TENDER_FIELD(k, 1)) < 0) ||
                  field(b, 5, "TenderAmount", r, TENDER_FIELD(k, 2)) < 0 ||
                  pb_buf_addf(b, "        </%s>\n", tenders[t].element) < 0;
        }
    }
    bad = bad || pb_buf_adds(b, "      </SalesReceiptAdd>\n    </SalesReceiptAddRq>\n") < 0;
    pb_buf_release(&comments);
    return bad ? -1 : 0;
}

/* A receipt that cannot be sent as it is: why, or NULL. */
static const char *
refuse(const struct receipt *rc, const char **field)
{
    const struct pb_rec *r = &rc->rows[0];
    *field = NULL;
    if (!pb_rec_has(r, PB_RECEIPTS_CUSTOMER_LIST_ID) && pb_rec_has(r, PB_RECEIPTS_CUSTOMER_KEY) &&
        !pb_rec_has(r, PB_RECEIPTS_CUSTOMER_LAST_NAME)) {
        *field = "customer_last_name";
        return "a new customer needs a last name (QBPOS requires one)";
    }
    int tendered = 0;
    for (int k = 0; k < NTENDERS; k++) {
        int has_type = pb_rec_has(r, TENDER_FIELD(k, 0)), has_amt = pb_rec_has(r, TENDER_FIELD(k, 2));
        if (has_type != has_amt) {
            *field = r->schema->fields[TENDER_FIELD(k, has_type ? 2 : 0)].name;
            return "a tender needs both a type and an amount";
        }
        const char *t = pb_rec_get(r, TENDER_FIELD(k, 0), NULL);
        if (t && !strcmp(t, "CreditCard") && !pb_rec_has(r, TENDER_FIELD(k, 1))) {
            *field = r->schema->fields[TENDER_FIELD(k, 1)].name;
            return "a credit card tender needs a card name (QBPOS requires one)";
        }
        tendered |= has_type;
    }
    if (!tendered) {
        *field = "tender_01_type";
        return "the receipt has no tender: QBPOS would refuse it as not balanced";
    }
    return NULL;
}

static const char *
ledger_status(struct emit *e, const char *key, const char **kind)
{
    json_t *last = pb_journal_last(&e->ledger, key);
    *kind = json_string_value(json_object_get(last, "kind"));
    return json_string_value(json_object_get(last, "status"));
}

static int
reject_receipt(struct emit *e, const struct receipt *rc, const char *field, const char *why,
               struct pb_error *err)
{
    struct pb_error bad;
    pb_error_init(&bad);
    pb_error_at(&bad, PB_EDATA, e->rel, rc->rows[0].line, -1, rc->rows[0].record_no,
                field, "receipt '%s': %s", rc->key, why);
    pb_log_error(PB_LOG_ERROR, &bad);
    e->res->rejected++;
    return pb_rejects_add(&e->rejects, &bad, &rc->rows[0], err);
}

static int
build(struct emit *e, struct pb_buf *doc, struct pb_error *err)
{
    json_t *macro_of = json_object(); /* customer key -> macro number in this document */
    int macros = 0, rc = -1;
    if (!macro_of)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (pb_buf_adds(doc, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?qbposxml version=\"3.0\"?>\n"
                         "<QBPOSXML>\n  <QBPOSXMLMsgsRq onError=\"continueOnError\">\n") < 0)
        goto oom;
    for (int i = 0; i < e->n; i++) {
        struct receipt *rc2 = &e->v[i];
        const char *kind, *status, *why, *fld;
        if (rc2->bad) {
            e->res->rejected++;
            continue;
        }
        status = ledger_status(e, rc2->key, &kind);
        if (status && !strcmp(status, "confirmed")) {
            e->res->confirmed++;
            continue;
        }
        if (kind && !strcmp(kind, "intent")) {
            /* Emitted before, answer never ingested: ask QBPOS, never add blind. */
            if (receipt_check(doc, rc2->key) < 0)
                goto oom;
            if (!pb_journal_intent(&e->ledger, "check", rc2->key, NULL, err))
                goto out;
            e->res->checks++;
            continue;
        }
        if ((why = refuse(rc2, &fld))) {
            if (reject_receipt(e, rc2, fld, why, err) < 0)
                goto out;
            continue;
        }
        const struct pb_rec *r = &rc2->rows[0];
        const char *list_id = pb_rec_get(r, PB_RECEIPTS_CUSTOMER_LIST_ID, NULL);
        const char *ckey = pb_rec_get(r, PB_RECEIPTS_CUSTOMER_KEY, NULL);
        int macro = 0;
        if (!list_id && ckey) {
            const char *ckind, *cstatus = ledger_status(e, ckey, &ckind);
            json_t *m = json_object_get(macro_of, ckey);
            if (cstatus && !strcmp(cstatus, "confirmed")) {
                list_id = json_string_value(json_object_get(pb_journal_last(&e->ledger, ckey),
                                                            "list_id"));
            } else if (m) {
                macro = (int)json_integer_value(m);
            } else if (ckind && !strcmp(ckind, "intent")) {
                /* The customer may exist already: find out first, add the receipt after. */
                if (customer_check(doc, ckey) < 0)
                    goto oom;
                if (!pb_journal_intent(&e->ledger, "check-customer", ckey, NULL, err))
                    goto out;
                json_object_set_new(macro_of, ckey, json_integer(0));
                e->res->checks++;
                e->res->waiting++;
                continue;
            } else {
                macro = ++macros;
                if (customer_add(doc, r, ckey, macro) < 0)
                    goto oom;
                if (!pb_journal_intent(&e->ledger, "CustomerAdd", ckey, NULL, err))
                    goto out;
                json_object_set_new(macro_of, ckey, json_integer(macro));
                e->res->customers++;
            }
            if (!list_id && !macro) {
                e->res->waiting++; /* its customer is being checked */
                continue;
            }
        }
        if (receipt_add(doc, rc2, list_id, macro) < 0)
            goto oom;
        if (!pb_journal_intent(&e->ledger, "SalesReceiptAdd", rc2->key, NULL, err))
            goto out;
        e->res->receipts++;
    }
    if (pb_buf_adds(doc, "  </QBPOSXMLMsgsRq>\n</QBPOSXML>\n") < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    json_decref(macro_of);
    return rc;
}

int
pb_emit_run(const struct pb_config *cfg, const struct pb_emit_opts *o,
            struct pb_emit_result *res, struct pb_error *err)
{
    struct emit e;
    struct pb_batch batch;
    struct pb_buf dir = PB_BUF_INIT, out = PB_BUF_INIT, rj = PB_BUF_INIT, doc = PB_BUF_INIT;
    char *ledger = NULL, *path = NULL;
    const char *rel = NULL;
    int rc = -1, rejects_open = 0;
    memset(&e, 0, sizeof(e));
    memset(&batch, 0, sizeof(batch));
    memset(res, 0, sizeof(*res));
    e.cfg = cfg;
    e.res = res;
    if (!(e.index = json_object()))
        return pb_error_set(err, PB_EOS, "out of memory");
    if (pb_batch_open(&batch, o->batch_dir, err) < 0)
        goto done;
    if (pb_buf_addf(&dir, "%s/qbpos", o->batch_dir) < 0 ||
        pb_buf_addf(&out, "%s/requests.xml", dir.data) < 0 ||
        pb_buf_addf(&rj, "%s/rejects.csv", dir.data) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    if ((path = pb_staged_find(dir.data, "receipts")))
        rel = strrchr(path, '/') + 1;
    if (!path) {
        pb_error_set(err, PB_ENOINPUT, "'%s' has no qbpos/receipts file; run transform first",
                     o->batch_dir);
        goto done;
    }
    char *state = pb_config_path(cfg, "state");
    struct pb_buf lp = PB_BUF_INIT;
    if (!state || pb_buf_addf(&lp, "%s/qbpos/ledger.jsonl", state) < 0) {
        free(state);
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    free(state);
    ledger = pb_buf_detach(&lp, NULL);
    if (pb_rejects_init(&e.rejects, rj.data, "emit", err) < 0)
        goto done;
    rejects_open = 1;
    struct pb_buf relname = PB_BUF_INIT;
    if (pb_buf_addf(&relname, "qbpos/%s", rel) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    e.rel = pb_buf_detach(&relname, NULL);
    int r = read_receipts(&e, path, e.rel, err);
    if (r < 0 || pb_journal_open(&e.ledger, ledger, err) < 0)
        goto done;
    if (build(&e, &doc, err) < 0)
        goto done;
    if (res->receipts + res->customers + res->checks) {
        /* The ledger's intents are durable before the document exists anywhere. */
        if (pb_journal_sync(&e.ledger, err) < 0 ||
            pb_atomic_write(o->out ? o->out : out.data, doc.data, doc.len, err) < 0)
            goto done;
        res->written = 1;
    } else if (!o->out && unlink(out.data) == 0) {
        pb_log(PB_LOG_INFO, "emit: nothing left to send; removed the old requests.xml");
    }
    char digest[65];
    if (pb_rejects_commit(&e.rejects, digest, err) < 0)
        goto done;
    json_t *st = pb_batch_stage(&batch, "emit");
    json_object_set_new(st, "receipts", json_integer((json_int_t)res->receipts));
    json_object_set_new(st, "customers", json_integer((json_int_t)res->customers));
    json_object_set_new(st, "checks", json_integer((json_int_t)res->checks));
    json_object_set_new(st, "confirmed", json_integer((json_int_t)res->confirmed));
    json_object_set_new(st, "rejected", json_integer((json_int_t)res->rejected));
    if (pb_batch_save(&batch, err) < 0)
        goto done;
    rc = 0;
done:
    if (e.ledger.fp && pb_journal_close(&e.ledger, rc == 0 ? err : NULL) < 0)
        rc = -1;
    if (rejects_open)
        pb_rejects_release(&e.rejects);
    for (int i = 0; i < e.n; i++) {
        for (int k = 0; k < e.v[i].n; k++)
            pb_rec_release(&e.v[i].rows[k]);
        free(e.v[i].rows);
        free(e.v[i].key);
    }
    free(e.v);
    json_decref(e.index);
    pb_batch_release(&batch);
    pb_buf_release(&dir);
    pb_buf_release(&out);
    pb_buf_release(&rj);
    pb_buf_release(&doc);
    free(ledger);
    free(path);
    free(e.rel);
    return rc;
}
