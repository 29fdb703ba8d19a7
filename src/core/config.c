/* Loading the INI configuration with libinih, counting lines for error messages. */
#include "posbridge/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/money.h"
#include "posbridge/qbwc.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

struct load {
    struct pb_config *cfg;
    struct pb_error *err;
    FILE *fp;
    long line;
    char *dir; /* directory of the config file, for relative paths */
    struct pb_store_cfg *store; /* the [store NAME] being read */
    char *linebuf;
    size_t linecap;
    long too_long; /* first line too long to read, or 0 */
    long section_line; /* where the last [section] header was */
    int new_section;   /* a [section] header was read since the last key */
    char section[128];
};

static const char *const secret_keys[PB_SECRET__COUNT] = {
    "token", "consumer_key", "consumer_secret", "access_token", "access_token_secret",
};

const char *
pb_secret_key(int which)
{
    return which >= 0 && which < PB_SECRET__COUNT ? secret_keys[which] : "?";
}

const char *
pb_platform_name(enum pb_platform_id p)
{
    static const char *const names[] = {"shopify", "bigcommerce", "woocommerce", "magento"};
    return (unsigned)p < 4 ? names[p] : "?";
}

/*
 * libinih reads through a fixed buffer of `num` bytes.  Hand it whole lines ourselves, so
 * line numbers stay right: a long comment is shortened (it means nothing), any other line
 * that does not fit is an error.
 */
static char *
reader(char *str, int num, void *stream)
{
    struct load *ld = stream;
    ssize_t n = getline(&ld->linebuf, &ld->linecap, ld->fp);
    if (n < 0)
        return NULL;
    ld->line++;
    const char *p = ld->linebuf;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        ld->section_line = ld->line;
        ld->new_section = 1;
    }
    if (n >= num - 1) {
        if (*p == ';' || *p == '#') {
            snprintf(str, (size_t)num, ";\n");
            return str;
        }
        if (!ld->too_long)
            ld->too_long = ld->line;
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    memcpy(str, ld->linebuf, (size_t)n + 1);
    return str;
}

static int
set_str(char **dst, const char *v)
{
    char *p = strdup(v);
    if (!p)
        return -1;
    free(*dst);
    *dst = p;
    return 0;
}

static int
set_path(struct load *ld, char **dst, const char *v)
{
    if (v[0] == '/' || !ld->dir)
        return set_str(dst, v);
    struct pb_buf b = PB_BUF_INIT;
    while (v[0] == '.' && v[1] == '/')
        v += 2;
    if (!strcmp(v, ".") ? pb_buf_adds(&b, ld->dir) < 0
                        : pb_buf_addf(&b, "%s/%s", ld->dir, v) < 0)
        return -1;
    free(*dst);
    *dst = pb_buf_detach(&b, NULL);
    return *dst ? 0 : -1;
}

static void
list_free(struct pb_strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Split "a, b ,c" into a list; with paths, make each relative to the config file. */
static int
set_list(struct load *ld, struct pb_strlist *l, const char *v, int paths)
{
    list_free(l);
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char *item = strndup(p, n);
        char **nv = realloc(l->v, (size_t)(l->n + 1) * sizeof(*nv));
        if (!item || !nv) {
            free(item);
            if (nv)
                l->v = nv;
            return -1;
        }
        l->v = nv;
        l->v[l->n] = NULL;
        if (paths) {
            if (set_path(ld, &l->v[l->n], item) < 0) {
                free(item);
                return -1;
            }
            free(item);
        } else {
            l->v[l->n] = item;
        }
        l->n++;
        p += n;
    }
    return 0;
}

static int
parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") ||
        !strcasecmp(v, "on"))
        return *out = 1, 0;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") ||
        !strcasecmp(v, "off"))
        return *out = 0, 0;
    return -1;
}

