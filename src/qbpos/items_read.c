/*
 * qbposXML ItemInventoryQueryRs -> items records, with libxml2's SAX2 push parser.
 * See include/posbridge/qbpos_items.h.
 */
#include "posbridge/qbpos_items.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/banned.h"

#define CHUNK (256 * 1024)
#define NAMES 256 /* hash slots for element -> field */

enum agg { AGG_NONE, AGG_DATAEXT, AGG_OTHER };

struct st {
    xmlParserCtxtPtr ctxt;
    const char *path;
    const char *tz;
    pb_item_fn fn;
    void *user;
    struct pb_qbpos_stats *stats;
    struct pb_error *err; /* fatal */
    int stopped;

    int depth;
    int seen_root;
    int rs_depth;         /* depth of the current ItemInventoryQueryRs, 0 if none */
    int item_depth;       /* depth of the current ItemInventoryRet, 0 if none */
    int field;            /* field being captured, -1 if none */
    int field_depth;
    long field_line, field_col;
    int capturing;
    int too_long;
    enum agg agg;
    int agg_depth;
    int dx_part;          /* 1 = DataExtName, 2 = DataExtValue */
    int xml_code;         /* libxml2 code of the first error */
    struct pb_buf cap;
    struct pb_buf dx_name, dx_value;
    struct pb_buf conv;   /* input decoded to UTF-8 */

    struct pb_rec rec;
    struct pb_error bad;
    int rejected;
    long item_line;
    short slot[NAMES];    /* field index + 1 */
};

static unsigned
hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void
build_names(struct st *st)
{
    const struct pb_schema *s = &pb_schema_items;
    memset(st->slot, 0, sizeof(st->slot));
    for (int i = 0; i < s->nfields; i++) {
        if (!s->fields[i].source)
            continue;
        unsigned h = hash(s->fields[i].source) % NAMES;
        while (st->slot[h])
            h = (h + 1) % NAMES;
        st->slot[h] = (short)(i + 1);
    }
}

static int
field_of(const struct st *st, const char *name)
{
    unsigned h = hash(name) % NAMES;
    while (st->slot[h]) {
        int i = st->slot[h] - 1;
        if (strcmp(pb_schema_items.fields[i].source, name) == 0)
            return i;
        h = (h + 1) % NAMES;
    }
    return -1;
}

static void
stop(struct st *st)
{
    st->stopped = 1;
    xmlStopParser(st->ctxt);
}

static long
cur_line(const struct st *st)
{
    return xmlSAX2GetLineNumber(st->ctxt);
}

static long
cur_col(const struct st *st)
{
    return xmlSAX2GetColumnNumber(st->ctxt);
}

static void
item_bad(struct st *st, long line, long col, const char *field, const char *why)
{
    if (st->rejected)
        return;
    st->rejected = 1;
    pb_error_at(&st->bad, PB_EDATA, st->path, line, col, st->stats->items, field, "%s", why);
}

static const char *
attr(int nb, const xmlChar **a, const char *name, size_t *len)
{
    for (int i = 0; i < nb; i++, a += 5)
        if (strcmp((const char *)a[0], name) == 0) {
            *len = (size_t)(a[4] - a[3]);
            return (const char *)a[3];
        }
    return NULL;
}

