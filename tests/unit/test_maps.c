/* Mapping tables: exact and case-insensitive matches, defaults, overrides, unmapped values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/atomic.h"
#include "posbridge/err.h"
#include "posbridge/maps.h"

static char dir[] = "/tmp/pb-test-maps-XXXXXX";

static const char *
table(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static const char *
apply(struct pb_maps *m, enum pb_map_field f, const char *v, int *mapped)
{
    static char out[128];
    size_t n = strlen(v);
    const char *r = pb_maps_apply(m, f, v, &n, mapped);
    snprintf(out, sizeof(out), "%.*s", (int)n, r);
    return out;
}

static void
test_exact_and_defaults(void)
{
    struct pb_maps *m = pb_maps_new(0);
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_maps_load(m, table("a.csv", "field,from,to,note\n"
                                         "attribute,Rose,Red,\n"
                                         "attribute,Wine,Red,\n"
                                         "size,XL,Extra Large,\n"
                                         "size,*,One Size,default\n"
                                         "tag,Winter,,drop it\n"
                                         "attribute, Crimson , Red ,trimmed\n"),
                       &e) == 0);
    static const struct {
        enum pb_map_field f;
        const char *in, *out;
        int mapped;
    } cases[] = {
        {PB_MAP_ATTRIBUTE, "Rose", "Red", 1},   {PB_MAP_ATTRIBUTE, "Wine", "Red", 1},
        {PB_MAP_ATTRIBUTE, " Rose ", "Red", 1}, {PB_MAP_ATTRIBUTE, "rose", "rose", 0},
        {PB_MAP_ATTRIBUTE, "Crimson", "Red", 1}, {PB_MAP_ATTRIBUTE, "Kiwi", "Kiwi", 0},
        {PB_MAP_SIZE, "XL", "Extra Large", 1},   {PB_MAP_SIZE, "M", "One Size", 1},
        {PB_MAP_TAG, "Winter", "", 1},           {PB_MAP_TAG, "Summer", "Summer", 0},
        {PB_MAP_VENDOR, "Acme", "Acme", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int mapped;
        CHECK_STR(apply(m, cases[i].f, cases[i].in, &mapped), cases[i].out);
        CHECK(mapped == cases[i].mapped);
    }
    CHECK(pb_maps_has(m, PB_MAP_ATTRIBUTE) && !pb_maps_has(m, PB_MAP_VENDOR));
    pb_maps_free(m);
}

struct seen {
    char text[512];
};

static void
collect(void *user, const char *field, const char *value, unsigned long count)
{
    struct seen *s = user;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s=%s(%lu);", field, value, count);
}

static void
test_case_insensitive_override_and_unmapped(void)
{
    struct pb_maps *m = pb_maps_new(1);
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_maps_load(m, table("b.csv", "field,from,to\nattribute,ROSE,Red\n"), &e) == 0);
    CHECK(pb_maps_load(m, table("c.csv", "field,from,to\nattribute,rose,Pink\n"), &e) == 0);
    int mapped;
    CHECK_STR(apply(m, PB_MAP_ATTRIBUTE, "Rose", &mapped), "Pink"); /* the later table wins */
    apply(m, PB_MAP_ATTRIBUTE, "Kiwi", &mapped);
    apply(m, PB_MAP_ATTRIBUTE, "Aqua", &mapped);
    apply(m, PB_MAP_ATTRIBUTE, "kiwi", &mapped);
    apply(m, PB_MAP_SIZE, "L", &mapped); /* no size rows: not listed as unmapped */
    struct seen s = {""};
    pb_maps_unmapped(m, collect, &s);
    CHECK_STR(s.text, "attribute=kiwi(2);attribute=aqua(1);");
    pb_maps_free(m);
}

static void
test_bad_tables(void)
{
    static const struct {
        const char *text;
        long line;
    } cases[] = {
        {"field,from,to\ncolour,Rose,Red\n", 2},
        {"field,from,to\nattribute,Rose,Red\nsize,S,Small,extra\n", 3},
        {"from,to\nRose,Red\n", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_maps *m = pb_maps_new(0);
        struct pb_error e;
        pb_error_init(&e);
        CHECK(pb_maps_load(m, table("bad.csv", cases[i].text), &e) < 0);
        CHECK(e.code == PB_ECONFIG);
        CHECK(e.line == cases[i].line);
        pb_maps_free(m);
    }
    struct pb_maps *m = pb_maps_new(0);
    struct pb_error e;
    pb_error_init(&e);
    CHECK(pb_maps_load(m, "/nonexistent/maps.csv", &e) < 0 && e.code == PB_ECONFIG);
    pb_maps_free(m);
}

int
main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_exact_and_defaults);
    RUN(test_case_insensitive_override_and_unmapped);
    RUN(test_bad_tables);
    pb_rmtree(dir);
    return check_summary();
}