static int
parse_int(const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

__attribute__((format(printf, 3, 4))) static int
bad(struct load *ld, const char *key, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    pb_error_at(ld->err, PB_ECONFIG, ld->cfg->path, ld->line, -1, -1, NULL, "[%s] %s: %s",
                ld->section, key, why);
    return 0; /* stop parsing */
}

static int
oom(struct load *ld, const char *key)
{
    return bad(ld, key, "%s", "out of memory");
}

/* Keys [qbpos] and [store NAME] share: how prices and quantities are chosen. */
static int
pricing_key(struct load *ld, struct pb_pricing *p, const char *key, const char *v)
{
    if (!strcmp(key, "price_level")) {
        if (!strcasecmp(v, "web"))
            p->price_level = PB_PRICE_WEB;
        else if (parse_int(v, 1, 5, &p->price_level) < 0)
            return bad(ld, key, "'%s' is not 1 to 5 or web", v);
        p->set |= PB_PRICING_PRICE;
    } else if (!strcmp(key, "compare_at")) {
        p->set |= PB_PRICING_COMPARE;
        if (!strcasecmp(v, "none"))
            p->compare_level = PB_PRICE_NONE;
        else if (!strcasecmp(v, "msrp"))
            p->compare_level = PB_PRICE_MSRP;
        else if (parse_int(v, 1, 5, &p->compare_level) < 0)
            return bad(ld, key, "'%s' is not none, msrp or 1 to 5", v);
    } else if (!strcmp(key, "quantity")) {
        p->set |= PB_PRICING_QTY;
        if (!strcmp(v, "sum"))
            p->qty = PB_QTY_SUM;
        else if (!strcmp(v, "per_store"))
            p->qty = PB_QTY_PER_STORE;
        else if (!strncmp(v, "store ", 6) || !strncmp(v, "store:", 6)) {
            p->qty = PB_QTY_STORE;
            if (parse_int(v + 6, 1, PB_QBPOS_STORES, &p->qty_store) < 0)
                return bad(ld, key, "'%s': the store number must be 1 to 20", v);
        } else
            return bad(ld, key, "'%s' is not sum, per_store or store N", v);
    } else if (!strcmp(key, "safety_buffer")) {
        const char *why;
        p->set |= PB_PRICING_BUFFER;
        if (pb_qty_parse(v, strlen(v), &p->safety_buffer, &why) < 0 || p->safety_buffer < 0)
            return bad(ld, key, "'%s' is not a quantity of 0 or more", v);
    } else if (!strcmp(key, "rounding")) {
        p->set |= PB_PRICING_ROUNDING;
        if (!strcmp(v, "down"))
            p->rounding = PB_ROUND_DOWN;
        else if (!strcmp(v, "nearest"))
            p->rounding = PB_ROUND_NEAREST;
        else if (!strcmp(v, "up"))
            p->rounding = PB_ROUND_UP;
        else
            return bad(ld, key, "'%s' is not down, nearest or up", v);
    } else {
        return -1; /* not a pricing key */
    }
    return 1;
}

static int
general_key(struct load *ld, const char *key, const char *v)
{
    struct pb_config *c = ld->cfg;
    if (!strcmp(key, "home")) {
        if (!*v)
            return bad(ld, key, "%s", "must not be empty");
        if (set_path(ld, &c->home, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "format")) {
        if (!strcmp(v, "csv"))
            c->format = PB_ENC_CSV;
        else if (!strcmp(v, "jsonl"))
            c->format = PB_ENC_JSONL;
        else
            return bad(ld, key, "'%s' is not csv or jsonl", v);
    } else if (!strcmp(key, "gzip")) {
        if (parse_bool(v, &c->gzip) < 0)
            return bad(ld, key, "'%s' is not true or false", v);
    } else if (!strcmp(key, "currency")) {
        if (strlen(v) != 3)
            return bad(ld, key, "'%s' is not a 3-letter ISO 4217 code", v);
        if (set_str(&c->currency, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "qbpos_timezone")) {
        if (!pb_time_known_zone(v))
            return bad(ld, key, "'%s' is not a time zone this machine knows (e.g. "
                                "America/Chicago)",
                       v);
        if (set_str(&c->qbpos_tz, v) < 0)
            return oom(ld, key);
    } else {
        return bad(ld, key, "%s", "unknown key");
    }
    return 1;
}

static int
qbpos_key(struct load *ld, const char *key, const char *v)
{
    struct pb_config *c = ld->cfg;
    int r = pricing_key(ld, &c->pricing, key, v);
    if (r >= 0)
        return r;
    if (!strcmp(key, "sku")) {
        if (!strcmp(v, "alu"))
            c->sku = PB_SKU_ALU;
        else if (!strcmp(v, "item_number"))
            c->sku = PB_SKU_ITEM_NUMBER;
        else if (!strcmp(v, "upc"))
            c->sku = PB_SKU_UPC;
        else
            return bad(ld, key, "'%s' is not alu, item_number or upc", v);
    } else if (!strcmp(key, "online")) {
        if (!strcmp(v, "is_web_item"))
            c->web_items_only = 1;
        else if (!strcmp(v, "all"))
            c->web_items_only = 0;
        else
            return bad(ld, key, "'%s' is not is_web_item or all", v);
    } else if (!strcmp(key, "departments")) {
        if (set_list(ld, &c->departments, v, 0) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "exclude_departments")) {
        if (set_list(ld, &c->exclude_departments, v, 0) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "nontaxable_codes")) {
        if (set_list(ld, &c->nontaxable_codes, v, 0) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "tax_rates")) {
        struct pb_strlist l = {0};
        if (set_list(ld, &l, v, 0) < 0)
            return oom(ld, key);
        for (int i = 0; i < l.n; i++) {
            const char *colon = strchr(l.v[i], ':');
            int64_t pct;
            const char *why;
            if (!colon || colon == l.v[i] ||
                pb_dec_parse(colon + 1, strlen(colon + 1), 2, &pct, &why) < 0 || pct < 0 ||
                pct > 10000) {
                bad(ld, key, "'%s' is not CODE:PERCENT (e.g. Tax:8.25)", l.v[i]);
                list_free(&l);
                return 0;
            }
        }
        list_free(&c->tax_rates);
        c->tax_rates = l;
    } else {
        return bad(ld, key, "%s", "unknown key");
    }
    return 1;
}

static int
run_key(struct load *ld, const char *key, const char *v)
{
    struct pb_config *c = ld->cfg;
    char **dst = !strcmp(key, "source") ? &c->run_source
                 : !strcmp(key, "inbox") ? &c->run_inbox
                 : !strcmp(key, "outbox") ? &c->run_outbox : NULL;
    if (dst) {
        if (!*v)
            return bad(ld, key, "%s", "must not be empty");
        return set_path(ld, dst, v) < 0 ? oom(ld, key) : 1;
    }
    if (strcmp(key, "stages"))
        return bad(ld, key, "%s", "unknown key");
    static const char *const names[] = {"ingest", "export", "transform", "upload", "download",
                                        "emit"};
    struct pb_strlist l = {0};
    if (set_list(ld, &l, v, 0) < 0)
        return oom(ld, key);
    c->run_stages = 0;
    for (int i = 0; i < l.n; i++) {
        int k;
        for (k = 0; k < 6 && strcmp(l.v[i], names[k]); k++)
            ;
        if (k == 6) {
            bad(ld, key, "'%s' is not ingest, export, transform, upload, download or emit",
                l.v[i]);
            list_free(&l);
            return 0;
        }
        c->run_stages |= 1u << k;
    }
    list_free(&l);
    return 1;
}

/* {8-4-4-4-12 hex digits}, as QBWC wants OwnerID and FileID. */
static int
is_guid(const char *v)
{
    static const char shape[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    if (strlen(v) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'x' ? !strchr("0123456789abcdefABCDEF", v[i]) : v[i] != shape[i])
            return 0;
    return 1;
}

static int
qbwc_key(struct load *ld, const char *key, const char *v)
{
    struct pb_config *c = ld->cfg;
    int *num = !strcmp(key, "max_returned")        ? &c->qbwc_max_returned
               : !strcmp(key, "ticket_lifetime")   ? &c->qbwc_ticket_lifetime
               : !strcmp(key, "run_every_minutes") ? &c->qbwc_run_every
               : !strcmp(key, "lock_wait")         ? &c->qbwc_lock_wait
                                                   : NULL;
    char **str = !strcmp(key, "user")          ? &c->qbwc_user
                 : !strcmp(key, "app_url")     ? &c->qbwc_app_url
                 : !strcmp(key, "app_name")    ? &c->qbwc_app_name
                 : !strcmp(key, "app_support") ? &c->qbwc_app_support
                 : !strcmp(key, "company")     ? &c->qbwc_company
                                               : NULL;
    if (num) {
        static const struct {
            const char *key;
            long lo, hi;
        } range[] = {{"max_returned", 1, 10000}, {"ticket_lifetime", 60, 86400},
                     {"run_every_minutes", 1, 1440}, {"lock_wait", 0, 60}};
        for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++)
            if (!strcmp(range[i].key, key) && parse_int(v, range[i].lo, range[i].hi, num) < 0)
                return bad(ld, key, "'%s' is not a whole number from %ld to %ld", v, range[i].lo,
                           range[i].hi);
    } else if (str) {
        if (!*v && str != &c->qbwc_company)
            return bad(ld, key, "%s", "must not be empty");
        if (str == &c->qbwc_app_url && strncmp(v, "https://", 8) &&
            strncmp(v, "http://localhost", 16) && strncmp(v, "http://127.0.0.1", 16))
            return bad(ld, key, "'%s': the Web Connector needs https:// (plain http only for "
                                "localhost)", v);
        if (set_str(str, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "password_hash")) {
        if (pb_qbwc_hash_valid(v) < 0)
            return bad(ld, key, "%s", "not a hash from 'posbridge qbwc-passwd' "
                                      "(pbkdf2-sha256$ITERATIONS$SALT$HASH)");
        if (set_str(&c->qbwc_password_hash, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "owner_id") || !strcmp(key, "file_id")) {
        if (!is_guid(v))
            return bad(ld, key, "'%s' is not a GUID like {8A5B7C3D-1E2F-4A5B-8C7D-9E0F1A2B3C4D}",
                       v);
        if (set_str(key[0] == 'o' ? &c->qbwc_owner_id : &c->qbwc_file_id, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "items")) {
        if (!strcmp(v, "modified"))
            c->qbwc_items = 1;
        else if (!strcmp(v, "all"))
            c->qbwc_items = 2;
        else if (!strcmp(v, "off"))
            c->qbwc_items = 0;
        else
            return bad(ld, key, "'%s' is not modified, all or off", v);
    } else if (!strcmp(key, "requests")) {
        if (set_list(ld, &c->qbwc_requests, v, 1) < 0)
            return oom(ld, key);
    } else {
        return bad(ld, key, "%s", "unknown key");
    }
    return 1;
}

static int
transform_key(struct load *ld, const char *key, const char *v)
{
    struct pb_config *c = ld->cfg;
    if (!strcmp(key, "maps")) {
        if (set_list(ld, &c->maps, v, 1) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "case_insensitive")) {
        if (parse_bool(v, &c->maps_ci) < 0)
            return bad(ld, key, "'%s' is not true or false", v);
    } else if (!strcmp(key, "attribute_option")) {
        if (!*v || set_str(&c->attribute_option, v) < 0)
            return bad(ld, key, "%s", "must be an option name such as Color");
    } else if (!strcmp(key, "size_option")) {
        if (!*v || set_str(&c->size_option, v) < 0)
            return bad(ld, key, "%s", "must be an option name such as Size");
    } else if (!strcmp(key, "option3")) {
        /* option3 = FIELD:Name, e.g. x_material:Material */
        const char *colon = strchr(v, ':');
        if (!colon || colon == v || !colon[1])
            return bad(ld, key, "'%s' is not FIELD:Option Name", v);
        free(c->option3_field);
        free(c->option3_name);
        c->option3_field = strndup(v, (size_t)(colon - v));
        c->option3_name = strdup(colon + 1);
        if (!c->option3_field || !c->option3_name)
            return oom(ld, key);
    } else if (!strcmp(key, "vendor")) {
        if (!strcmp(v, "manufacturer"))
            c->vendor_from_manufacturer = 1;
        else if (!strcmp(v, "vendor_code"))
            c->vendor_from_manufacturer = 0;
        else
            return bad(ld, key, "'%s' is not manufacturer or vendor_code", v);
    } else {
        return bad(ld, key, "%s", "unknown key");
    }
    return 1;
}

static int
secret_ref(struct load *ld, char **dst, const char *key, const char *v, int is_file_key)
{
    if (is_file_key) {
        struct pb_buf b = PB_BUF_INIT;
        char *path = NULL;
        if (set_path(ld, &path, v) < 0 || pb_buf_addf(&b, "file:%s", path) < 0) {
            free(path);
            pb_buf_release(&b);
            return oom(ld, key);
        }
        free(path);
        free(*dst);
        *dst = pb_buf_detach(&b, NULL);
        return 1;
    }
    if (!strncmp(v, "env:", 4) && v[4]) {
        if (set_str(dst, v) < 0)
            return oom(ld, key);
        return 1;
    }
    if (!strncmp(v, "file:", 5) && v[5]) {
        return secret_ref(ld, dst, key, v + 5, 1);
    }
    return bad(ld, key, "%s",
               "give a reference, env:NAME or file:PATH, not the secret itself");
}

static int
store_key(struct load *ld, const char *key, const char *v)
{
    struct pb_store_cfg *s = ld->store;
    int r = pricing_key(ld, &s->pricing, key, v);
    if (r >= 0)
        return r;
    for (int i = 0; i < PB_SECRET__COUNT; i++) {
        size_t k = strlen(secret_keys[i]);
        if (!strcmp(key, secret_keys[i]))
            return secret_ref(ld, &s->secret_ref[i], key, v, 0);
        if (!strncmp(key, secret_keys[i], k) && !strcmp(key + k, "_file"))
            return secret_ref(ld, &s->secret_ref[i], key, v, 1);
    }
    if (!strcmp(key, "platform")) {
        int i;
        for (i = 0; i < 4; i++)
            if (!strcmp(v, pb_platform_name((enum pb_platform_id)i)))
                break;
        if (i == 4)
            return bad(ld, key, "'%s' is not shopify, bigcommerce, woocommerce or magento", v);
        s->platform = (enum pb_platform_id)i;
        s->line = s->line ? s->line : ld->line;
    } else if (!strcmp(key, "base_url")) {
        if (strncmp(v, "https://", 8) && strncmp(v, "http://", 7))
            return bad(ld, key, "'%s' is not an http(s) URL", v);
        if (set_str(&s->base_url, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "api_version")) {
        if (set_str(&s->api_version, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "locations")) {
        /* locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2 */
        struct pb_strlist l = {0};
        if (set_list(ld, &l, v, 0) < 0)
            return oom(ld, key);
        for (int i = 0; i < l.n; i++) {
            char *colon = strchr(l.v[i], ':');
            int n;
            if (colon)
                *colon = '\0';
            if (!colon || !colon[1] || parse_int(l.v[i], 1, PB_QBPOS_STORES, &n) < 0) {
                if (colon)
                    *colon = ':';
                bad(ld, key, "'%s' is not STORE:LOCATION (store 1 to 20)", l.v[i]);
                list_free(&l);
                return 0;
            }
            if (set_str(&s->location[n], colon + 1) < 0) {
                list_free(&l);
                return oom(ld, key);
            }
        }
        list_free(&l);
    } else if (!strcmp(key, "location")) {
        if (set_str(&s->default_location, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "maps")) {
        if (set_list(ld, &s->maps, v, 1) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "auth")) {
        static const char *const modes[] = {"auto", "token", "basic", "oauth"};
        int i;
        for (i = 0; i < 4 && strcmp(v, modes[i]); i++)
            ;
        if (i == 4)
            return bad(ld, key, "'%s' is not auto, token, basic or oauth", v);
        s->auth = (enum pb_auth)i;
    } else if (!strcmp(key, "concurrency")) {
        if (parse_int(v, 1, 16, &s->concurrency) < 0)
            return bad(ld, key, "'%s' is not a number from 1 to 16", v);
    } else if (!strcmp(key, "store_code")) {
        if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(v))
            return bad(ld, key, "'%s' is not a store code (a-z, 0-9, _)", v);
        if (set_str(&s->store_code, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "attribute_set_id")) {
        if (parse_int(v, 1, 1000000000, &s->attribute_set_id) < 0)
            return bad(ld, key, "'%s' is not an attribute set id", v);
    } else if (!strcmp(key, "website_id")) {
        if (parse_int(v, 0, 1000000000, &s->website_id) < 0)
            return bad(ld, key, "'%s' is not a website id", v);
    } else if (!strcmp(key, "bulk_above")) {
        int n;
        if (parse_int(v, 0, 1000000000, &n) < 0)
            return bad(ld, key, "'%s' is not a number of products (0: never)", v);
        s->bulk_above = n;
    } else if (!strcmp(key, "option_attributes")) {
        struct pb_strlist l = {0};
        if (set_list(ld, &l, v, 0) < 0)
            return oom(ld, key);
        for (int i = 0; i < l.n; i++) {
            char *colon = strchr(l.v[i], ':');
            if (!colon || colon == l.v[i] || !colon[1]) {
                bad(ld, key, "'%s' is not OPTION:ATTRIBUTE", l.v[i]);
                list_free(&l);
                return 0;
            }
        }
        list_free(&s->option_attr);
        s->option_attr = l;
    } else if (!strcmp(key, "download_overlap")) {
        int n;
        if (parse_int(v, 0, 30 * 86400, &n) < 0)
            return bad(ld, key, "'%s' is not a number of seconds (0 to 2592000)", v);
        s->download_overlap = n;
    } else if (!strcmp(key, "download_first_days")) {
        if (parse_int(v, 1, 3650, &s->download_first_days) < 0)
            return bad(ld, key, "'%s' is not a number of days (1 to 3650)", v);
    } else if (!strcmp(key, "refund_restock")) {
        int yes;
        if (parse_bool(v, &yes) < 0)
            return bad(ld, key, "'%s' is not yes or no", v);
        s->no_restock = !yes;
    } else if (!strcmp(key, "qbpos_store")) {
        if (parse_int(v, 1, PB_QBPOS_STORES, &s->qbpos_store) < 0)
            return bad(ld, key, "'%s' is not a QBPOS store number (1 to 20)", v);
    } else if (!strcmp(key, "cashier")) {
        if (strlen(v) > 16)
            return bad(ld, key, "'%s' is longer than QBPOS's 16 characters", v);
        if (set_str(&s->cashier, v) < 0)
            return oom(ld, key);
    } else if (!strcmp(key, "new_products")) {
        if (!strcmp(v, "hidden"))
            s->new_hidden = 1;
        else if (!strcmp(v, "visible"))
            s->new_hidden = 0;
        else
            return bad(ld, key, "'%s' is not hidden or visible", v);
    } else {
        return bad(ld, key, "%s", "unknown key");
    }
    return 1;
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
    struct load *ld = user;
    struct pb_config *c = ld->cfg;
    if (ld->new_section || strcmp(section, ld->section) != 0) {
        /* Section errors point at the [section] line, not at its first key. */
        long key_line = ld->line;
        ld->line = ld->section_line ? ld->section_line : ld->line;
        ld->new_section = 0;
        snprintf(ld->section, sizeof(ld->section), "%s", section);
        ld->store = NULL;
        if (!strncmp(section, "store ", 6)) {
            const char *name = section + 6;
            while (*name == ' ')
                name++;
            if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name))
                return bad(ld, "", "store name '%s' may use only a-z, 0-9, - and _", name);
            for (int i = 0; i < c->nstores; i++)
                if (!strcmp(c->stores[i].name, name))
                    return bad(ld, "", "store '%s' is defined twice", name);
            if (c->nstores == PB_MAX_STORES)
                return bad(ld, "", "%s", "too many stores");
            ld->store = &c->stores[c->nstores++];
            ld->store->name = strdup(name);
            ld->store->line = ld->line;
            ld->store->new_hidden = 1;
            ld->store->attribute_set_id = 4;
            ld->store->website_id = 1;
            ld->store->bulk_above = 500;
            ld->store->qbpos_store = 1;
            ld->store->download_overlap = 600;
            ld->store->download_first_days = 30;
            ld->store->platform = (enum pb_platform_id)-1;
            if (!ld->store->name)
                return oom(ld, "");
        }
        ld->line = key_line;
    }
    if (!key) /* a section header alone */
        return 1;
    if (!strcmp(section, "general"))
        return general_key(ld, key, value);
    if (!strcmp(section, "qbpos"))
        return qbpos_key(ld, key, value);
    if (!strcmp(section, "transform"))
        return transform_key(ld, key, value);
    if (!strcmp(section, "run"))
        return run_key(ld, key, value);
    if (!strcmp(section, "qbwc")) {
        c->qbwc_section = 1;
        return qbwc_key(ld, key, value);
    }
    if (ld->store)
        return store_key(ld, key, value);
    return bad(ld, key, "%s",
               "unknown section (expected general, qbpos, transform, run, qbwc or store NAME)");
}

static int
defaults(struct pb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->run_stages = PB_RUN_ALL;
    cfg->qbwc_max_returned = 100;
    cfg->qbwc_ticket_lifetime = 3600;
    cfg->qbwc_run_every = 60;
    cfg->qbwc_lock_wait = 10;
    cfg->qbwc_items = 1;
    cfg->format = PB_ENC_CSV;
    cfg->home = strdup(".");
    cfg->currency = strdup("USD");
    cfg->sku = PB_SKU_ALU;
    cfg->web_items_only = 1;
    cfg->pricing.price_level = 1;
    cfg->pricing.compare_level = PB_PRICE_NONE;
    cfg->pricing.qty = PB_QTY_SUM;
    cfg->pricing.qty_store = 1;
    cfg->pricing.rounding = PB_ROUND_DOWN;
    cfg->attribute_option = strdup("Color");
    cfg->size_option = strdup("Size");
    cfg->vendor_from_manufacturer = 1;
    cfg->nontaxable_codes.v = malloc(sizeof(char *));
    if (cfg->nontaxable_codes.v && (cfg->nontaxable_codes.v[0] = strdup("Non")))
        cfg->nontaxable_codes.n = 1;
    return cfg->home && cfg->currency && cfg->attribute_option && cfg->size_option &&
                   cfg->nontaxable_codes.n
               ? 0
               : -1;
}

/* A secret file must be a regular file that only its owner can read. */
static int
check_secret_file(const struct pb_config *c, const struct pb_store_cfg *s, const char *path,
                  struct pb_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return pb_error_sys(err, PB_ECONFIG, errno, "%s: [store %s]: cannot read secret file '%s'",
                            c->path ? c->path : "config", s->name, path);
    if (!S_ISREG(st.st_mode))
        return pb_error_set(err, PB_ECONFIG, "%s: [store %s]: secret file '%s' is not a file",
                            c->path ? c->path : "config", s->name, path);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return pb_error_set(err, PB_ECONFIG,
                            "%s: [store %s]: secret file '%s' can be read by others "
                            "(mode %03o); run: chmod 600 '%s'",
                            c->path ? c->path : "config", s->name, path,
                            (unsigned)(st.st_mode & 0777), path);
    return 0;
}

/* A store takes each pricing setting it does not set itself from [qbpos]. */
static void
inherit(struct pb_pricing *p, const struct pb_pricing *g)
{
    if (!(p->set & PB_PRICING_PRICE))
        p->price_level = g->price_level;
    if (!(p->set & PB_PRICING_COMPARE))
        p->compare_level = g->compare_level;
    if (!(p->set & PB_PRICING_QTY)) {
        p->qty = g->qty;
        p->qty_store = g->qty_store;
    }
    if (!(p->set & PB_PRICING_BUFFER))
        p->safety_buffer = g->safety_buffer;
    if (!(p->set & PB_PRICING_ROUNDING))
        p->rounding = g->rounding;
}

static int
check(struct pb_config *c, struct pb_error *err)
{
    for (int i = 0; i < c->nstores; i++) {
        struct pb_store_cfg *s = &c->stores[i];
        inherit(&s->pricing, &c->pricing);
        if ((int)s->platform < 0)
            return pb_error_at(err, PB_ECONFIG, c->path, s->line, -1, -1, NULL,
                               "[store %s]: 'platform' is required", s->name);
        if (!s->base_url)
            return pb_error_at(err, PB_ECONFIG, c->path, s->line, -1, -1, NULL,
                               "[store %s]: 'base_url' is required", s->name);
        if (s->pricing.qty == PB_QTY_PER_STORE) {
            int any = 0;
            for (int n = 1; n <= PB_QBPOS_STORES; n++)
                any |= s->location[n] != NULL;
            if (!any)
                return pb_error_at(err, PB_ECONFIG, c->path, s->line, -1, -1, NULL,
                                   "[store %s]: quantity = per_store needs 'locations' "
                                   "(QBPOS store:location, ...)",
                                   s->name);
        }
        for (int k = 0; k < PB_SECRET__COUNT; k++)
            if (s->secret_ref[k] && !strncmp(s->secret_ref[k], "file:", 5) &&
                check_secret_file(c, s, s->secret_ref[k] + 5, err) < 0)
                return -1;
    }
    return 0;
}

int
pb_config_load(struct pb_config *cfg, const char *path, struct pb_error *err)
{
    if (defaults(cfg) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    int explicit = path != NULL;
    if (!path)
        path = getenv("POSBRIDGE_CONFIG");
    if (path && *path)
        explicit = 1;
    else if (access("posbridge.ini", F_OK) == 0)
        path = "posbridge.ini";
    else
        return 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (!explicit && errno == ENOENT)
            return 0;
        return pb_error_sys(err, PB_ECONFIG, errno, "cannot read config '%s'", path);
    }
    cfg->path = strdup(path);
    struct load ld;
    memset(&ld, 0, sizeof(ld));
    ld.cfg = cfg, ld.err = err, ld.fp = fp;
    const char *slash = strrchr(path, '/');
    if (slash)
        ld.dir = strndup(path, (size_t)(slash - path));
    int r = ini_parse_stream(reader, &ld, handler, &ld);
    fclose(fp);
    free(ld.dir);
    free(ld.linebuf);
    if (err && err->code != PB_OK)
        return -1;
    if (ld.too_long)
        return pb_error_at(err, PB_ECONFIG, path, ld.too_long, -1, -1, NULL,
                           "this line is too long (at most 198 characters)");
    if (r > 0)
        return pb_error_at(err, PB_ECONFIG, path, r, -1, -1, NULL,
                           "cannot parse this line (expected [section] or key = value)");
    if (r < 0)
        return pb_error_set(err, PB_ECONFIG, "cannot read config '%s'", path);
    return check(cfg, err);
}

void
pb_config_release(struct pb_config *cfg)
{
    free(cfg->path);
    free(cfg->home);
    free(cfg->currency);
    free(cfg->qbpos_tz);
    list_free(&cfg->departments);
    list_free(&cfg->exclude_departments);
    list_free(&cfg->nontaxable_codes);
    list_free(&cfg->tax_rates);
    free(cfg->run_source);
    free(cfg->run_inbox);
    free(cfg->run_outbox);
    free(cfg->qbwc_user);
    free(cfg->qbwc_password_hash);
    free(cfg->qbwc_app_url);
    free(cfg->qbwc_app_name);
    free(cfg->qbwc_app_support);
    free(cfg->qbwc_owner_id);
    free(cfg->qbwc_file_id);
    free(cfg->qbwc_company);
    list_free(&cfg->qbwc_requests);
    list_free(&cfg->maps);
    free(cfg->attribute_option);
    free(cfg->size_option);
    free(cfg->option3_field);
    free(cfg->option3_name);
    for (int i = 0; i < cfg->nstores; i++) {
        struct pb_store_cfg *s = &cfg->stores[i];
        free(s->name);
        free(s->base_url);
        free(s->api_version);
        free(s->default_location);
        free(s->store_code);
        free(s->cashier);
        list_free(&s->option_attr);
        for (int k = 0; k < PB_SECRET__COUNT; k++)
            free(s->secret_ref[k]);
        for (int n = 0; n <= PB_QBPOS_STORES; n++)
            free(s->location[n]);
        list_free(&s->maps);
    }
    memset(cfg, 0, sizeof(*cfg));
}

char *
pb_config_path(const struct pb_config *cfg, const char *sub)
{
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_addf(&b, "%s/%s", cfg->home, sub) < 0)
        return NULL;
    return pb_buf_detach(&b, NULL);
}

const struct pb_store_cfg *
pb_config_store(const struct pb_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nstores; i++)
        if (!strcmp(cfg->stores[i].name, name))
            return &cfg->stores[i];
    return NULL;
}

char *
pb_config_secret(const struct pb_store_cfg *st, int which, struct pb_error *err)
{
    const char *ref = which >= 0 && which < PB_SECRET__COUNT ? st->secret_ref[which] : NULL;
    if (!ref) {
        pb_error_set(err, PB_ECONFIG, "[store %s]: '%s' is not configured", st->name,
                     pb_secret_key(which));
        return NULL;
    }
    if (!strncmp(ref, "env:", 4)) {
        const char *v = getenv(ref + 4);
        if (!v || !*v) {
            pb_error_set(err, PB_ECONFIG, "[store %s]: %s: environment variable %s is not set",
                         st->name, pb_secret_key(which), ref + 4);
            return NULL;
        }
        char *s = strdup(v);
        if (!s)
            pb_error_set(err, PB_EOS, "out of memory");
        return s;
    }
    /* file:PATH; the mode was checked at load. */
    const char *path = ref + 5;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pb_error_sys(err, PB_ECONFIG, errno, "[store %s]: cannot read secret file '%s'",
                     st->name, path);
        return NULL;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        pb_error_sys(err, PB_ECONFIG, errno, "[store %s]: cannot read secret file '%s'",
                     st->name, path);
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    if (n == 0) {
        pb_error_set(err, PB_ECONFIG, "[store %s]: secret file '%s' is empty", st->name, path);
        return NULL;
    }
    char *s = strdup(buf);
    memset(buf, 0, sizeof(buf));
    if (!s)
        pb_error_set(err, PB_EOS, "out of memory");
    return s;
}

static void
print_list(FILE *fp, const char *key, const struct pb_strlist *l)
{
    fprintf(fp, "%s =", key);
    for (int i = 0; i < l->n; i++)
        fprintf(fp, "%s %s", i ? "," : "", l->v[i]);
    fputc('\n', fp);
}

static void
print_pricing(FILE *fp, const struct pb_pricing *p)
{
    char num[32];
    if (p->price_level == PB_PRICE_WEB)
        fprintf(fp, "price_level = web\n");
    else
        fprintf(fp, "price_level = %d\n", p->price_level);
    if (p->compare_level == PB_PRICE_NONE)
        fprintf(fp, "compare_at = none\n");
    else if (p->compare_level == PB_PRICE_MSRP)
        fprintf(fp, "compare_at = msrp\n");
    else
        fprintf(fp, "compare_at = %d\n", p->compare_level);
    if (p->qty == PB_QTY_STORE)
        fprintf(fp, "quantity = store %d\n", p->qty_store);
    else
        fprintf(fp, "quantity = %s\n", p->qty == PB_QTY_SUM ? "sum" : "per_store");
    pb_qty_format(p->safety_buffer, num);
    fprintf(fp, "safety_buffer = %s\n", num);
    fprintf(fp, "rounding = %s\n",
            p->rounding == PB_ROUND_DOWN ? "down" : p->rounding == PB_ROUND_UP ? "up" : "nearest");
}

void
pb_config_print(const struct pb_config *c, FILE *fp)
{
    static const char *const skus[] = {"alu", "item_number", "upc"};
    fprintf(fp, "; effective configuration%s%s\n", c->path ? " from " : " (defaults, no file)",
            c->path ? c->path : "");
    fprintf(fp, "[general]\nhome = %s\nformat = %s\ngzip = %s\ncurrency = %s\n", c->home,
            c->format == PB_ENC_CSV ? "csv" : "jsonl", c->gzip ? "true" : "false", c->currency);
    if (c->qbpos_tz)
        fprintf(fp, "qbpos_timezone = %s\n", c->qbpos_tz);
    fprintf(fp, "\n[qbpos]\nsku = %s\nonline = %s\n", skus[c->sku],
            c->web_items_only ? "is_web_item" : "all");
    print_list(fp, "departments", &c->departments);
    print_list(fp, "exclude_departments", &c->exclude_departments);
    print_list(fp, "nontaxable_codes", &c->nontaxable_codes);
    if (c->tax_rates.n)
        print_list(fp, "tax_rates", &c->tax_rates);
    print_pricing(fp, &c->pricing);
    fprintf(fp, "\n[transform]\n");
    print_list(fp, "maps", &c->maps);
    fprintf(fp, "case_insensitive = %s\nattribute_option = %s\nsize_option = %s\n",
            c->maps_ci ? "true" : "false", c->attribute_option, c->size_option);
    if (c->option3_field)
        fprintf(fp, "option3 = %s:%s\n", c->option3_field, c->option3_name);
    fprintf(fp, "vendor = %s\n", c->vendor_from_manufacturer ? "manufacturer" : "vendor_code");
    if (c->run_source || c->run_inbox || c->run_outbox || c->run_stages != PB_RUN_ALL) {
        static const char *const names[] = {"ingest", "export", "transform", "upload",
                                            "download", "emit"};
        fprintf(fp, "\n[run]\n");
        if (c->run_source)
            fprintf(fp, "source = %s\n", c->run_source);
        if (c->run_inbox)
            fprintf(fp, "inbox = %s\n", c->run_inbox);
        if (c->run_outbox)
            fprintf(fp, "outbox = %s\n", c->run_outbox);
        fprintf(fp, "stages =");
        for (int k = 0, n = 0; k < 6; k++)
            if (c->run_stages & (1u << k))
                fprintf(fp, "%s %s", n++ ? "," : "", names[k]);
        fputc('\n', fp);
    }
    if (c->qbwc_section) {
        static const char *const items[] = {"off", "modified", "all"};
        fprintf(fp, "\n[qbwc]\n");
        if (c->qbwc_user)
            fprintf(fp, "user = %s\n", c->qbwc_user);
        if (c->qbwc_password_hash) /* a salted hash, but still nothing to show */
            fprintf(fp, "password_hash = (set)\n");
        if (c->qbwc_app_url)
            fprintf(fp, "app_url = %s\n", c->qbwc_app_url);
        if (c->qbwc_company)
            fprintf(fp, "company = %s\n", c->qbwc_company);
        fprintf(fp, "items = %s\nmax_returned = %d\nticket_lifetime = %d\nrun_every_minutes = %d\n"
                    "lock_wait = %d\n",
                items[c->qbwc_items], c->qbwc_max_returned, c->qbwc_ticket_lifetime,
                c->qbwc_run_every, c->qbwc_lock_wait);
        if (c->qbwc_requests.n)
            print_list(fp, "requests", &c->qbwc_requests);
    }
    for (int i = 0; i < c->nstores; i++) {
        const struct pb_store_cfg *s = &c->stores[i];
        fprintf(fp, "\n[store %s]\nplatform = %s\nbase_url = %s\n", s->name,
                pb_platform_name(s->platform), s->base_url);
        if (s->api_version)
            fprintf(fp, "api_version = %s\n", s->api_version);
        for (int k = 0; k < PB_SECRET__COUNT; k++) {
            if (!s->secret_ref[k])
                continue;
            /* The reference only, and whether it resolves; never the value. */
            struct pb_error e;
            pb_error_init(&e);
            char *v = pb_config_secret(s, k, &e);
            fprintf(fp, "%s = %s   ; %s\n", secret_keys[k], s->secret_ref[k],
                    v ? "set" : "NOT AVAILABLE");
            if (v) {
                memset(v, 0, strlen(v));
                free(v);
            }
        }
        fprintf(fp, "new_products = %s\n", s->new_hidden ? "hidden" : "visible");
        static const char *const modes[] = {"auto", "token", "basic", "oauth"};
        if (s->auth != PB_AUTH_AUTO)
            fprintf(fp, "auth = %s\n", modes[s->auth]);
        if (s->concurrency)
            fprintf(fp, "concurrency = %d\n", s->concurrency);
        if (s->platform == PB_MAGENTO)
            fprintf(fp, "store_code = %s\nattribute_set_id = %d\nwebsite_id = %d\n"
                        "bulk_above = %ld\n",
                    s->store_code ? s->store_code : "all", s->attribute_set_id, s->website_id,
                    s->bulk_above);
        if (s->download_overlap != 600)
            fprintf(fp, "download_overlap = %ld\n", s->download_overlap);
        if (s->download_first_days != 30)
            fprintf(fp, "download_first_days = %d\n", s->download_first_days);
        if (s->no_restock)
            fprintf(fp, "refund_restock = no\n");
        if (s->qbpos_store != 1)
            fprintf(fp, "qbpos_store = %d\n", s->qbpos_store);
        if (s->cashier)
            fprintf(fp, "cashier = %s\n", s->cashier);
        if (s->option_attr.n)
            print_list(fp, "option_attributes", &s->option_attr);
        if (s->default_location)
            fprintf(fp, "location = %s\n", s->default_location);
        int any = 0;
        for (int n = 1; n <= PB_QBPOS_STORES; n++)
            if (s->location[n])
                fprintf(fp, "%s%d:%s", any++ ? ", " : "locations = ", n, s->location[n]);
        if (any)
            fputc('\n', fp);
        print_list(fp, "maps", &s->maps);
        print_pricing(fp, &s->pricing);
    }
}

const char *
pb_store_option_attr(const struct pb_store_cfg *st, const char *option)
{
    size_t n = strlen(option);
    for (int i = 0; i < st->option_attr.n; i++) {
        const char *e = st->option_attr.v[i];
        if (!strncmp(e, option, n) && e[n] == ':')
            return e + n + 1;
    }
    return NULL;
}

int
pb_config_tax_rate(const struct pb_config *cfg, const char *code, int64_t *out)
{
    size_t n = strlen(code);
    for (int i = 0; i < cfg->tax_rates.n; i++) {
        const char *e = cfg->tax_rates.v[i];
        const char *why;
        if (!strncmp(e, code, n) && e[n] == ':')
            return pb_dec_parse(e + n + 1, strlen(e + n + 1), 2, out, &why) < 0 ? 1 : 0;
    }
    return 1;
}
