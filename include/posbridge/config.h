/*
 * The configuration: one INI file, from -c FILE, $POSBRIDGE_CONFIG or ./posbridge.ini.
 * Unknown sections or keys, bad values and missing required keys are errors that name
 * the file, line and key (PB_ECONFIG, exit 78).  Without any config file the defaults
 * apply (home is the current directory, no stores).
 *
 * Secrets are never in the file: a credential is a reference, `env:NAME` or
 * `file:PATH` (or `<key>_file = PATH`), resolved only when a connector needs it.  A
 * secret file readable by group or others is refused.
 */
#ifndef PB_CONFIG_H
#define PB_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "posbridge/staged.h"

struct pb_error;

#define PB_MAX_STORES 32
#define PB_QBPOS_STORES 20

enum pb_sku_field { PB_SKU_ALU, PB_SKU_ITEM_NUMBER, PB_SKU_UPC };
enum pb_qty_policy { PB_QTY_STORE, PB_QTY_SUM, PB_QTY_PER_STORE };
enum pb_rounding { PB_ROUND_DOWN, PB_ROUND_NEAREST, PB_ROUND_UP };
enum pb_platform_id { PB_SHOPIFY, PB_BIGCOMMERCE, PB_WOOCOMMERCE, PB_MAGENTO };

/* Price levels: 1..5 are QBPOS Price1..Price5; these are the others. */
enum { PB_PRICE_NONE = 0, PB_PRICE_WEB = 6, PB_PRICE_MSRP = 7 };

/* A list of strings from a comma-separated value. */
struct pb_strlist {
    char **v;
    int n;
};

/* What decides quantities and prices; [qbpos], overridable per store. */
struct pb_pricing {
    int price_level;          /* 1..5 or PB_PRICE_WEB */
    int compare_level;        /* PB_PRICE_NONE, 1..5 or PB_PRICE_MSRP */
    enum pb_qty_policy qty;
    int qty_store;            /* for PB_QTY_STORE: the QBPOS store number */
    int64_t safety_buffer;    /* fixed point, PB_QTY_SCALE */
    enum pb_rounding rounding;
    unsigned set;             /* which of the above the section set (PB_PRICING_*) */
};

enum { PB_PRICING_PRICE = 1, PB_PRICING_COMPARE = 2, PB_PRICING_QTY = 4,
       PB_PRICING_BUFFER = 8, PB_PRICING_ROUNDING = 16 };

/* How a store's requests are authenticated; auto picks by platform and what is set. */
enum pb_auth { PB_AUTH_AUTO, PB_AUTH_TOKEN, PB_AUTH_BASIC, PB_AUTH_OAUTH };

enum { PB_SECRET_TOKEN, PB_SECRET_CONSUMER_KEY, PB_SECRET_CONSUMER_SECRET,
       PB_SECRET_ACCESS_TOKEN, PB_SECRET_ACCESS_TOKEN_SECRET, PB_SECRET__COUNT };

struct pb_store_cfg {
    char *name;
    long line;                /* where its section starts */
    enum pb_platform_id platform;
    char *base_url;
    char *api_version;
    char *secret_ref[PB_SECRET__COUNT]; /* "env:NAME" or "file:PATH", or NULL */
    char *location[PB_QBPOS_STORES + 1]; /* QBPOS store number -> remote location id */
    char *default_location;   /* for the store / sum policies */
    struct pb_strlist maps;   /* mapping tables, after the [transform] ones */
    int new_hidden;           /* new_products = hidden (default) | visible */
    enum pb_auth auth;        /* auth = auto | token | basic | oauth */
    int concurrency;          /* requests in flight, 1..16 (0: the connector's default) */
    /* Magento */
    char *store_code;         /* store_code: the scope in /rest/<code>/V1 (default all) */
    int attribute_set_id;     /* attribute_set_id (default 4, Default) */
    int website_id;           /* website_id (default 1) */
    long bulk_above;          /* bulk_above: use the async bulk API past this many products */
    /* option_attributes = Color:color, Size:size: the store's attribute for an option name
     * (Magento attribute codes, WooCommerce global attribute names); default: the name */
    struct pb_strlist option_attr;
    struct pb_pricing pricing;
    long download_overlap;    /* download_overlap: seconds looked at again (600) */
    int download_first_days;  /* download_first_days: how far back a first download goes (30) */
    int no_restock;           /* refund_restock = no: refunded items did not go back to stock
                               * (for platforms whose refunds do not say; default yes) */
    int qbpos_store;          /* qbpos_store: the QBPOS store whose stock web sales move (1) */
    char *cashier;            /* cashier: name on the receipts (default: the store's name) */
};

struct pb_config {
    char *path;        /* the file read, or NULL when none */
    char *home;        /* [general] home: batches/, state/, log/ live here */
    enum pb_enc format;/* [general] format = csv | jsonl */
    int gzip;          /* [general] gzip = true | false */
    char *currency;    /* [general] currency, ISO 4217 (default USD) */
    char *qbpos_tz;    /* [general] qbpos_timezone, IANA name, for times without offset */