static void
start_rs(struct st *st, int nb, const xmlChar **attrs)
{
    size_t n;
    char code[32] = "", sev[32] = "", msg[200] = "", cnt[32] = "", rem[32] = "";
    const char *v;
#define GRAB(name, dst)                                                                  \
    if ((v = attr(nb, attrs, name, &n)) != NULL)                                        \
        snprintf(dst, sizeof(dst), "%.*s", (int)n, v);
    GRAB("statusCode", code);
    GRAB("statusSeverity", sev);
    GRAB("statusMessage", msg);
    GRAB("retCount", cnt);
    GRAB("iteratorRemainingCount", rem);
#undef GRAB
    st->stats->responses++;
    st->stats->declared += strtol(cnt, NULL, 10);
    st->stats->remaining = strtol(rem, NULL, 10);
    long c = strtol(code, NULL, 10);
    if (c == 0)
        return;
    if (c == 1) {
        pb_log(PB_LOG_INFO, "%s:%ld: ItemInventoryQueryRs: no matching items (status 1)",
               st->path, cur_line(st));
        return;
    }
    if (strcmp(sev, "Error") == 0) {
        pb_error_at(st->err, PB_EDATA, st->path, cur_line(st), cur_col(st), -1, NULL,
                    "QBPOS answered ItemInventoryQueryRs with status %ld (%s): %s", c, sev,
                    msg[0] ? msg : "no message");
        stop(st);
        return;
    }
    pb_log(PB_LOG_WARN, "%s:%ld: QBPOS status %ld (%s): %s", st->path, cur_line(st), c,
           sev[0] ? sev : "?", msg);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_ns, const xmlChar **ns, int nb_attrs, int nb_def, const xmlChar **attrs)
{
    struct st *st = ctx;
    const char *name = (const char *)localname;
    (void)prefix, (void)uri, (void)nb_ns, (void)ns, (void)nb_def;
    if (st->stopped)
        return;
    st->depth++;
    if (!st->seen_root) {
        st->seen_root = 1;
        if (strcmp(name, "QBPOSXML") != 0) {
            pb_error_at(st->err, PB_EDATA, st->path, cur_line(st), cur_col(st), -1, NULL,
                        "not a qbposXML document: the root element is '%.60s', not "
                        "'QBPOSXML'",
                        name);
            stop(st);
        }
        return;
    }
    if (st->item_depth) {
        if (st->depth == st->item_depth + 1) {
            st->field = field_of(st, name);
            if (st->field >= 0) {
                st->capturing = 1;
                st->too_long = 0;
                st->field_depth = st->depth;
                st->field_line = cur_line(st);
                st->field_col = cur_col(st) + 1; /* where the value starts */
                pb_buf_reset(&st->cap);
            } else if (strcmp(name, "DataExtRet") == 0) {
                st->too_long = 0;
                st->agg = AGG_DATAEXT;
                st->agg_depth = st->depth;
                pb_buf_reset(&st->dx_name);
                pb_buf_reset(&st->dx_value);
            } else {
                st->agg = AGG_OTHER; /* AvailableQty, UnitOfMeasureN, VendorInfoN... */
                st->agg_depth = st->depth;
            }
        } else if (st->agg == AGG_DATAEXT && st->depth == st->agg_depth + 1) {
            st->dx_part = !strcmp(name, "DataExtName") ? 1 : !strcmp(name, "DataExtValue") ? 2 : 0;
        } else if (st->capturing) {
            item_bad(st, cur_line(st), cur_col(st), pb_schema_items.fields[st->field].name,
                     "unexpected element inside a value");
        }
        return;
    }
    if (st->rs_depth && st->depth == st->rs_depth + 1 && strcmp(name, "ItemInventoryRet") == 0) {
        st->item_depth = st->depth;
        st->item_line = cur_line(st);
        st->stats->items++;
        st->rejected = 0;
        pb_error_init(&st->bad);
        pb_rec_clear(&st->rec);
        st->rec.file = st->path;
        st->rec.line = st->item_line;
        st->rec.record_no = st->stats->items;
        return;
    }
    if (strcmp(name, "ItemInventoryQueryRs") == 0 && !st->rs_depth) {
        st->rs_depth = st->depth;
        start_rs(st, nb_attrs, attrs);
    }
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct st *st = ctx;
    struct pb_buf *b = NULL;
    if (st->capturing)
        b = &st->cap;
    else if (st->agg == AGG_DATAEXT && st->dx_part)
        b = st->dx_part == 1 ? &st->dx_name : &st->dx_value;
    if (!b || st->too_long)
        return;
    if (pb_buf_add(b, ch, (size_t)len) < 0)
        st->too_long = 1;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
end_field(struct st *st)
{
    const struct pb_field *f = &pb_schema_items.fields[st->field];
    const char *v = st->cap.data;
    size_t n = st->cap.len;
    const char *why;
    st->capturing = 0;
    if (st->too_long) {
        char msg[80];
        snprintf(msg, sizeof(msg), "value longer than %d bytes", PB_FIELD_MAX);
        item_bad(st, st->field_line, st->field_col, f->name, msg);
        return;
    }
    if (f->type != PB_T_TEXT) {
        while (n && is_space(*v))
            v++, n--;
        while (n && is_space(v[n - 1]))
            n--;
    }
    if (pb_rec_set_checked(&st->rec, st->field, v, n, st->tz ? st->tz : "UTC", &why) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s: '%.*s%s'", why, n > 40 ? 40 : (int)n, v,
                 n > 40 ? "..." : "");
        item_bad(st, st->field_line, st->field_col, f->name, msg);
        if (pb_rec_set(&st->rec, st->field, v, n) < 0)
            item_bad(st, st->field_line, st->field_col, f->name, "out of memory");
    }
}

