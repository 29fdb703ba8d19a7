/* The INI configuration: values, defaults, errors with the file's line numbers. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/config.h"
#include "posbridge/err.h"

static char tmpdir[] = "/tmp/pb-test-config-XXXXXX";

static const char *
write_ini(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    return path;
}

static void
test_values(void)
{
    const char *p = write_ini("full.ini", "; posbridge settings\n"
                                          "# another comment\n"
                                          "\n"
                                          "[general]\n"
                                          "home = data\n"
                                          "format = jsonl\n"
                                          "gzip = yes\n"
                                          "currency = CAD\n"
                                          "qbpos_timezone = America/Chicago\n");
    struct pb_config cfg;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, p, &err) == 0);
    CHECK(err.code == PB_OK);
    CHECK_STR(cfg.path, p);
    char want[300];
    snprintf(want, sizeof(want), "%s/data", tmpdir);
    CHECK_STR(cfg.home, want); /* relative to the config's directory */
    CHECK(cfg.format == PB_ENC_JSONL);
    CHECK(cfg.gzip == 1);
    CHECK_STR(cfg.currency, "CAD");
    CHECK_STR(cfg.qbpos_tz, "America/Chicago");
    char *b = pb_config_path(&cfg, "batches");
    snprintf(want, sizeof(want), "%s/data/batches", tmpdir);
    CHECK_STR(b, want);
    free(b);
    pb_config_release(&cfg);
    CHECK(cfg.home == NULL && cfg.path == NULL);
}

struct bool_case {
    const char *v;
    int ok, want;
};

