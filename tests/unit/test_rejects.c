/* rejects.csv: opened on the first reject, one row per refused record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"
#include "posbridge/rejects.h"

static char tmpdir[] = "/tmp/pb-test-rejects-XXXXXX";

static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *s = calloc(1, 8192);
    if (s && fread(s, 1, 8191, fp) == 0)
        s[0] = '\0';
    fclose(fp);
    return s;
}

static void
test_rows(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/rejects.csv", tmpdir);
    struct pb_rejects rj;
    struct pb_error err, why;
    struct pb_rec raw;
    pb_error_init(&err);
    CHECK(pb_rejects_init(&rj, path, "export", &err) == 0);
    CHECK(pb_rec_init(&raw, &pb_schema_items, &err) == 0);
    CHECK(pb_rec_set(&raw, PB_ITEMS_ITEM_NUMBER, "1", 1) == 0);
    CHECK(pb_rec_set(&raw, PB_ITEMS_PRICE1, "12.3x", 5) == 0);
    raw.file = "raw.xml";
    pb_error_init(&why);
    pb_error_at(&why, PB_EDATA, "items.xml", 12, 3, 11, "price1", "not a number: '12.3x'");
    CHECK(pb_rejects_add(&rj, &why, &raw, &err) == 0);
    /* no file name in the error: the record's; no position: empty cells */
    pb_error_init(&why);
    pb_error_set(&why, PB_EDATA, "=cmd|' /C calc'!A0");
    CHECK(pb_rejects_add(&rj, &why, &raw, &err) == 0);
    /* no record at all */
    pb_error_init(&why);
    pb_error_at(&why, PB_EDATA, "doc.xml", 4, 1, -1, NULL, "QBPOS status 3250");
    CHECK(pb_rejects_add(&rj, &why, NULL, &err) == 0);
    CHECK(rj.count == 3);
    char digest[65], want[65];
    CHECK(pb_rejects_commit(&rj, digest, &err) == 0);
    CHECK(pb_digest_file(path, want, NULL, &err) == 0);
    CHECK_STR(digest, want);
    char *s = slurp(path);
    CHECK_STR(s, "\xef\xbb\xbfstage,source,line,column,record,field,reason,data\n"
                 "export,items.xml,12,3,11,price1,not a number: '12.3x',"
                 "\"{\"\"item_number\"\":\"\"1\"\",\"\"price1\"\":\"\"12.3x\"\"}\"\n"
                 "export,raw.xml,,,,,'=cmd|' /C calc'!A0,"
                 "\"{\"\"item_number\"\":\"\"1\"\",\"\"price1\"\":\"\"12.3x\"\"}\"\n"
                 "export,doc.xml,4,1,,,QBPOS status 3250,\n");
    free(s);
    pb_rejects_release(&rj);
    pb_rec_release(&raw);
    unlink(path);
}

/* A clean run leaves no file; release without commit leaves nothing. */
static void
test_clean(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/none.csv", tmpdir);
    struct pb_rejects rj;
    struct pb_error err, why;
    pb_error_init(&err);
    CHECK(pb_rejects_init(&rj, path, "validate", &err) == 0);
    char digest[65] = "x";
    CHECK(pb_rejects_commit(&rj, digest, &err) == 0);
    CHECK_STR(digest, "");
    struct stat st;
    CHECK(stat(path, &st) == -1);
    pb_rejects_release(&rj);
    CHECK(pb_rejects_init(&rj, path, "validate", &err) == 0);
    pb_error_init(&why);
    pb_error_set(&why, PB_EDATA, "bad");
    CHECK(pb_rejects_add(&rj, &why, NULL, &err) == 0);
    pb_rejects_release(&rj); /* aborted */
    CHECK(stat(path, &st) == -1);
    /* a directory that does not exist: the first add fails */
    snprintf(path, sizeof(path), "%s/no/such/rejects.csv", tmpdir);
    CHECK(pb_rejects_init(&rj, path, "validate", &err) == 0);
    CHECK(pb_rejects_add(&rj, &why, NULL, &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    pb_rejects_release(&rj);
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_rows);
    RUN(test_clean);
    pb_rmtree(tmpdir);
    return check_summary();
}
