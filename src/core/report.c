/* The batch report page.  See include/posbridge/report.h. */
#include "posbridge/report.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/html.h"
#include "posbridge/staged.h"
#include "posbridge/summary.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

#define SHOW_MAX 600 /* bytes of a source row or message shown before "..." */

struct rep {
    FILE *fp;
    const struct pb_config *cfg;
    char *base;  /* the page's directory, absolute */
    long max;
};

static void out(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Markup and numbers only: data goes through text(). */
static void
out(struct rep *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->fp, fmt, ap);
    va_end(ap);
}

/* Data as HTML text, cut at SHOW_MAX bytes (long is the count, -1 for all). */
static void
text_n(struct rep *r, const char *s, long max)
{
    if (!s)
        return;
    size_t len = strlen(s);
    int cut = max >= 0 && len > (size_t)max;
    if (cut) {
        len = (size_t)max;
        while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--; /* not in the middle of a character */
    }
    struct pb_buf b = PB_BUF_INIT;
    if (pb_html_escape(&b, s, len, PB_HTML_REDACT) == 0)
        fwrite(b.data, 1, b.len, r->fp);
    pb_buf_release(&b);
    if (cut)
        out(r, "&#8230; <span class=\"dim\">(%zu bytes in all)</span>", strlen(s));
}

static void
text(struct rep *r, const char *s)
{
    text_n(r, s, SHOW_MAX);
}


/* The path of abs (absolute, no "..") relative to the page's directory. */
static char *
relative(const struct rep *r, const char *abs)
{
    const char *a = r->base, *b = abs;
    size_t common = 0, i = 0;
    /* the longest shared prefix that ends at a directory boundary */
    while (a[i] && a[i] == b[i]) {
        i++;
        if ((a[i] == '/' || !a[i]) && (b[i] == '/' || !b[i]))
            common = i;
    }
    if (!strcmp(a, "/"))
        common = 0;
    struct pb_buf p = PB_BUF_INIT;
    int rc = 0;
    for (const char *s = a + common; *s; s++)
        if (*s == '/' && s[1])
            rc |= pb_buf_adds(&p, "../");
    const char *rest = b + common;
    while (*rest == '/')
        rest++;
    rc |= pb_buf_adds(&p, *rest ? rest : ".");
    if (rc < 0) {
        pb_buf_release(&p);
        return NULL;
    }
    return pb_buf_detach(&p, NULL);
}

/* href="..." to file (a path under an existing directory), relative and %-encoded. */
static void
href(struct rep *r, const char *file)
{
    char *dir = strdup(file);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    const char *name = slash ? file + (slash - dir) + 1 : file;
    char real[PATH_MAX];
    char *rel = NULL;
    if (slash)
        *slash = '\0';
    if (dir && realpath(slash ? (dir[0] ? dir : "/") : ".", real)) {
        char *abs = *name ? pb_path_join(real, name) : strdup(real);
        rel = abs ? relative(r, abs) : NULL;
        free(abs);
    }
    free(dir);
    out(r, " href=\"");
    for (const unsigned char *s = (const unsigned char *)(rel ? rel : name); *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("-._~/", *s))
            fputc(*s, r->fp);
        else
            out(r, "%%%02X", *s);
    }
    out(r, "\"");
    free(rel);
}

static void
link(struct rep *r, const char *file, const char *label)
{
    out(r, "<a");
    href(r, file);
    out(r, ">");
    text(r, label);
    out(r, "</a>");
}

