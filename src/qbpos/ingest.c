/*
 * ingest: QBPOS's response documents -> qbpos/results.jsonl and the ledger.  See
 * receipts.h.
 *
 * Responses come back in windows-1252 (or whatever they declare), in no particular
 * element order; every answer is matched to its request by requestID alone.  A document
 * with a DTD is refused (no entities, nothing external), and one larger than 256 MiB is
 * not read.  A copy of each document read goes to qbpos/responses/ for the record.
 */
#include "posbridge/receipts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <libxml/xmlreader.h>

#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/state.h"
#include "posbridge/banned.h"

#define MAX_RESPONSE (256L << 20)

static void
answer_reset(struct pb_qbpos_answer *a)
{
    free(a->request_id);
    free(a->element);
    free(a->severity);
    free(a->message);
    free(a->id);
    free(a->iterator_id);
    memset(a, 0, sizeof(*a));
    a->remaining = -1;
}

struct ingest {
    struct pb_journal ledger, results;
    struct pb_ingest_result *res;
    const char *file;
};

static char *
attr(xmlTextReaderPtr rd, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(rd, (const xmlChar *)name);
    char *s = v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* Write an outcome to both journals; never let a later answer undo a confirmation. */
static int
record(struct ingest *in, const char *op, const char *key, json_t *extra, struct pb_error *err)
{
    json_t *last = pb_journal_last(&in->ledger, key);
    const char *was = json_string_value(json_object_get(last, "status"));
    const char *now = json_string_value(json_object_get(extra, "status"));
    if (was && !strcmp(was, "confirmed") && strcmp(now, "confirmed")) {
        pb_log(PB_LOG_WARN, "%s: '%s' is already confirmed in QBPOS; this answer (%s) is ignored",
               in->file, key, now);
        json_decref(extra);
        return 0;
    }
    uint64_t seq = 0;
    const char *kind = json_string_value(json_object_get(last, "kind"));
    if (kind && !strcmp(kind, "intent"))
        seq = (uint64_t)json_integer_value(json_object_get(last, "seq"));
    json_object_set_new(extra, "response", json_string(in->file));
    if (pb_journal_outcome(&in->results, seq, op, key, json_deep_copy(extra), err) < 0) {
        json_decref(extra);
        return -1;
    }
    return pb_journal_outcome(&in->ledger, seq, op, key, extra, err);
}

static int
settle(void *user, const struct pb_qbpos_answer *a, struct pb_error *err)
{
    struct ingest *in = user;
    static const struct {
        const char *prefix, *op, *id_name;
        int check;
    } kinds[] = {
        {"add:", "SalesReceiptAdd", "txn_id", 0},
        {"check:", "check", "txn_id", 1},
        {"customer:", "CustomerAdd", "list_id", 0},
        {"check-customer:", "check-customer", "list_id", 1},
    };
    const char *rid = a->request_id;
    for (size_t k = 0; rid && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        size_t n = strlen(kinds[k].prefix);
        if (strncmp(rid, kinds[k].prefix, n))
            continue;
        const char *key = rid + n;
        int customer = kinds[k].id_name[0] == 'l';
        json_t *x;
        if (a->code == 0 && a->id && (!kinds[k].check || a->rets == 1)) {
            x = json_pack("{s:s, s:s}", "status", "confirmed", kinds[k].id_name, a->id);
            in->res->confirmed += !customer;
            in->res->customers += customer;
        } else if (kinds[k].check && (a->code == 1 || (a->code == 0 && !a->rets))) {
            x = json_pack("{s:s}", "status", "absent");
            in->res->absent++;
        } else if (kinds[k].check && a->rets > 1) {
            /* Two receipts carry its marker: someone added it by hand too.  Say so. */
            x = json_pack("{s:s, s:s, s:s}", "status", "confirmed", kinds[k].id_name, a->id,
                          "note", "QBPOS holds more than one; check by hand");
            pb_log(PB_LOG_WARN, "%s: '%s' is in QBPOS %d times; check by hand", in->file, key,
                   a->rets);
            in->res->confirmed++;
        } else {
            x = json_pack("{s:s, s:I, s:s, s:s}", "status", "failed", "code", (json_int_t)a->code,
                          "severity", a->severity ? a->severity : "", "message",
                          a->message ? a->message : "");
            pb_log(PB_LOG_WARN, "%s: %s '%s' refused by QBPOS: %ld %s", in->file, kinds[k].op, key,
                   a->code, a->message ? a->message : "");
            in->res->failed++;
        }
        return record(in, kinds[k].op, key, x, err);
    }
    pb_log(PB_LOG_WARN, "%s: an answer (%s, requestID '%s') matches no request of posbridge",
           in->file, a->element ? a->element : "?", rid ? rid : "");
    in->res->unmatched++;
    return 0;
}

/* Where "<!DOCTYPE" starts, for the message (the parser is past it by then). */
static void
doctype_at(const char *path, long *line, long *col)
{
    FILE *fp = fopen(path, "rb");
    static const char pat[] = "<!DOCTYPE";
    size_t m = 0;
    long l = 1, c = 0;
    int ch;
    *line = *col = -1;
    while (fp && (ch = getc(fp)) != EOF) {
        c++;
        m = ch == pat[m] ? m + 1 : ch == pat[0] ? 1 : 0;
        if (m == sizeof(pat) - 1) {
            *line = l;
            *col = c - (long)m + 1;
            break;
        }
        if (ch == '\n') {
            l++;
            c = 0;
        }
    }
    if (fp)
        fclose(fp);
}

int
pb_qbpos_read_responses(const char *path, const char *data, size_t size, pb_answer_fn fn,
                        void *user, struct pb_error *err)
{
    xmlTextReaderPtr rd;
    if (data) {
        if (size > MAX_RESPONSE || size > (size_t)INT32_MAX)
            return pb_error_set(err, PB_EDATA, "%s: larger than %ld MiB; not read", path,
                                MAX_RESPONSE >> 20);
        rd = xmlReaderForMemory(data, (int)size, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    } else {
        struct stat st;
        if (stat(path, &st) < 0)
            return pb_error_sys(err, PB_ENOINPUT, errno, "cannot read '%s'", path);
        if (st.st_size > MAX_RESPONSE)
            return pb_error_set(err, PB_EDATA, "%s: larger than %ld MiB; not read", path,
                                MAX_RESPONSE >> 20);
        rd = xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    }
    if (!rd)
        return pb_error_set(err, PB_ENOINPUT, "cannot read '%s'", path);
    struct pb_qbpos_answer a;
    memset(&a, 0, sizeof(a));
    int rc = 0, r, rs_depth = -1, in_msgs = 0;
    char *ret_name = NULL;
    while ((r = xmlTextReaderRead(rd)) == 1) {
        int type = xmlTextReaderNodeType(rd), depth = xmlTextReaderDepth(rd);
        const char *name = (const char *)xmlTextReaderConstLocalName(rd);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            long line, col;
            if (data) {
                line = xmlTextReaderGetParserLineNumber(rd);
                col = xmlTextReaderGetParserColumnNumber(rd);
            } else {
                doctype_at(path, &line, &col);
            }
            rc = pb_error_at(err, PB_EDATA, path, line, col, -1, NULL,
                             "a DOCTYPE is not accepted in a QBPOS response");
            break;
        }
        if (type == XML_READER_TYPE_ELEMENT && depth == 1 && !strcmp(name, "QBPOSXMLMsgsRs"))
            in_msgs = 1;
        if (!in_msgs)
            continue;
        if (type == XML_READER_TYPE_ELEMENT && depth == 2) {
            size_t n = strlen(name);
            if (n < 3 || strcmp(name + n - 2, "Rs"))
                continue;
            answer_reset(&a);
            a.element = strdup(name);
            a.request_id = attr(rd, "requestID");
            a.severity = attr(rd, "statusSeverity");
            a.message = attr(rd, "statusMessage");
            char *code = attr(rd, "statusCode");
            a.code = code ? strtol(code, NULL, 10) : -1;
            free(code);
            a.iterator_id = attr(rd, "iteratorID");
            char *rem = attr(rd, "iteratorRemainingCount");
            a.remaining = rem ? strtol(rem, NULL, 10) : -1;
            free(rem);
            rs_depth = 2;
            if (xmlTextReaderIsEmptyElement(rd)) {
                if ((rc = fn(user, &a, err)) < 0)
                    break;
                rs_depth = -1;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT && depth == 2 && rs_depth == 2) {
            if ((rc = fn(user, &a, err)) < 0)
                break;
            rs_depth = -1;
        } else if (type == XML_READER_TYPE_ELEMENT && depth == 3 && rs_depth == 2) {
            size_t n = strlen(name);
            if (n > 3 && !strcmp(name + n - 3, "Ret")) {
                a.rets++;
                free(ret_name);
                ret_name = strdup(name);
            }
        } else if (type == XML_READER_TYPE_ELEMENT && depth == 4 && rs_depth == 2 && ret_name &&
                   (!strcmp(name, "TxnID") || !strcmp(name, "ListID")) && !a.id) {
            xmlChar *v = xmlTextReaderReadString(rd);
            if (v && *v)
                a.id = strdup((const char *)v);
            xmlFree(v);
        }
    }
    if (r < 0 && rc == 0)
        rc = pb_error_at(err, PB_EDATA, path, xmlTextReaderGetParserLineNumber(rd),
                         xmlTextReaderGetParserColumnNumber(rd), -1, NULL,
                         "not a well-formed XML document");
    if (rc == 0 && !in_msgs)
        rc = pb_error_set(err, PB_EDATA, "%s: not a qbposXML response (no QBPOSXMLMsgsRs)", path);
    answer_reset(&a);
    free(ret_name);
    xmlFreeTextReader(rd);
    return rc < 0 ? -1 : 0;
}

static int
keep_copy(const char *batch_dir, const char *path, int nth, struct pb_error *err)
{
    FILE *fp = fopen(path, "rb");
    struct pb_buf data = PB_BUF_INIT, dst = PB_BUF_INIT, dir = PB_BUF_INIT;
    char chunk[65536];
    size_t n;
    int rc = -1;
    if (!fp)
        return pb_error_sys(err, PB_ENOINPUT, errno, "cannot read '%s'", path);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (pb_buf_add(&data, chunk, n) < 0)
            goto out;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (pb_buf_addf(&dir, "%s/qbpos/responses", batch_dir) < 0 ||
        pb_buf_addf(&dst, "%s/%02d-%s", dir.data, nth, base) < 0)
        goto out;
    if (pb_mkdirs(dir.data, 0755, err) < 0 ||
        pb_atomic_write(dst.data, data.data ? data.data : "", data.len, err) < 0) {
        rc = -2;
        goto out;
    }
    rc = 0;
out:
    fclose(fp);
    pb_buf_release(&data);
    pb_buf_release(&dst);
    pb_buf_release(&dir);
    if (rc == -1)
        pb_error_set(err, PB_EOS, "out of memory");
    return rc < 0 ? -1 : 0;
}

int
pb_ingest_run(const struct pb_config *cfg, const char *batch_dir, char **files, int nfiles,
              struct pb_ingest_result *res, struct pb_error *err)
{
    struct ingest in;
    struct pb_batch batch;
    struct pb_buf lp = PB_BUF_INIT, rp = PB_BUF_INIT;
    int rc = -1;
    memset(&in, 0, sizeof(in));
    memset(&batch, 0, sizeof(batch));
    memset(res, 0, sizeof(*res));
    in.res = res;
    char *state = pb_config_path(cfg, "state");
    if (!state || pb_buf_addf(&lp, "%s/qbpos/ledger.jsonl", state) < 0 ||
        pb_buf_addf(&rp, "%s/qbpos/results.jsonl", batch_dir) < 0) {
        free(state);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    free(state);
    if (pb_batch_open(&batch, batch_dir, err) < 0 ||
        pb_journal_open(&in.ledger, lp.data, err) < 0 ||
        pb_journal_open(&in.results, rp.data, err) < 0)
        goto out;
    for (int i = 0; i < nfiles; i++) {
        in.file = files[i];
        if (pb_qbpos_read_responses(files[i], NULL, 0, settle, &in, err) < 0)
            goto out;
        if (pb_journal_sync(&in.results, err) < 0 || pb_journal_sync(&in.ledger, err) < 0 ||
            keep_copy(batch_dir, files[i], i + 1, err) < 0)
            goto out;
    }
    json_t *st = pb_batch_stage(&batch, "ingest");
    json_object_set_new(st, "confirmed", json_integer((json_int_t)res->confirmed));
    json_object_set_new(st, "failed", json_integer((json_int_t)res->failed));
    json_object_set_new(st, "customers", json_integer((json_int_t)res->customers));
    rc = pb_batch_save(&batch, err);
out:
    if (in.results.fp && pb_journal_close(&in.results, rc == 0 ? err : NULL) < 0)
        rc = -1;
    if (in.ledger.fp && pb_journal_close(&in.ledger, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_batch_release(&batch);
    pb_buf_release(&lp);
    pb_buf_release(&rp);
    return rc;
}
