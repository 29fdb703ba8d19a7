/* Batches: built in a temp directory, published with one rename, reopened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/err.h"

static char tmpdir[] = "/tmp/pb-test-batch-XXXXXX";

#define NOW 1795809600 /* 2026-11-27T20:00:00Z */

static const char *
in_tmp(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static int
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
test_create_publish_open(void)
{
    struct pb_batch b, o;
    struct pb_error err;
    pb_error_init(&err);
    char batches[256];
    snprintf(batches, sizeof(batches), "%s", in_tmp("batches"));
    CHECK(pb_batch_create(&b, batches, NULL, "catalog", NOW, &err) == 0);
    CHECK_STR(b.id, "20261127T200000Z-catalog");
    CHECK(b.final_dir && strcmp(b.final_dir, in_tmp("batches/20261127T200000Z-catalog")) == 0);
    CHECK(b.dir && strstr(b.dir, "/batches/.tmp-") != NULL);
    CHECK(is_dir(b.dir));
    CHECK(!is_dir(b.final_dir));
    /* an input, a stage with an output */
    char input[256];
    snprintf(input, sizeof(input), "%s", in_tmp("input.xml"));
    CHECK(pb_atomic_write(input, "abc", 3, &err) == 0);
    CHECK(pb_batch_add_input(&b, input, &err) == 0);
    json_t *st = pb_batch_stage(&b, "export");
    CHECK(st != NULL);
    CHECK(pb_batch_stage(&b, "export") == st); /* the same record */
    CHECK(pb_batch_add_output(st, "items.csv", "00ff", 42, &err) == 0);
    json_object_set_new(st, "rejected", json_integer(2));
    char *f = pb_batch_file(&b, "items.csv");
    CHECK(f && strncmp(f, b.dir, strlen(b.dir)) == 0);
    CHECK(pb_atomic_write(f, "x\n", 2, &err) == 0);
    free(f);
    char *tmp = strdup(b.dir);
    CHECK(pb_batch_publish(&b, &err) == 0);
    CHECK(!is_dir(tmp));
    free(tmp);
    CHECK(b.final_dir == NULL);
    CHECK_STR(b.dir, in_tmp("batches/20261127T200000Z-catalog"));
    pb_batch_release(&b);
    CHECK(is_dir(in_tmp("batches/20261127T200000Z-catalog"))); /* published: kept */

    /* reopen and read the manifest back */
    CHECK(pb_batch_open(&o, in_tmp("batches/20261127T200000Z-catalog"), &err) == 0);
    CHECK_STR(o.id, "20261127T200000Z-catalog");
    json_t *m = o.manifest;
    CHECK_STR(json_string_value(json_object_get(m, "kind")), "catalog");
    CHECK_STR(json_string_value(json_object_get(m, "created")), "2026-11-27T20:00:00Z");
    json_t *in = json_array_get(json_object_get(m, "inputs"), 0);
    CHECK_STR(json_string_value(json_object_get(in, "path")), input);
    CHECK(json_integer_value(json_object_get(in, "bytes")) == 3);
    CHECK_STR(json_string_value(json_object_get(in, "blake3")),
              "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
    json_t *ex = json_object_get(json_object_get(m, "stages"), "export");
    json_t *out = json_array_get(json_object_get(ex, "outputs"), 0);
    CHECK_STR(json_string_value(json_object_get(out, "path")), "items.csv");
    CHECK(json_integer_value(json_object_get(out, "records")) == 42);
    CHECK(json_integer_value(json_object_get(ex, "rejected")) == 2);
    pb_batch_release(&o);
    CHECK(is_dir(in_tmp("batches/20261127T200000Z-catalog"))); /* opened: kept */

    /* the same second again: a new id */
    CHECK(pb_batch_create(&b, batches, NULL, "catalog", NOW, &err) == 0);
    CHECK_STR(b.id, "20261127T200000Z-catalog-2");
    char *t2 = strdup(b.dir);
    pb_batch_release(&b); /* never published: removed */
    CHECK(!is_dir(t2));
    free(t2);
    pb_rmtree(batches);
}

static void
test_out_dir(void)
{
    struct pb_batch b;
    struct pb_error err;
    /* a fresh path: created under its parent (made as needed) */
    pb_error_init(&err);
    char out[256];
    snprintf(out, sizeof(out), "%s", in_tmp("deep/parent/run1"));
    CHECK(pb_batch_create(&b, NULL, out, "catalog", NOW, &err) == 0);
    CHECK_STR(b.id, "run1");
    CHECK(pb_batch_publish(&b, &err) == 0);
    CHECK(is_dir(out));
    pb_batch_release(&b);
    /* an existing non-empty directory is refused */
    pb_error_init(&err);
    CHECK(pb_batch_create(&b, NULL, out, "catalog", NOW, &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK(strstr(err.msg, "already exists") != NULL);
    pb_batch_release(&b);
    /* an existing empty directory is accepted and replaced */
    char empty[256];
    snprintf(empty, sizeof(empty), "%s", in_tmp("empty-out"));
    CHECK(mkdir(empty, 0755) == 0);
    pb_error_init(&err);
    CHECK(pb_batch_create(&b, NULL, empty, "catalog", NOW, &err) == 0);
    CHECK(pb_batch_publish(&b, &err) == 0);
    char *mf = pb_batch_file(&b, "manifest.json");
    struct stat st;
    CHECK(mf && stat(mf, &st) == 0);
    free(mf);
    pb_batch_release(&b);
    /* a file in the way */
    char file[256];
    snprintf(file, sizeof(file), "%s", in_tmp("a-file"));
    CHECK(pb_atomic_write(file, "x", 1, &err) == 0);
    pb_error_init(&err);
    CHECK(pb_batch_create(&b, NULL, file, "catalog", NOW, &err) == -1);
    pb_batch_release(&b);
    pb_rmtree(in_tmp("deep"));
    pb_rmtree(empty);
    unlink(file);
}

static void
test_open_errors(void)
{
    struct pb_batch b;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_batch_open(&b, in_tmp("nothing-here"), &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    pb_batch_release(&b);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", in_tmp("broken"));
    CHECK(mkdir(dir, 0755) == 0);
    CHECK(pb_atomic_write(in_tmp("broken/manifest.json"), "{\"id\": \"x\",\n\"id\": 1}\n", 22,
                          &err) == 0);
    pb_error_init(&err);
    CHECK(pb_batch_open(&b, dir, &err) == -1);
    CHECK(err.code == PB_EDATA);
    CHECK(err.line == 2);
    CHECK(strstr(err.file, "manifest.json") != NULL);
    pb_batch_release(&b);
    pb_rmtree(dir);
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_create_publish_open);
    RUN(test_out_dir);
    RUN(test_open_errors);
    pb_rmtree(tmpdir);
    return check_summary();
}