static const char style[] =
    "body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em;"
    "color:#111;background:#fff;max-width:80em}\n"
    "h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.35em;margin:1.6em 0 .4em;"
    "border-bottom:2px solid #444}h3{font-size:1.15em;margin:1.3em 0 .3em}"
    "h4{font-size:1em;margin:1em 0 .3em}\n"
    "table{border-collapse:collapse;margin:.3em 0 .8em}th,td{border:1px solid #999;"
    "padding:.25em .55em;text-align:left;vertical-align:top}thead th{background:#e8e8e8}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}td.zero{color:#888}"
    "td.bad{background:#fdd;font-weight:bold}td.good{background:#dfd}\n"
    "code,.row{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;"
    "overflow-wrap:anywhere}.row{white-space:pre-wrap;max-width:40em}\n"
    ".verdict{font-size:1.15em;font-weight:bold;padding:.4em .6em;display:inline-block}"
    ".verdict.ok{background:#dfd}.verdict.attention{background:#fdd}\n"
    ".dim,.none{color:#666}.more{font-style:italic}.replay code{background:#f3f3f3;"
    "padding:.1em .3em}\n"
    "@media (prefers-color-scheme:dark){body{color:#eee;background:#151515}"
    "thead th{background:#333}th,td{border-color:#666}td.bad{background:#622}"
    "td.good,.verdict.ok{background:#253}.verdict.attention{background:#622}"
    ".replay code{background:#2a2a2a}a{color:#8cf}.dim,.none,td.zero{color:#aaa}}\n"
    "@media print{body{margin:0;font-size:11pt;color:#000;background:#fff}"
    "a{color:#000}tr,li{break-inside:avoid}h2,h3,h4{break-after:avoid}"
    "td.bad,.verdict.attention{background:#fff;border:2px solid #000}"
    "td.good,.verdict.ok{background:#fff}}\n";

static void
num_cell(struct rep *r, const char *col, json_int_t v, int bad_if_nonzero)
{
    out(r, "<td class=\"n%s\" data-col=\"%s\">%lld</td>",
        v == 0 ? " zero" : bad_if_nonzero ? " bad" : "", col, (long long)v);
}

/* ---- collecting the records worth listing ---- */

struct collect {
    json_t *stores; /* store -> {"failed": [...], "rejected": [...], "refused": [...],
                       "failed_more": n, ...} */
    long max;
};

static void
keep(struct collect *c, const char *store, const char *list, json_t *row)
{
    json_t *s = json_object_get(c->stores, store);
    if (!s) {
        s = json_object();
        json_object_set_new(c->stores, store, s);
    }
    json_t *a = json_object_get(s, list);
    if (!a) {
        a = json_array();
        json_object_set_new(s, list, a);
    }
    if ((long)json_array_size(a) < c->max) {
        json_array_append_new(a, row);
        return;
    }
    json_decref(row);
    char more[64];
    snprintf(more, sizeof(more), "%s_more", list);
    json_object_set_new(s, more, json_integer(json_integer_value(json_object_get(s, more)) + 1));
}

static void
on_record(void *user, const char *store, const char *key, enum pb_summary_state st,
          json_t *last, const char *sku, const char *reason)
{
    struct collect *c = user;
    switch (st) {
    case PB_SUM_FAILED:
    case PB_SUM_PENDING:
        keep(c, store, "failed",
             json_pack("{s:s, s:O?, s:O?, s:O?, s:b}", "key", key, "op",
                       json_object_get(last, "op"), "http", json_object_get(last, "http"),
                       "error", json_object_get(last, "error"), "pending",
                       st == PB_SUM_PENDING));
        break;
    case PB_SUM_REJECTED:
        keep(c, store, "rejected",
             json_pack("{s:s, s:s?, s:s?}", "key", key, "sku", sku, "reason", reason));
        break;
    case PB_SUM_REFUSED:
        keep(c, store, "refused",
             json_pack("{s:s, s:O?, s:O?, s:O?}", "key", key, "code",
                       json_object_get(last, "code"), "message",
                       json_object_get(last, "message"), "status",
                       json_object_get(last, "status")));
        break;
    default:
        break;
    }
}

/* ---- the summary tables ---- */

static const char *
batch_id(const char *batch)
{
    size_t n = strlen(batch);
    while (n > 1 && batch[n - 1] == '/')
        n--;
    const char *s = batch + n;
    while (s > batch && s[-1] != '/')
        s--;
    return s;
}

