/* Error records: first error wins, positions, rendering, exit codes. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "posbridge/err.h"

static void
test_init(void)
{
    struct pb_error e;
    memset(&e, 0x55, sizeof(e));
    pb_error_init(&e);
    CHECK(e.code == PB_OK);
    CHECK(e.sys_errno == 0);
    CHECK(e.line == -1 && e.column == -1 && e.record == -1);
    CHECK(e.file[0] == '\0' && e.field[0] == '\0' && e.msg[0] == '\0');
}

static void
test_first_wins(void)
{
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_error_set(&e, PB_EIO, "first %d", 1) == -1);
    CHECK(pb_error_set(&e, PB_EDATA, "second") == -1);
    CHECK(pb_error_sys(&e, PB_EOS, ENOMEM, "third") == -1);
    CHECK(pb_error_at(&e, PB_ECONFIG, "f.ini", 3, 4, 5, "k", "fourth") == -1);
    CHECK(e.code == PB_EIO);
    CHECK_STR(e.msg, "first 1");
    CHECK(e.sys_errno == 0);
    CHECK(e.line == -1 && e.file[0] == '\0' && e.field[0] == '\0');

    /* A positioned error is not moved by a later one. */
    pb_error_init(&e);
    pb_error_at(&e, PB_EDATA, "a.csv", 7, 2, 6, "price1", "bad");
    pb_error_at(&e, PB_EDATA, "b.csv", 9, 9, 9, "cost", "worse");
    CHECK_STR(e.file, "a.csv");
    CHECK(e.line == 7 && e.column == 2 && e.record == 6);
    CHECK_STR(e.field, "price1");
    CHECK_STR(e.msg, "bad");

    /* NULL is accepted everywhere and still returns -1. */
    CHECK(pb_error_set(NULL, PB_EIO, "x") == -1);
    CHECK(pb_error_sys(NULL, PB_EIO, EIO, "x") == -1);
    CHECK(pb_error_at(NULL, PB_EIO, "f", 1, 1, 1, "g", "x") == -1);
    pb_error_locate(NULL, "f", 1, 2, 3);
}

static void
test_sys(void)
{
    struct pb_error e;
    pb_error_init(&e);
    pb_error_sys(&e, PB_ENOINPUT, ENOENT, "cannot open '%s'", "x.csv");
    CHECK(e.code == PB_ENOINPUT);
    CHECK(e.sys_errno == ENOENT);
    char want[200];
    snprintf(want, sizeof(want), "cannot open 'x.csv': %s", strerror(ENOENT));
    CHECK_STR(e.msg, want);
}

static void
test_locate(void)
{
    struct pb_error e;
    pb_error_init(&e);
    pb_error_set(&e, PB_EDATA, "bad value");
    pb_error_locate(&e, "items.csv", 10, -1, 4);
    CHECK_STR(e.file, "items.csv");
    CHECK(e.line == 10 && e.column == -1 && e.record == 4);
    /* Known parts stay; unknown ones are filled. */
    pb_error_locate(&e, "other.csv", 99, 3, 99);
    CHECK_STR(e.file, "items.csv");
    CHECK(e.line == 10 && e.column == 3 && e.record == 4);
}

/* A long path keeps its tail, which names the file. */
static void
test_long_path(void)
{
    char path[600];
    memset(path, 'd', sizeof(path));
    path[0] = '/';
    memcpy(path + sizeof(path) - 1 - strlen("/batches/x/items.csv"), "/batches/x/items.csv",
           strlen("/batches/x/items.csv") + 1);
    CHECK(strlen(path) == sizeof(path) - 1);
    struct pb_error e;
    pb_error_init(&e);
    pb_error_at(&e, PB_EDATA, path, 1, 1, 1, NULL, "m");
    CHECK(strlen(e.file) == sizeof(e.file) - 1);
    CHECK_STR(e.file, path + strlen(path) - (sizeof(e.file) - 1));
    size_t n = strlen(e.file);
    CHECK(n >= 20 && strcmp(e.file + n - 20, "/batches/x/items.csv") == 0);
    /* exactly the size that fits */
    char fits[256];
    memset(fits, 'f', 255);
    fits[255] = '\0';
    pb_error_init(&e);
    pb_error_at(&e, PB_EDATA, fits, 1, 1, 1, NULL, "m");
    CHECK_STR(e.file, fits);
    /* locate keeps the tail too */
    pb_error_init(&e);
    pb_error_set(&e, PB_EDATA, "m");
    pb_error_locate(&e, path, 1, 1, 1);
    CHECK_STR(e.file, path + strlen(path) - (sizeof(e.file) - 1));
    /* a long field name and message are cut, not overflowed */
    char longf[300];
    memset(longf, 'x', sizeof(longf) - 1);
    longf[sizeof(longf) - 1] = '\0';
    pb_error_init(&e);
    pb_error_at(&e, PB_EDATA, "f", 1, 1, 1, longf, "%s", longf);
    CHECK(strlen(e.field) == sizeof(e.field) - 1);
    CHECK(strlen(e.msg) == sizeof(e.msg) - 1);
}

struct fmt_case {
    const char *file; /* NULL: unknown */
    long line, column, record;
    const char *field; /* NULL: unknown */
    const char *msg;   /* NULL: no message set */
    const char *want;
};