static void
end_dataext(struct st *st)
{
    if (st->too_long) {
        char msg[80];
        snprintf(msg, sizeof(msg), "DataExt value longer than %d bytes", PB_FIELD_MAX);
        st->too_long = 0;
        item_bad(st, cur_line(st), cur_col(st), NULL, msg);
        return;
    }
    if (!st->dx_name.len)
        return;
    /* A custom field becomes the user's own x_ column, so nothing QBPOS sent is lost. */
    char *name = pb_extra_name(st->dx_name.data, st->dx_name.len);
    if (name && pb_rec_add_extra(&st->rec, name, strlen(name), st->dx_value.data,
                                 st->dx_value.len) < 0)
        item_bad(st, cur_line(st), cur_col(st), NULL, "out of memory");
    free(name);
}

int
pb_items_complete(struct pb_rec *r)
{
    int64_t q, sum = 0, committed = 0;
    char num[32];
    int any = 0;
    if (!pb_rec_has(r, PB_ITEMS_QTY_ON_HAND)) {
        for (int i = PB_ITEMS_ON_HAND_STORE_01; i <= PB_ITEMS_ON_HAND_STORE_20; i++)
            if (pb_rec_qty(r, i, &q) == 0) {
                if (__builtin_add_overflow(sum, q, &sum))
                    return -2;
                any = 1;
            }
        if (any && pb_rec_set(r, PB_ITEMS_QTY_ON_HAND, num, pb_qty_format(sum, num)) < 0)
            return -1;
    }
    if (!pb_rec_has(r, PB_ITEMS_AVAILABLE_QTY) && pb_rec_qty(r, PB_ITEMS_QTY_ON_HAND, &q) == 0) {
        if (pb_rec_qty(r, PB_ITEMS_QTY_ON_CUSTOMER_ORDER, &committed) != 0)
            committed = 0;
        int64_t avail;
        if (__builtin_sub_overflow(q, committed, &avail))
            return -2;
        if (pb_rec_set(r, PB_ITEMS_AVAILABLE_QTY, num, pb_qty_format(avail, num)) < 0)
            return -1;
    }
    return 0;
}

static void
end_item(struct st *st)
{
    struct pb_rec *r = &st->rec;
    int c = st->rejected ? 0 : pb_items_complete(r);
    if (c == -2)
        item_bad(st, st->item_line, -1, "qty_on_hand", "the quantities are out of range");
    else if (c < 0)
        item_bad(st, st->item_line, -1, NULL, "out of memory");
    int miss = pb_rec_missing(r);
    if (miss >= 0)
        item_bad(st, st->item_line, -1, pb_schema_items.fields[miss].name,
                 "required value is missing");
    if (st->fn(st->user, r, st->rejected ? &st->bad : NULL, st->err) < 0)
        stop(st);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct st *st = ctx;
    (void)localname, (void)prefix, (void)uri;
    if (st->stopped)
        return;
    if (st->capturing && st->depth == st->field_depth)
        end_field(st);
    else if (st->agg && st->depth == st->agg_depth) {
        if (st->agg == AGG_DATAEXT)
            end_dataext(st);
        st->agg = AGG_NONE;
    } else if (st->agg == AGG_DATAEXT && st->depth == st->agg_depth + 1)
        st->dx_part = 0;
    else if (st->item_depth && st->depth == st->item_depth) {
        end_item(st);
        st->item_depth = 0;
    } else if (st->rs_depth && st->depth == st->rs_depth)
        st->rs_depth = 0;
    st->depth--;
}