static json_int_t
geti(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void
summary_table(struct rep *r, json_t *sum, int idx)
{
    json_t *stores = json_object_get(sum, "stores");
    size_t i;
    json_t *s;
    int catalog = 0, sales = 0;
    json_array_foreach(stores, i, s) {
        if (!strcmp(json_string_value(json_object_get(s, "store")), "qbpos"))
            sales = 1;
        else
            catalog = 1;
    }
    if (catalog) {
        out(r, "<table class=\"summary\" id=\"summary-%d\"><thead><tr><th>Store</th>"
               "<th>Created</th><th>Updated</th><th>Unchanged</th><th>Rejected</th>"
               "<th>Failed</th><th>Pending</th><th>Not sent</th></tr></thead><tbody>\n",
            idx);
        json_array_foreach(stores, i, s) {
            const char *name = json_string_value(json_object_get(s, "store"));
            if (!strcmp(name, "qbpos"))
                continue;
            out(r, "<tr data-store=\"");
            text(r, name);
            out(r, "\"><th scope=\"row\">");
            text(r, name);
            out(r, "</th>");
            num_cell(r, "created", geti(s, "created"), 0);
            num_cell(r, "updated", geti(s, "updated"), 0);
            num_cell(r, "unchanged", geti(s, "unchanged"), 0);
            num_cell(r, "rejected", geti(s, "rejected"), 1);
            num_cell(r, "failed", geti(s, "failed"), 1);
            num_cell(r, "pending", geti(s, "pending"), 1);
            num_cell(r, "not_sent", geti(s, "not_sent"), 1);
            out(r, "</tr>\n");
        }
        out(r, "</tbody></table>\n");
    }
    if (sales) {
        out(r, "<table class=\"summary sales\" id=\"summary-%d-sales\"><thead><tr>"
               "<th>From store</th><th>Orders downloaded</th><th>Refunds downloaded</th>"
               "<th>Customers</th><th>Receipts made</th><th>Sent to QBPOS</th>"
               "<th>Confirmed by QBPOS</th><th>Refused by QBPOS</th><th>Waiting for QBPOS</th>"
               "<th>Not sent</th><th>Rejected</th></tr></thead><tbody>\n",
            idx);
        json_array_foreach(stores, i, s) {
            const char *name = json_string_value(json_object_get(s, "store"));
            if (strcmp(name, "qbpos"))
                continue;
            const char *from = json_string_value(json_object_get(s, "from"));
            json_t *d = json_object_get(s, "downloaded");
            out(r, "<tr data-store=\"qbpos\"><th scope=\"row\">");
            text(r, from ? from : "-");
            out(r, "</th>");
            num_cell(r, "orders", geti(d, "orders"), 0);
            num_cell(r, "returns", geti(d, "returns"), 0);
            num_cell(r, "customers", geti(d, "customers"), 0);
            num_cell(r, "receipts", geti(s, "receipts"), 0);
            num_cell(r, "emitted", geti(s, "emitted"), 0);
            num_cell(r, "confirmed", geti(s, "confirmed"), 0);
            num_cell(r, "refused", geti(s, "refused"), 1);
            num_cell(r, "waiting_for_qbpos", geti(s, "waiting_for_qbpos"), 0);
            num_cell(r, "not_sent", geti(s, "not_sent"), 1);
            num_cell(r, "rejected", geti(s, "rejected"), 1);
            out(r, "</tr>\n");
        }
        out(r, "</tbody></table>\n");
    }
    if (!catalog && !sales)
        out(r, "<p class=\"none\">Nothing staged for a store yet.</p>\n");
    json_int_t batch_rej = geti(sum, "rejected_records");
    if (catalog && batch_rej)
        out(r, "<p>Reading the QBPOS files: <b>%lld</b> rows rejected (listed below).</p>\n",
            (long long)batch_rej);
    int any = 0;
    json_array_foreach(stores, i, s) {
        const char *cmd = json_string_value(json_object_get(s, "replay"));
        if (!cmd)
            continue;
        if (!any++)
            out(r, "<p>To send what is left:</p><ul class=\"replay\">\n");
        out(r, "<li>");
        text(r, json_string_value(json_object_get(s, "store")));
        out(r, ": <code>");
        text_n(r, cmd, -1);
        out(r, "</code></li>\n");
    }
    if (any)
        out(r, "</ul>\n");
}

/* ---- rejected records ---- */

static const char *
rec_get(const struct pb_rec *rec, int i)
{
    return pb_rec_get(rec, i, NULL);
}

/* The record as read ({"field": "raw text", ...}): one "field: value" per line, the
 * field at fault in bold; anything else as it is. */
static void
source_row(struct rep *r, const char *data, const char *bad_field)
{
    json_t *j = data ? json_loads(data, 0, NULL) : NULL;
    if (!json_is_object(j)) {
        text(r, data);
        json_decref(j);
        return;
    }
    const char *k;
    json_t *v;
    size_t shown = 0;
    json_object_foreach(j, k, v) {
        if (shown > SHOW_MAX) {
            out(r, "&#8230;");
            break;
        }
        const char *s = json_string_value(v);
        int bad = bad_field && !strcmp(k, bad_field);
        out(r, "%s%s", shown ? "\n" : "", bad ? "<b>" : "");
        text(r, k);
        out(r, ": ");
        text_n(r, s ? s : "", 200);
        out(r, "%s", bad ? "</b>" : "");
        shown += strlen(k) + (s ? strlen(s) : 0);
    }
    json_decref(j);
}

/* The rows of a rejects file, as a table; returns 1 if the file had any. */
static int
rejects_table(struct rep *r, const char *path, const char *label)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    struct pb_error err;
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, NULL, 1, NULL, NULL};
    struct pb_rec rec;
    pb_error_init(&err);
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_rejects, &ro, &err);
    if (!rd || pb_rec_init(&rec, &pb_schema_rejects, &err) < 0) {
        pb_reader_close(rd, NULL);
        out(r, "<p>");
        text(r, label);
        out(r, ": cannot read <a");
        href(r, path);
        out(r, ">rejects file</a></p>\n");
        return 1;
    }
    long shown = 0, more = 0;
    for (;;) {
        struct pb_error bad;
        pb_error_init(&bad);
        int k = pb_reader_next(rd, &rec, &bad, &err);
        if (k <= 0)
            break;
        if (shown >= r->max) {
            more++;
            continue;
        }
        if (!shown) {
            out(r, "<h4>");
            text(r, label);
            out(r, " (");
            link(r, path, batch_id(path));
            out(r, ")</h4>\n<table class=\"rejects\"><thead><tr><th>Where</th><th>Stage</th>"
                   "<th>Field</th><th>Reason</th><th>Source row</th></tr></thead><tbody>\n");
        }
        shown++;
        const char *src = rec_get(&rec, PB_REJECTS_SOURCE), *line = rec_get(&rec, PB_REJECTS_LINE);
        const char *col = rec_get(&rec, PB_REJECTS_COLUMN);
        out(r, "<tr><td><code>");
        text(r, src ? src : "?");
        if (line) {
            out(r, ":");
            text(r, line);
        }
        if (line && col) {
            out(r, ":");
            text(r, col);
        }
        out(r, "</code></td><td>");
        text(r, rec_get(&rec, PB_REJECTS_STAGE));
        out(r, "</td><td>");
        text(r, rec_get(&rec, PB_REJECTS_FIELD));
        out(r, "</td><td class=\"reason\">");
        text(r, k == PB_READ_OK ? rec_get(&rec, PB_REJECTS_REASON) : bad.msg);
        out(r, "</td><td class=\"row\">");
        source_row(r, rec_get(&rec, PB_REJECTS_DATA), rec_get(&rec, PB_REJECTS_FIELD));
        out(r, "</td></tr>\n");
    }
    pb_reader_close(rd, NULL);
    pb_rec_release(&rec);
    if (shown)
        out(r, "</tbody></table>\n");
    if (more) {
        out(r, "<p class=\"more\">%ld more not shown; the full list is in <a", more);
        href(r, path);
        out(r, ">");
        text(r, path);
        out(r, "</a>.</p>\n");
    }
    return shown > 0;
}