    /* [qbpos]: reading QBPOS data */
    enum pb_sku_field sku;
    int web_items_only;               /* online = is_web_item (default) | all */
    struct pb_strlist departments;    /* include only these department codes */
    struct pb_strlist exclude_departments;
    struct pb_strlist nontaxable_codes; /* tax codes that mean "not taxable" (Non) */
    struct pb_strlist tax_rates;      /* CODE:PERCENT, QBPOS's rate per tax code, so the
                                         receipts sent balance the way QBPOS checks them */
    struct pb_pricing pricing;

    /* [transform] */
    struct pb_strlist maps;           /* mapping tables applied for every store */
    int maps_ci;                      /* match case-insensitively */
    char *attribute_option;           /* option name for Attribute (Color) */
    char *size_option;                /* option name for Size (Size) */
    char *option3_field;              /* an items field or x_ column, or NULL */
    char *option3_name;
    int vendor_from_manufacturer;     /* vendor = manufacturer (default) | vendor_code */

    /* [run]: the nightly job */
    char *run_source;                 /* source: where QBPOS item files arrive */
    char *run_inbox;                  /* inbox: where QBPOS response documents arrive */
    char *run_outbox;                 /* outbox: where request documents for QBPOS go */
    unsigned run_stages;              /* stages = ...: which stages run (PB_RUN_*) */

    /* [qbwc]: the Web Connector endpoint (posbridge qbwc) */
    int qbwc_section;                 /* the file has a [qbwc] section */
    char *qbwc_user;                  /* user: the UserName in the .qwc file */
    char *qbwc_password_hash;         /* password_hash: from posbridge qbwc-passwd */
    int qbwc_max_returned;            /* max_returned: items per iterator chunk (100) */
    int qbwc_ticket_lifetime;         /* ticket_lifetime: seconds a session lives (3600) */
    int qbwc_run_every;               /* run_every_minutes: the .qwc scheduler (60) */
    int qbwc_lock_wait;               /* lock_wait: seconds to wait for the home's lock (10) */
    char *qbwc_app_url;               /* app_url: where the Web Connector reaches us */
    char *qbwc_app_name;              /* app_name (posbridge) */
    char *qbwc_app_support;           /* app_support (default: app_url) */
    char *qbwc_owner_id;              /* owner_id, {GUID} (default: derived from app_name) */
    char *qbwc_file_id;               /* file_id, {GUID} (default: derived from app_url, user) */
    char *qbwc_company;               /* company: the QBPOS connection string ("" = open) */
    int qbwc_items;                   /* items = modified (1, default) | all (2) | off (0) */
    struct pb_strlist qbwc_requests;  /* requests: more request documents each session */

    struct pb_store_cfg stores[PB_MAX_STORES];
    int nstores;
};

enum { PB_RUN_INGEST = 1, PB_RUN_EXPORT = 2, PB_RUN_TRANSFORM = 4, PB_RUN_UPLOAD = 8,
       PB_RUN_DOWNLOAD = 16, PB_RUN_EMIT = 32, PB_RUN_ALL = 63 };

/*
 * Load the config.  path NULL: $POSBRIDGE_CONFIG, then ./posbridge.ini, then defaults.
 * A path given explicitly must exist.  Relative paths inside the file are taken relative
 * to the file's directory.  Secret files are checked (exist, not group/other readable).
 */
int pb_config_load(struct pb_config *cfg, const char *path, struct pb_error *err);
void pb_config_release(struct pb_config *cfg);

/* "<home>/batches" etc.  Returns a malloc'd path or NULL. */
char *pb_config_path(const struct pb_config *cfg, const char *sub);

/* A store by name, or NULL. */
const struct pb_store_cfg *pb_config_store(const struct pb_config *cfg, const char *name);

/*
 * Resolve a store's secret into a malloc'd string (the caller wipes and frees it).
 * NULL with err (PB_ECONFIG) when it is not configured or cannot be read.
 */
char *pb_config_secret(const struct pb_store_cfg *st, int which, struct pb_error *err);

/* The QBPOS tax rate of a tax code in hundredths of a percent (8.25% -> 825): 0 and *out,
 * or 1 when the code has no rate configured. */
int pb_config_tax_rate(const struct pb_config *cfg, const char *code, int64_t *out);

/* The store attribute for an option name (option_attributes), or NULL when none is set. */
const char *pb_store_option_attr(const struct pb_store_cfg *st, const char *option);

/* Names for messages and `config check`. */
const char *pb_platform_name(enum pb_platform_id p);
const char *pb_secret_key(int which);

/* Print the effective configuration, secrets shown only as their references. */
void pb_config_print(const struct pb_config *cfg, FILE *fp);

#endif