static void
test_gzip_values(void)
{
    static const struct bool_case cases[] = {
        {"true", 1, 1}, {"TRUE", 1, 1}, {"yes", 1, 1}, {"on", 1, 1}, {"1", 1, 1},
        {"false", 1, 0}, {"No", 1, 0}, {"off", 1, 0}, {"0", 1, 0},
        {"maybe", 0, 0}, {"2", 0, 0}, {"", 0, 0}, {"truee", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[100];
        snprintf(text, sizeof(text), "[general]\ngzip = %s\n", cases[i].v);
        const char *p = write_ini("gzip.ini", text);
        struct pb_config cfg;
        struct pb_error err;
        pb_error_init(&err);
        int rc = pb_config_load(&cfg, p, &err);
        if (cases[i].ok) {
            CHECK(rc == 0);
            CHECK(cfg.gzip == cases[i].want);
        } else {
            CHECK(rc == -1);
            CHECK(err.code == PB_ECONFIG);
            CHECK(err.line == 2);
            CHECK(strstr(err.msg, "gzip") != NULL);
            CHECK(strstr(err.msg, "true or false") != NULL);
        }
        pb_config_release(&cfg);
    }
}

struct bad_case {
    const char *text;
    long line;
    const char *msg_part;
};

static void
test_errors(void)
{
    static const struct bad_case cases[] = {
        {"[general]\nhome = /srv/pb\n\ncolour = blue\n", 4, "[general] colour: unknown key"},
        {"[general]\nformat = xml\n", 2, "[general] format: 'xml' is not csv or jsonl"},
        {"[general]\nformat = CSV\n", 2, "'CSV' is not csv or jsonl"},
        {"[general]\ncurrency = EURO\n", 2, "[general] currency: 'EURO' is not a 3-letter"},
        {"[general]\nhome =\n", 2, "[general] home: must not be empty"},
        {"# c\n[shopify]\nstore = x\n", 3, "[shopify] store: unknown section"},
        {"home = /x\n", 1, "unknown section"},
        {"[general]\nthis line is not ini\n", 2, "cannot parse this line"},
        {"[general]\n[broken\nhome = x\n", 2, "cannot parse this line"},
        /* the first error wins */
        {"[general]\nformat = xml\ncolour = blue\n", 2, "format"},
        {"[general]\n\n\n\n\n\n\n\n\n\nwhat = 1\n", 11, "what"},
        {"[general]\r\nformat = csv\r\ncolour = blue\r\n", 3, "colour"},
        /* [qbwc] */
        {"[qbwc]\nuser = shop\npassword = hunter2\n", 3, "[qbwc] password: unknown key"},
        {"[qbwc]\npassword_hash = hunter2\n", 2, "[qbwc] password_hash: not a hash from"},
        {"[qbwc]\nmax_returned = 0\n", 2, "[qbwc] max_returned: '0' is not a whole number from 1"},
        {"[qbwc]\nticket_lifetime = 1h\n", 2, "ticket_lifetime"},
        {"[qbwc]\napp_url = http://pos.example.com/qbwc\n", 2, "needs https://"},
        {"[qbwc]\nowner_id = 1234\n", 2, "[qbwc] owner_id: '1234' is not a GUID"},
        {"[qbwc]\nitems = some\n", 2, "is not modified, all or off"},
        {"[qbwc]\nuser =\n", 2, "[qbwc] user: must not be empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = write_ini("bad.ini", cases[i].text);
        struct pb_config cfg;
        struct pb_error err;
        pb_error_init(&err);
        int rc = pb_config_load(&cfg, p, &err);
        if (rc != -1 || err.line != cases[i].line || !strstr(err.msg, cases[i].msg_part))
            printf("#   case %zu: rc %d line %ld msg '%s'\n", i, rc, err.line, err.msg);
        CHECK(rc == -1);
        CHECK(err.code == PB_ECONFIG);
        CHECK(pb_exit_code(err.code) == 78);
        CHECK(err.line == cases[i].line);
        CHECK_STR(err.file, p);
        CHECK(strstr(err.msg, cases[i].msg_part) != NULL);
        pb_config_release(&cfg);
    }
}

/*
 * Regression: libinih (Debian 55) reads lines
 * through a 200-byte buffer, so a line of 200+ bytes reaches config.c's reader() in two
 * pieces.  reader() counts each piece as a line, and the tail is parsed as a line of its
 * own: a valid config with a long comment is refused ("cannot parse this line") and the
 * line numbers after it are one too high.
 */
static void
test_qbwc(void)
{
    const char *p = write_ini("qbwc.ini",
                              "[qbwc]\nuser = shop\npassword_hash = pbkdf2-sha256$1000$"
                              "000102030405060708090a0b0c0d0e0f$00010203040506070809101112131415"
                              "16171819202122232425262728293031\napp_url = https://pos.example.com/qbwc\n"
                              "company = Computer Name=fd;Company Data=harbor lane;Version=12\n"
                              "file_id = {8A5B7C3D-1E2F-4A5B-8C7D-9E0F1A2B3C4D}\nitems = all\n"
                              "requests = extra.xml\nlock_wait = 0\n");
    struct pb_config c;
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_config_load(&c, p, &e) == 0);
    CHECK(c.qbwc_section == 1);
    CHECK_STR(c.qbwc_user, "shop");
    CHECK_STR(c.qbwc_company, "Computer Name=fd;Company Data=harbor lane;Version=12");
    CHECK_STR(c.qbwc_file_id, "{8A5B7C3D-1E2F-4A5B-8C7D-9E0F1A2B3C4D}");
    CHECK(c.qbwc_items == 2 && c.qbwc_lock_wait == 0 && c.qbwc_max_returned == 100);
    CHECK(c.qbwc_ticket_lifetime == 3600 && c.qbwc_run_every == 60);
    CHECK(c.qbwc_requests.n == 1 && strstr(c.qbwc_requests.v[0], "/extra.xml"));
    /* the effective config shows that a hash is set, not the hash */
    char *text = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&text, &n);
    pb_config_print(&c, fp);
    fclose(fp);
    CHECK(text && strstr(text, "password_hash = (set)") && !strstr(text, "0001020304"));
    free(text);
    pb_config_release(&c);
}

static void
test_long_lines(void)
{
    struct pb_buf text = PB_BUF_INIT;
    CHECK(pb_buf_adds(&text, "[general]\n# ") == 0);
    for (int i = 0; i < 300; i++)
        CHECK(pb_buf_addch(&text, 'x') == 0);
    CHECK(pb_buf_adds(&text, "\nformat = jsonl\n") == 0);
    const char *p = write_ini("long.ini", text.data);
    struct pb_config cfg;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, p, &err) == 0);
    CHECK(cfg.format == PB_ENC_JSONL);
    pb_config_release(&cfg);
    /* and an error after it names the right line */
    CHECK(pb_buf_adds(&text, "colour = blue\n") == 0);
    p = write_ini("long.ini", text.data);
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, p, &err) == -1);
    CHECK(err.line == 4);
    CHECK(strstr(err.msg, "colour") != NULL);
    pb_config_release(&cfg);
    pb_buf_release(&text);
}

static void
test_paths(void)
{
    struct pb_config cfg;
    struct pb_error err;
    /* an absolute home is kept */
    const char *p = write_ini("abs.ini", "[general]\nhome = /srv/posbridge\n");
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, p, &err) == 0);
    CHECK_STR(cfg.home, "/srv/posbridge");
    pb_config_release(&cfg);
    /* a config given explicitly must exist */
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/missing.ini", tmpdir);
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, missing, &err) == -1);
    CHECK(err.code == PB_ECONFIG);
    CHECK(strstr(err.msg, "missing.ini") != NULL);
    pb_config_release(&cfg);
}