static int
plan_rejects(struct rep *r, const char *batch, const char *store, json_t *c)
{
    json_t *a = json_object_get(c, "rejected");
    if (!json_array_size(a))
        return 0;
    char *dir = pb_path_join(batch, store), *plan = dir ? pb_path_join(dir, "plan.csv") : NULL;
    out(r, "<h4>");
    text(r, store);
    out(r, ": refused by the upload plan (");
    if (plan)
        link(r, plan, "plan.csv");
    out(r, ")</h4>\n<table class=\"rejects plan\"><thead><tr><th>Product</th><th>SKU</th>"
           "<th>Reason</th></tr></thead><tbody>\n");
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        out(r, "<tr><td>");
        text(r, json_string_value(json_object_get(x, "key")));
        out(r, "</td><td><code>");
        text(r, json_string_value(json_object_get(x, "sku")));
        out(r, "</code></td><td class=\"reason\">");
        text(r, json_string_value(json_object_get(x, "reason")));
        out(r, "</td></tr>\n");
    }
    out(r, "</tbody></table>\n");
    json_int_t more = geti(c, "rejected_more");
    if (more && plan) {
        out(r, "<p class=\"more\">%lld more not shown; the full list is in <a", (long long)more);
        href(r, plan);
        out(r, ">plan.csv</a> (action reject).</p>\n");
    }
    free(dir);
    free(plan);
    return 1;
}