static void
on_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    struct st *st = ctx;
    (void)name, (void)ext, (void)sys;
    pb_error_at(st->err, PB_EDATA, st->path, cur_line(st), cur_col(st), -1, NULL,
                "document type declarations (DTD) are refused: QBPOS never sends one, and "
                "they can carry external or expanding entities");
    stop(st);
}

static xmlEntityPtr
on_entity(void *ctx, const xmlChar *name)
{
    struct st *st = ctx;
    if (!st->stopped) {
        pb_error_at(st->err, PB_EDATA, st->path, cur_line(st), cur_col(st), -1, NULL,
                    "entity '&%.60s;' is not allowed", (const char *)name);
        stop(st);
    }
    return NULL;
}

static void
on_xml_error(void *ctx, xmlErrorPtr e)
{
    struct st *st = ctx;
    if (!e || e->level < XML_ERR_ERROR || st->stopped)
        return;
    char msg[200];
    if (!st->xml_code)
        st->xml_code = e->code;
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "XML error");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (!st->seen_root && (e->code == XML_ERR_DOCUMENT_EMPTY || e->code == XML_ERR_DOCUMENT_END))
        snprintf(msg, sizeof(msg), "the document is empty");
    else if (e->code == XML_ERR_DOCUMENT_END && st->depth > 0)
        snprintf(msg, sizeof(msg), "the document ends before its elements are closed "
                                   "(the file is truncated)");
    pb_error_at(st->err, PB_EDATA, st->path, e->line, e->int2 > 0 ? e->int2 : -1, -1, NULL,
                "malformed XML: %s", msg);
}

enum enc { ENC_LIBXML, ENC_CP1252, ENC_LATIN1 };