/* No file: the defaults.  $POSBRIDGE_CONFIG, then ./posbridge.ini (home relative to it). */
static void
test_defaults_and_search(void)
{
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    char *old_env = getenv("POSBRIDGE_CONFIG") ? strdup(getenv("POSBRIDGE_CONFIG")) : NULL;
    unsetenv("POSBRIDGE_CONFIG");
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/empty", tmpdir);
    struct pb_error err;
    CHECK(pb_mkdirs(sub, 0755, &err) == 0);
    CHECK(chdir(sub) == 0);
    struct pb_config cfg;
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, NULL, &err) == 0);
    CHECK(cfg.path == NULL);
    CHECK_STR(cfg.home, ".");
    CHECK(cfg.format == PB_ENC_CSV);
    CHECK(cfg.gzip == 0);
    CHECK_STR(cfg.currency, "USD");
    CHECK(cfg.qbpos_tz == NULL);
    pb_config_release(&cfg);
    /* ./posbridge.ini */
    FILE *fp = fopen("posbridge.ini", "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("[general]\nhome = here\nformat = jsonl\n", fp);
        fclose(fp);
    }
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, NULL, &err) == 0);
    CHECK_STR(cfg.path, "posbridge.ini");
    CHECK_STR(cfg.home, "here");
    CHECK(cfg.format == PB_ENC_JSONL);
    pb_config_release(&cfg);
    /* $POSBRIDGE_CONFIG wins over ./posbridge.ini */
    const char *p = write_ini("env.ini", "[general]\nformat = csv\ncurrency = EUR\n");
    setenv("POSBRIDGE_CONFIG", p, 1);
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, NULL, &err) == 0);
    CHECK_STR(cfg.path, p);
    CHECK_STR(cfg.currency, "EUR");
    pb_config_release(&cfg);
    /* ... and must exist when set */
    setenv("POSBRIDGE_CONFIG", "/nonexistent/posbridge.ini", 1);
    pb_error_init(&err);
    CHECK(pb_config_load(&cfg, NULL, &err) == -1);
    CHECK(err.code == PB_ECONFIG);
    pb_config_release(&cfg);
    if (old_env)
        setenv("POSBRIDGE_CONFIG", old_env, 1);
    else
        unsetenv("POSBRIDGE_CONFIG");
    free(old_env);
    unlink("posbridge.ini");
    CHECK(chdir(cwd) == 0);
}

/* [qbpos], [transform] and stores: values, inheritance of pricing, and refusals. */
static void
test_stores(void)
{
    const char *secret = write_ini("secret.txt", "tok_from_file\n");
    chmod(secret, 0600);
    const char *p = write_ini("stores.ini",
                              "[store web]\n"
                              "platform = shopify\n"
                              "base_url = https://x.myshopify.com\n"
                              "token = env:PB_TEST_TOKEN\n"
                              "quantity = per_store\n"
                              "locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2\n"
                              "new_products = visible\n"
                              "[qbpos]\n"
                              "sku = item_number\n"
                              "online = all\n"
                              "departments = GAT, KIT\n"
                              "price_level = 2\n"
                              "compare_at = msrp\n"
                              "quantity = store 3\n"
                              "safety_buffer = 1.5\n"
                              "rounding = nearest\n"
                              "[transform]\n"
                              "case_insensitive = yes\n"
                              "option3 = x_material:Material\n"
                              "vendor = vendor_code\n"
                              "[store b2]\n"
                              "platform = bigcommerce\n"
                              "base_url = https://api.bigcommerce.com/stores/abc\n"
                              "token_file = secret.txt\n"
                              "price_level = web\n"
                              "refund_restock = no\n");
    struct pb_config c;
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_config_load(&c, p, &e) == 0);
    if (e.code) {
        printf("#   %s (line %ld)\n", e.msg, e.line);
        pb_config_release(&c);
        return;
    }
    CHECK(c.nstores == 2);
    CHECK(c.sku == PB_SKU_ITEM_NUMBER && c.web_items_only == 0);
    CHECK(c.departments.n == 2 && !strcmp(c.departments.v[1], "KIT"));
    CHECK(c.maps_ci == 1 && !strcmp(c.option3_field, "x_material") &&
          !strcmp(c.option3_name, "Material") && c.vendor_from_manufacturer == 0);
    const struct pb_store_cfg *w = pb_config_store(&c, "web"), *b = pb_config_store(&c, "b2");
    CHECK(w && b);
    if (!w || !b) {
        pb_config_release(&c);
        return;
    }
    /* the store's own quantity policy wins; the rest comes from [qbpos], even written after */
    CHECK(w->pricing.qty == PB_QTY_PER_STORE && w->pricing.price_level == 2);
    CHECK(w->pricing.compare_level == PB_PRICE_MSRP && w->pricing.safety_buffer == 15000);
    CHECK(w->pricing.rounding == PB_ROUND_NEAREST && w->new_hidden == 0);
    CHECK_STR(w->location[2], "gid://shopify/Location/2");
    CHECK(b->pricing.price_level == PB_PRICE_WEB && b->pricing.qty == PB_QTY_STORE &&
          b->pricing.qty_store == 3 && b->new_hidden == 1);
    CHECK(w->no_restock == 0 && b->no_restock == 1); /* refunds restock unless told */
    setenv("PB_TEST_TOKEN", "tok_from_env", 1);
    char *t1 = pb_config_secret(w, PB_SECRET_TOKEN, &e), *t2 = pb_config_secret(b, PB_SECRET_TOKEN, &e);
    CHECK_STR(t1, "tok_from_env");
    CHECK_STR(t2, "tok_from_file");
    free(t1);
    free(t2);
    unsetenv("PB_TEST_TOKEN");
    pb_error_init(&e);
    CHECK(pb_config_secret(w, PB_SECRET_TOKEN, &e) == NULL && e.code == PB_ECONFIG);
    /* config check shows references, never values */
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    pb_config_print(&c, fp);
    fclose(fp);
    CHECK(out && strstr(out, "token = file:") && !strstr(out, "tok_from_file"));
    CHECK(out && strstr(out, "refund_restock = no"));
    free(out);
    pb_config_release(&c);
}