static void
rejected_section(struct rep *r, const char *batch, json_t *sum, json_t *coll)
{
    out(r, "<h3>Rejected records</h3>\n");
    int any = 0;
    char *p = pb_path_join(batch, "rejects.csv");
    if (p)
        any |= rejects_table(r, p, !strcmp(json_string_value(json_object_get(sum, "kind")),
                                           "catalog")
                                       ? "Reading the QBPOS files"
                                       : "Reading the store's orders");
    free(p);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(sum, "stores"), i, s) {
        const char *store = json_string_value(json_object_get(s, "store"));
        char *dir = pb_path_join(batch, store);
        char *rj = dir ? pb_path_join(dir, "rejects.csv") : NULL;
        struct pb_buf label = PB_BUF_INIT;
        if (rj && pb_buf_addf(&label, "%s: refused by transform", store) == 0)
            any |= rejects_table(r, rj, label.data);
        pb_buf_release(&label);
        char *urj = dir ? pb_path_join(dir, "rejects-upload.csv") : NULL;
        if (urj && pb_buf_addf(&label, "%s: edited rows refused by upload", store) == 0)
            any |= rejects_table(r, urj, label.data);
        pb_buf_release(&label);
        free(urj);
        if (strcmp(store, "qbpos"))
            any |= plan_rejects(r, batch, store, json_object_get(coll, store));
        free(rj);
        free(dir);
    }
    if (!any)
        out(r, "<p class=\"none\">No record was rejected.</p>\n");
}

/* ---- failed records ---- */