static void
test_format(void)
{
    static const struct fmt_case cases[] = {
        {"items.csv", 12, 3, 11, "price1", "not a number",
         "items.csv:12:3: record 11: field 'price1': not a number"},
        {"items.csv", 12, -1, 11, "price1", "m", "items.csv:12: record 11: field 'price1': m"},
        {"items.csv", 12, 3, -1, NULL, "m", "items.csv:12:3: m"},
        {"items.csv", -1, -1, -1, NULL, "m", "items.csv: m"},
        {"items.csv", -1, 5, -1, NULL, "m", "items.csv: m"}, /* a column without a line */
        {"items.csv", 0, 0, 0, NULL, "m", "items.csv:0:0: record 0: m"},
        {NULL, 12, 3, 4, "x", "m", "record 4: field 'x': m"},
        {NULL, -1, -1, 4, NULL, "m", "record 4: m"},
        {NULL, -1, -1, -1, "x", "m", "field 'x': m"},
        {NULL, -1, -1, -1, NULL, "just this", "just this"},
        {NULL, -1, -1, -1, NULL, NULL, "unknown error"},
        {"f.ini", 7, -1, -1, NULL, "[general] colour: unknown key",
         "f.ini:7: [general] colour: unknown key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fmt_case *c = &cases[i];
        struct pb_error e;
        char out[512];
        pb_error_init(&e);
        if (c->msg)
            pb_error_at(&e, PB_EDATA, c->file, c->line, c->column, c->record, c->field, "%s",
                        c->msg);
        CHECK(pb_error_format(&e, out, sizeof(out)) == out);
        CHECK_STR(out, c->want);
    }
}

/* A short output buffer gets a truncated, terminated prefix. */
static void
test_format_truncates(void)
{
    struct pb_error e;
    pb_error_init(&e);
    pb_error_at(&e, PB_EDATA, "items.csv", 12, 3, 11, "price1", "not a number");
    const char *full = "items.csv:12:3: record 11: field 'price1': not a number";
    for (size_t size = 1; size <= strlen(full) + 1; size++) {
        char out[128];
        memset(out, '#', sizeof(out));
        pb_error_format(&e, out, size);
        CHECK(strlen(out) == size - 1);
        CHECK(strncmp(out, full, size - 1) == 0);
        CHECK(out[size] == '#'); /* nothing written past size */
    }
}

struct code_case {
    enum pb_errcode code;
    int exit;
};

static void
test_exit_code(void)
{
    static const struct code_case cases[] = {
        {PB_OK, 0},         {PB_EUSAGE, 64},      {PB_EDATA, 65},   {PB_ENOINPUT, 66},
        {PB_EUNAVAIL, 69},  {PB_ESOFTWARE, 70},   {PB_EOS, 71},     {PB_EIO, 74},
        {PB_ECANTCREAT, 73}, {PB_ETEMP, 75},      {PB_EPROTO, 76},  {PB_ENOPERM, 77},
        {PB_ECONFIG, 78},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(pb_exit_code(cases[i].code) == cases[i].exit);
    CHECK(pb_exit_code((enum pb_errcode)999) == PB_EX_SOFTWARE);
}

static void
test_exit_worst(void)
{
    static const int env[] = {PB_EX_USAGE,    PB_EX_NOINPUT, PB_EX_UNAVAILABLE,
                              PB_EX_SOFTWARE, PB_EX_OSERR,   PB_EX_CANTCREAT,
                              PB_EX_IOERR,    PB_EX_TEMPFAIL, PB_EX_PROTOCOL,
                              PB_EX_NOPERM,   PB_EX_CONFIG};
    CHECK(pb_exit_worst(0, 0) == 0);
    CHECK(pb_exit_worst(0, 65) == 65);
    CHECK(pb_exit_worst(65, 0) == 65);
    CHECK(pb_exit_worst(65, 65) == 65);
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
        /* 0 loses to everything; any environment error beats a data error */
        CHECK(pb_exit_worst(0, env[i]) == env[i]);
        CHECK(pb_exit_worst(env[i], 0) == env[i]);
        CHECK(pb_exit_worst(65, env[i]) == env[i]);
        CHECK(pb_exit_worst(env[i], 65) == env[i]);
        CHECK(pb_exit_worst(env[i], env[i]) == env[i]);
        /* the order is total and symmetric */
        for (size_t j = 0; j < sizeof(env) / sizeof(env[0]); j++) {
            int a = pb_exit_worst(env[i], env[j]), b = pb_exit_worst(env[j], env[i]);
            CHECK(a == b);
            CHECK(a == env[i] || a == env[j]);
        }
    }
    /* the declared order of the rest */
    CHECK(pb_exit_worst(PB_EX_SOFTWARE, PB_EX_OSERR) == PB_EX_SOFTWARE);
    CHECK(pb_exit_worst(PB_EX_IOERR, PB_EX_CANTCREAT) == PB_EX_IOERR);
    CHECK(pb_exit_worst(PB_EX_CONFIG, PB_EX_USAGE) == PB_EX_CONFIG);
    CHECK(pb_exit_worst(PB_EX_TEMPFAIL, PB_EX_NOINPUT) == PB_EX_TEMPFAIL);
}

int
main(void)
{
    RUN(test_init);
    RUN(test_first_wins);
    RUN(test_sys);
    RUN(test_locate);
    RUN(test_long_path);
    RUN(test_format);
    RUN(test_format_truncates);
    RUN(test_exit_code);
    RUN(test_exit_worst);
    return check_summary();
}