/* The encoding named in the XML declaration, if it is one we decode ourselves. */
static enum enc
declared_encoding(const char *p, size_t n)
{
    char decl[256];
    if (n > sizeof(decl) - 1)
        n = sizeof(decl) - 1;
    memcpy(decl, p, n);
    decl[n] = '\0';
    if (strncmp(decl, "<?xml", 5) != 0)
        return ENC_LIBXML;
    char *end = strstr(decl, "?>");
    if (end)
        *end = '\0';
    char *e = strstr(decl, "encoding");
    if (!e)
        return ENC_LIBXML;
    e += 8;
    while (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n' || *e == '=')
        e++;
    if (*e != '"' && *e != '\'')
        return ENC_LIBXML;
    char q = *e++;
    char *close = strchr(e, q);
    if (!close)
        return ENC_LIBXML;
    *close = '\0';
    if (!strcasecmp(e, "windows-1252") || !strcasecmp(e, "cp1252") ||
        !strcasecmp(e, "x-cp1252"))
        return ENC_CP1252;
    if (!strcasecmp(e, "iso-8859-1") || !strcasecmp(e, "iso8859-1") ||
        !strcasecmp(e, "latin1") || !strcasecmp(e, "iso_8859-1"))
        return ENC_LATIN1;
    return ENC_LIBXML;
}

static int
run(struct st *st, int fd, const char *data, size_t len)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof(sax));
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.internalSubset = on_dtd;
    sax.externalSubset = on_dtd;
    sax.getEntity = on_entity;
    sax.getParameterEntity = on_entity;
    sax.serror = on_xml_error;

    char *buf = NULL;
    int rc = -1;
    if (pb_rec_init(&st->rec, &pb_schema_items, st->err) < 0)
        return -1;
    pb_buf_init(&st->cap, PB_FIELD_MAX);
    pb_buf_init(&st->dx_name, 4096);
    pb_buf_init(&st->dx_value, PB_FIELD_MAX);
    pb_buf_init(&st->conv, CHUNK * 3 + 16);
    build_names(st);
    st->field = -1;
    st->ctxt = xmlCreatePushParserCtxt(&sax, st, NULL, 0, st->path);
    if (!st->ctxt) {
        pb_error_set(st->err, PB_EOS, "out of memory");
        goto out;
    }
    if (fd >= 0 && !(buf = malloc(CHUNK))) {
        pb_error_set(st->err, PB_EOS, "out of memory");
        goto out;
    }
    size_t off = 0;
    int first = 1;
    enum enc decode = ENC_LIBXML;
    for (;;) {
        const char *p;
        size_t n;
        if (fd >= 0) {
            ssize_t got = read(fd, buf, CHUNK);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                pb_error_sys(st->err, PB_EIO, errno, "cannot read '%s'", st->path);
                goto out;
            }
            p = buf, n = (size_t)got;
        } else {
            n = len - off < CHUNK ? len - off : CHUNK;
            p = data + off;
            off += n;
        }
        if (first) {
            first = 0;
            decode = declared_encoding(p, n);
            xmlCtxtUseOptions(st->ctxt, XML_PARSE_NONET |
                                            (decode != ENC_LIBXML ? XML_PARSE_IGNORE_ENC : 0));
        }
        if (decode != ENC_LIBXML && n) {
            /* QBPOS writes windows-1252; a table is much faster than iconv. */
            pb_buf_reset(&st->conv);
            if ((decode == ENC_CP1252 ? pb_cp1252_to_utf8(p, n, &st->conv)
                                      : pb_latin1_to_utf8(p, n, &st->conv)) < 0) {
                pb_error_set(st->err, PB_EOS, "out of memory");
                goto out;
            }
            p = st->conv.data, n = st->conv.len;
        }
        int r = xmlParseChunk(st->ctxt, p, (int)n, n == 0);
        if (st->stopped || (st->err && st->err->code != PB_OK))
            break;
        if (r != 0) {
            pb_error_at(st->err, PB_EDATA, st->path, xmlSAX2GetLineNumber(st->ctxt), -1, -1,
                        NULL, "malformed XML (libxml2 error %d)", r);
            break;
        }
        if (n == 0)
            break;
    }
    if (!(st->err && st->err->code != PB_OK)) {
        if (!st->seen_root)
            pb_error_at(st->err, PB_EDATA, st->path, -1, -1, -1, NULL,
                        "the document is empty");
        else if (!st->ctxt->wellFormed || st->depth != 0)
            pb_error_at(st->err, PB_EDATA, st->path, xmlSAX2GetLineNumber(st->ctxt), -1, -1,
                        NULL, "malformed XML: the document ends too early");
        else
            rc = 0;
    }
out:
    if (st->ctxt) {
        xmlFreeDoc(st->ctxt->myDoc);
        xmlFreeParserCtxt(st->ctxt);
    }
    free(buf);
    pb_buf_release(&st->cap);
    pb_buf_release(&st->dx_name);
    pb_buf_release(&st->dx_value);
    pb_buf_release(&st->conv);
    pb_rec_release(&st->rec);
    return rc;
}

int
pb_qbpos_read_items(const char *path, const char *tz, pb_item_fn fn, void *user,
                    struct pb_qbpos_stats *stats, struct pb_error *err)
{
    struct st st;
    memset(&st, 0, sizeof(st));
    st.path = path, st.tz = tz, st.fn = fn, st.user = user, st.stats = stats, st.err = err;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(err, PB_ENOINPUT, errno, "cannot open '%s'", path);
    int rc = run(&st, fd, NULL, 0);
    close(fd);
    return rc;
}

int
pb_qbpos_read_items_mem(const char *name, const char *data, size_t len, const char *tz,
                        pb_item_fn fn, void *user, struct pb_qbpos_stats *stats,
                        struct pb_error *err)
{
    struct st st;
    memset(&st, 0, sizeof(st));
    st.path = name, st.tz = tz, st.fn = fn, st.user = user, st.stats = stats, st.err = err;
    return run(&st, -1, data, len);
}