static void
failed_section(struct rep *r, const char *batch, json_t *sum, json_t *coll)
{
    out(r, "<h3>Failed records</h3>\n");
    int any = 0;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(sum, "stores"), i, s) {
        const char *store = json_string_value(json_object_get(s, "store"));
        json_t *c = json_object_get(coll, store);
        int sales = !strcmp(store, "qbpos");
        json_t *a = json_object_get(c, sales ? "refused" : "failed");
        if (!json_array_size(a))
            continue;
        any = 1;
        char *dir = pb_path_join(batch, store);
        char *journal = NULL;
        if (sales) {
            char *st = pb_config_path(r->cfg, "state");
            journal = st ? pb_path_join(st, "qbpos/ledger.jsonl") : NULL;
            free(st);
        } else {
            journal = dir ? pb_path_join(dir, "results.jsonl") : NULL;
        }
        out(r, "<h4 class=\"failed-store\">");
        text(r, sales ? "QBPOS" : store);
        out(r, "</h4>\n<table class=\"failed\" data-store=\"");
        text(r, store);
        if (sales)
            out(r, "\"><thead><tr><th>Receipt</th><th>QBPOS status</th><th>Code</th>"
                   "<th>QBPOS's answer</th></tr></thead><tbody>\n");
        else
            out(r, "\"><thead><tr><th>Product</th><th>Operation</th><th>HTTP</th>"
                   "<th>The store's answer</th></tr></thead><tbody>\n");
        size_t k;
        json_t *x;
        json_array_foreach(a, k, x) {
            out(r, "<tr><td class=\"key\">");
            text(r, json_string_value(json_object_get(x, "key")));
            out(r, "</td><td>");
            if (sales) {
                text(r, json_string_value(json_object_get(x, "status")));
                out(r, "</td><td class=\"n\">");
                if (json_object_get(x, "code"))
                    out(r, "%lld", (long long)geti(x, "code"));
                out(r, "</td><td class=\"error\">");
                text(r, json_string_value(json_object_get(x, "message")));
            } else {
                text(r, json_string_value(json_object_get(x, "op")));
                out(r, "</td><td class=\"n\">");
                if (geti(x, "http"))
                    out(r, "%lld", (long long)geti(x, "http"));
                out(r, "</td><td class=\"error\">");
                if (json_is_true(json_object_get(x, "pending")))
                    out(r, "<i>no answer recorded: the run stopped while this was being "
                           "sent</i>");
                else
                    text(r, json_string_value(json_object_get(x, "error")));
            }
            out(r, "</td></tr>\n");
        }
        out(r, "</tbody></table>\n");
        json_int_t more = geti(c, sales ? "refused_more" : "failed_more");
        if (more && journal) {
            out(r, "<p class=\"more\">%lld more not shown; every answer is in <a", (long long)more);
            href(r, journal);
            out(r, ">");
            text(r, journal);
            out(r, "</a>.</p>\n");
        }
        const char *cmd = json_string_value(json_object_get(s, "replay"));
        if (cmd) {
            out(r, "<p class=\"replay\">To send them again: <code>");
            text_n(r, cmd, -1);
            out(r, "</code></p>\n");
        }
        free(journal);
        free(dir);
    }
    if (!any)
        out(r, "<p class=\"none\">No record failed.</p>\n");
}

/* ---- unmapped values ---- */

/* The mapping table a new row for store belongs in: its own last one, else the last
 * [transform] one (later tables override earlier ones). */
static const char *
map_table(const struct pb_config *cfg, const char *store)
{
    for (int i = 0; i < cfg->nstores; i++)
        if (!strcmp(cfg->stores[i].name, store) && cfg->stores[i].maps.n)
            return cfg->stores[i].maps.v[cfg->stores[i].maps.n - 1];
    return cfg->maps.n ? cfg->maps.v[cfg->maps.n - 1] : NULL;
}