static void
test_store_refusals(void)
{
    static const struct {
        const char *text;
        long line;
        const char *says;
    } cases[] = {
        {"[store a]\nplatform = shopify\nbase_url = https://x\ntoken = shpat_literal\n", 4,
         "not the secret itself"},
        {"[store a]\nplatform = ebay\n", 2, "is not shopify"},
        {"[store a]\nplatform = shopify\nbase_url = ftp://x\n", 3, "not an http(s) URL"},
        {"[store a]\nplatform = shopify\nbase_url = https://x\nlocations = 21:x\n", 4,
         "store 1 to 20"},
        {"[store A!]\nplatform = shopify\n", 1, "may use only"},
        {"[store a]\nplatform = shopify\n[qbpos]\n[store a]\nplatform = shopify\n", 4,
         "defined twice"},
        {"[store a]\nbase_url = https://x\n", 1, "'platform' is required"},
        {"[store a]\nplatform = shopify\nbase_url = https://x\nquantity = per_store\n", 1,
         "needs 'locations'"},
        {"[qbpos]\nprice_level = 6\n", 2, "1 to 5 or web"},
        {"[store a]\nplatform = magento\nrefund_restock = maybe\n", 3, "yes or no"},
        {"[qbpos]\nquantity = store 0\n", 2, "1 to 20"},
        {"[qbpos]\nsafety_buffer = -1\n", 2, "0 or more"},
        {"[transform]\noption3 = material\n", 2, "FIELD:Option Name"},
        {"[general]\nqbpos_timezone = America/Chicgo\n", 2, "time zone"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = write_ini("bad.ini", cases[i].text);
        struct pb_config c;
        struct pb_error e;
        pb_error_init(&e);
        CHECK(pb_config_load(&c, p, &e) < 0);
        CHECK(e.code == PB_ECONFIG);
        if (e.line != cases[i].line)
            printf("#   case %zu: line %ld, expected %ld (%s)\n", i, e.line, cases[i].line, e.msg);
        CHECK(e.line == cases[i].line);
        if (!strstr(e.msg, cases[i].says))
            printf("#   case %zu: '%s' lacks '%s'\n", i, e.msg, cases[i].says);
        CHECK(strstr(e.msg, cases[i].says) != NULL);
        pb_config_release(&c);
    }
    /* a secret file others can read */
    const char *secret = write_ini("open.txt", "x\n");
    chmod(secret, 0644);
    const char *p = write_ini("open.ini", "[store a]\nplatform = shopify\nbase_url = https://x\n"
                                          "token_file = open.txt\n");
    struct pb_config c;
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_config_load(&c, p, &e) < 0 && e.code == PB_ECONFIG && strstr(e.msg, "chmod 600"));
    pb_config_release(&c);
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_values);
    RUN(test_gzip_values);
    RUN(test_errors);
    RUN(test_paths);
    RUN(test_defaults_and_search);
    RUN(test_long_lines);
    RUN(test_qbwc);
    RUN(test_stores);
    RUN(test_store_refusals);
    pb_rmtree(tmpdir);
    return check_summary();
}