static int
unmapped_section(struct rep *r, json_t *manifest)
{
    json_t *stores = json_object_get(
        json_object_get(json_object_get(manifest, "stages"), "transform"), "stores");
    long shown = 0, more = 0;
    const char *store;
    json_t *so;
    json_object_foreach(stores, store, so) {
        const char *field;
        json_t *vals;
        const char *table = map_table(r->cfg, store);
        json_object_foreach(json_object_get(so, "unmapped"), field, vals) {
            size_t i;
            json_t *v;
            json_array_foreach(vals, i, v) {
                if (shown >= r->max) {
                    more++;
                    continue;
                }
                if (!shown++)
                    out(r, "<table class=\"unmapped\"><thead><tr><th>Store</th><th>Field</th>"
                           "<th>Value</th><th>Seen</th><th>Add a row to</th></tr></thead>"
                           "<tbody>\n");
                const char *val = json_string_value(json_object_get(v, "value"));
                out(r, "<tr><td>");
                text(r, store);
                out(r, "</td><td>");
                text(r, field);
                out(r, "</td><td><code>");
                text(r, val);
                out(r, "</code></td>");
                num_cell(r, "count", geti(v, "count"), 0);
                out(r, "<td>");
                if (table) {
                    out(r, "<code>");
                    text(r, table);
                    out(r, "</code>: <code>");
                    text(r, field);
                    out(r, ",");
                    text(r, val);
                    out(r, ",</code><i>new value</i>");
                } else {
                    out(r, "a mapping table (none is configured: <code>maps =</code> under "
                           "<code>[transform]</code>)");
                }
                out(r, "</td></tr>\n");
            }
        }
    }
    if (shown)
        out(r, "</tbody></table>\n");
    if (more)
        out(r, "<p class=\"more\">%ld more not shown; all are in the batch's manifest.json "
               "(stages, transform, stores, unmapped).</p>\n",
            more);
    return shown > 0;
}

/* ---- staged files ---- */


static void
size_text(char *buf, size_t n, long long size)
{
    if (size < 1024)
        snprintf(buf, n, "%lld B", size);
    else if (size < 1024 * 1024)
        snprintf(buf, n, "%.1f KB", (double)size / 1024);
    else if (size < 1024LL * 1024 * 1024)
        snprintf(buf, n, "%.1f MB", (double)size / (1024 * 1024));
    else
        snprintf(buf, n, "%.1f GB", (double)size / (1024.0 * 1024 * 1024));
}

/* The files under dir (rel: their path within the batch), depth first, sorted. */
static void
list_files(struct rep *r, const char *dir, const char *rel, int depth, long *shown,
           long *more)
{
    char **names = pb_dir_list(dir, 2, NULL, NULL);
    for (size_t i = 0; names && names[i]; i++) {
        if (!strcmp(names[i], "report.html"))
            continue;
        char *p = pb_path_join(dir, names[i]);
        char *q = rel[0] ? pb_path_join(rel, names[i]) : strdup(names[i]);
        struct stat st;
        if (p && q && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < 3) {
                list_files(r, p, q, depth + 1, shown, more);
            } else if (S_ISREG(st.st_mode)) {
                if (*shown >= r->max) {
                    (*more)++;
                } else {
                    char sz[32];
                    size_text(sz, sizeof(sz), (long long)st.st_size);
                    (*shown)++;
                    out(r, "<tr><td>");
                    link(r, p, q);
                    out(r, "</td><td class=\"n\" title=\"%lld bytes\">%s</td></tr>\n",
                        (long long)st.st_size, sz);
                }
            }
        }
        free(p);
        free(q);
    }
    pb_dir_list_free(names);
}

static void
files_section(struct rep *r, const char *batch)
{
    out(r, "<h3>Staged files</h3>\n<p>In <a");
    href(r, batch);
    out(r, "><code>");
    text(r, batch);
    out(r, "</code></a>; CSV files open in a spreadsheet.</p>\n<table class=\"files\"><thead>"
           "<tr><th>File</th><th>Size</th></tr></thead><tbody>\n");
    long shown = 0, more = 0;
    list_files(r, batch, "", 0, &shown, &more);
    out(r, "</tbody></table>\n");
    if (more)
        out(r, "<p class=\"more\">%ld more files not shown.</p>\n", more);
}

/* ---- the page ---- */

static int
verdict(json_t *sum)
{
    size_t i;
    json_t *s;
    json_int_t bad = geti(sum, "rejected_records");
    json_array_foreach(json_object_get(sum, "stores"), i, s) bad +=
        geti(s, "rejected") + geti(s, "failed") + geti(s, "pending") + geti(s, "not_sent") +
        geti(s, "refused");
    return bad > 0;
}

int
pb_report_write(const struct pb_config *cfg, const struct pb_report_opts *o, FILE *fp,
                struct pb_error *err)
{
    struct rep r = {fp, cfg, NULL, o->max_rows > 0 ? o->max_rows : 1000};
    json_t **sums = calloc((size_t)o->nbatches + 1, sizeof(*sums));
    json_t **colls = calloc((size_t)o->nbatches + 1, sizeof(*colls));
    char real[PATH_MAX];
    int rc = -1;
    if (!sums || !colls) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    if (!realpath(o->page_dir ? o->page_dir : ".", real)) {
        pb_error_sys(err, PB_ENOINPUT, errno, "'%s'", o->page_dir ? o->page_dir : ".");
        goto out;
    }
    r.base = strdup(real);
    for (int b = 0; b < o->nbatches; b++) {
        struct collect c = {json_object(), r.max};
        struct pb_summary_visit v = {on_record, &c};
        colls[b] = c.stores;
        sums[b] = pb_summary_batch(cfg, o->batches[b], &v);
        if (!sums[b]) {
            pb_error_set(err, PB_ENOINPUT, "'%s' is not a batch (no manifest.json)",
                         o->batches[b]);
            goto out;
        }
    }

    char ts[32];
    pb_time_format(o->now, ts);
    out(&r, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"posbridge\">\n<title>posbridge: ");
    text(&r, o->title ? o->title : o->nbatches ? batch_id(o->batches[0]) : "report");
    out(&r, "</title>\n<style>\n%s</style></head>\n<body>\n<h1>posbridge report: ", style);
    text(&r, o->title ? o->title : o->nbatches ? batch_id(o->batches[0]) : "no batch");
    out(&r, "</h1>\n<p class=\"dim\">Written %s.</p>\n", ts);
    if (!o->nbatches)
        out(&r, "<p class=\"none\">This run touched no batch.</p>\n");

    /* every batch's summary first: what needs a look at 2 a.m. is at the top */
    out(&r, "<h2 id=\"summary\">Summary</h2>\n");
    for (int b = 0; b < o->nbatches; b++) {
        int bad = verdict(sums[b]);
        out(&r, "<h3>Batch <a href=\"#batch-%d\">", b + 1);
        text(&r, batch_id(o->batches[b]));
        out(&r, "</a> <span class=\"dim\">(");
        text(&r, json_string_value(json_object_get(sums[b], "kind")));
        out(&r, ")</span></h3>\n<p class=\"verdict %s\">%s</p>\n", bad ? "attention" : "ok",
            bad ? "Needs a look: some records were rejected, failed or are still to send."
                : "Everything went through.");
        summary_table(&r, sums[b], b + 1);
    }
    for (int b = 0; b < o->nbatches; b++) {
        out(&r, "<h2 id=\"batch-%d\">Batch ", b + 1);
        text(&r, batch_id(o->batches[b]));
        out(&r, "</h2>\n");
        rejected_section(&r, o->batches[b], sums[b], colls[b]);
        failed_section(&r, o->batches[b], sums[b], colls[b]);
        out(&r, "<h3>Values with no mapping</h3>\n");
        char *mp = pb_path_join(o->batches[b], "manifest.json");
        json_t *m = mp ? json_load_file(mp, 0, NULL) : NULL;
        if (!unmapped_section(&r, m))
            out(&r, "<p class=\"none\">Every mapped field found its value in a mapping "
                    "table.</p>\n");
        else
            out(&r, "<p>These went to the store as they are. A row "
                    "<code>field,value,new value</code> in the mapping table changes them from "
                    "the next transform on.</p>\n");
        json_decref(m);
        free(mp);
        files_section(&r, o->batches[b]);
    }
    out(&r, "</body></html>\n");
    if (ferror(fp)) {
        pb_error_set(err, PB_EIO, "cannot write the report");
        goto out;
    }
    rc = 0;
out:
    for (int b = 0; sums && colls && b < o->nbatches; b++) {
        json_decref(sums[b]);
        json_decref(colls[b]);
    }
    free(sums);
    free(colls);
    free(r.base);
    return rc;
}
