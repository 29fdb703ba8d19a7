/* Atomic files and temp directories: commit, abort, publish, sweep. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/atomic.h"
#include "posbridge/err.h"

static char tmpdir[] = "/tmp/pb-test-atomic-XXXXXX";

static const char *
in_tmp(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* Names in dir other than . and .., as one sorted-insensitive count plus a prefix count. */
static int
count_entries(const char *dir, const char *prefix)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!prefix || strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *s = calloc(1, 4096);
    if (s)
        fread(s, 1, 4095, fp);
    fclose(fp);
    return s;
}

static int
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void
test_commit(void)
{
    struct pb_atomic af;
    struct pb_error err;
    const char *path = in_tmp("out.txt");
    pb_error_init(&err);
    CHECK(pb_atomic_open(path, 0640, &af, &err) == 0);
    CHECK(af.fp != NULL && af.tmp != NULL && af.path != NULL);
    CHECK_STR(af.path, path);
    CHECK(strncmp(af.tmp, tmpdir, strlen(tmpdir)) == 0); /* same directory */
    CHECK(strstr(af.tmp, "/.tmp-out.txt-") != NULL);
    /* Nothing visible before the commit: on this filesystem, not even the temp file. */
    CHECK(af.anon ? !exists(af.tmp) && count_entries(tmpdir, NULL) == 0 : exists(af.tmp));
    CHECK(!exists(path));
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", af.tmp);
    fputs("hello\n", af.fp);
    CHECK(pb_atomic_commit(&af, &err) == 0);
    CHECK(err.code == PB_OK);
    char *s = slurp(path);
    CHECK_STR(s, "hello\n");
    free(s);
    CHECK(!exists(tmp));
    CHECK(count_entries(tmpdir, ".tmp-") == 0);
    CHECK(af.fp == NULL && af.tmp == NULL && af.path == NULL);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    /* replacing: the old content until the commit, the new after */
    CHECK(pb_atomic_open(path, 0644, &af, &err) == 0);
    fputs("new", af.fp);
    fflush(af.fp);
    s = slurp(path);
    CHECK_STR(s, "hello\n");
    free(s);
    CHECK(pb_atomic_commit(&af, &err) == 0);
    s = slurp(path);
    CHECK_STR(s, "new");
    free(s);
    unlink(path);
}

/* A process killed before its commit leaves nothing behind where the filesystem can
 * keep the file nameless (tmpfs and ext4 can), and its temp file elsewhere. */
static void
test_killed(void)
{
    const char *path = in_tmp("killed.txt");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct pb_atomic af;
        struct pb_error err;
        pb_error_init(&err);
        if (pb_atomic_open(path, 0644, &af, &err) < 0)
            _exit(2);
        fputs("half of it", af.fp);
        fflush(af.fp);
        _exit(af.anon ? 0 : 1); /* as a kill -9 would: no handler, no cleanup */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK(!exists(path));
    struct statfs fs;
    if (statfs(tmpdir, &fs) == 0 && (fs.f_type == 0xEF53 /* ext2-4 */ ||
                                     fs.f_type == 0x01021994 /* tmpfs */ ||
                                     fs.f_type == 0x58465342 /* xfs */))
        CHECK(WEXITSTATUS(status) == 0); /* these keep files nameless */
    if (WEXITSTATUS(status) == 0)
        CHECK(count_entries(tmpdir, NULL) == 0);
    else
        CHECK(count_entries(tmpdir, ".tmp-killed.txt-") == 1);
    /* what is left is cleared by hand in the named case */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, ".tmp-killed.txt-", 16))
            unlink(in_tmp(e->d_name));
    if (d)
        closedir(d);
}

static void
test_abort(void)
{
    struct pb_atomic af;
    struct pb_error err;
    const char *path = in_tmp("aborted.txt");
    pb_error_init(&err);
    CHECK(pb_atomic_open(path, 0644, &af, &err) == 0);
    fputs("never seen", af.fp);
    pb_atomic_abort(&af);
    CHECK(!exists(path));
    CHECK(count_entries(tmpdir, ".tmp-") == 0);
    pb_atomic_abort(&af); /* an ended af */
    struct pb_atomic zero;
    memset(&zero, 0, sizeof(zero));
    pb_atomic_abort(&zero); /* a zeroed af */
    /* abort leaves an existing file as it was */
    CHECK(pb_atomic_write(path, "kept", 4, &err) == 0);
    CHECK(pb_atomic_open(path, 0644, &af, &err) == 0);
    fputs("discarded", af.fp);
    pb_atomic_abort(&af);
    char *s = slurp(path);
    CHECK_STR(s, "kept");
    free(s);
    unlink(path);
    CHECK(count_entries(tmpdir, NULL) == 0);
}

static void
test_write_and_errors(void)
{
    struct pb_error err;
    const char *path = in_tmp("whole.bin");
    pb_error_init(&err);
    CHECK(pb_atomic_write(path, "a\0b", 3, &err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 3);
    CHECK(pb_atomic_write(path, "", 0, &err) == 0);
    CHECK(stat(path, &st) == 0 && st.st_size == 0);
    unlink(path);
    /* a directory that does not exist */
    struct pb_atomic af;
    pb_error_init(&err);
    CHECK(pb_atomic_open(in_tmp("no/such/dir/f"), 0644, &af, &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK(err.sys_errno == ENOENT);
    CHECK(af.fp == NULL && af.tmp == NULL);
    /* committing onto a directory fails, and leaves no temp file */
    CHECK(mkdir(in_tmp("adir"), 0755) == 0);
    CHECK(mkdir(in_tmp("adir/sub"), 0755) == 0);
    pb_error_init(&err);
    CHECK(pb_atomic_open(in_tmp("adir/sub"), 0644, &af, &err) == 0);
    fputs("x", af.fp);
    CHECK(pb_atomic_commit(&af, &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK(count_entries(in_tmp("adir"), ".tmp-") == 0);
    pb_rmtree(in_tmp("adir"));
    CHECK(!exists(in_tmp("adir")));
    CHECK(pb_fsync_dir(tmpdir, &err) == 0 || err.code != PB_OK);
}

static void
test_mkdirs(void)
{
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_mkdirs(in_tmp("a/b/c"), 0755, &err) == 0);
    CHECK(exists(in_tmp("a/b/c")));
    CHECK(pb_mkdirs(in_tmp("a/b/c"), 0755, &err) == 0); /* already there */
    CHECK(pb_mkdirs(in_tmp("a/b/c/"), 0755, &err) == 0);
    FILE *fp = fopen(in_tmp("a/file"), "w");
    if (fp)
        fclose(fp);
    pb_error_init(&err);
    CHECK(pb_mkdirs(in_tmp("a/file"), 0755, &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    pb_error_init(&err);
    CHECK(pb_mkdirs(in_tmp("a/file/below"), 0755, &err) == -1);
    pb_rmtree(in_tmp("a"));
    CHECK(!exists(in_tmp("a")));
}

static void
test_tmpdir(void)
{
    struct pb_error err;
    pb_error_init(&err);
    char *t = pb_tmpdir_make(tmpdir, "batch", &err);
    CHECK(t != NULL);
    if (!t)
        return;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "/.tmp-%ld-batch-", (long)getpid());
    CHECK(strstr(t, prefix) != NULL);
    struct stat st;
    CHECK(stat(t, &st) == 0 && S_ISDIR(st.st_mode));
    /* put something inside, publish */
    char f[300];
    snprintf(f, sizeof(f), "%s/manifest.json", t);
    CHECK(pb_atomic_write(f, "{}", 2, &err) == 0);
    const char *final = in_tmp("published");
    CHECK(pb_tmpdir_publish(t, final, &err) == 0);
    CHECK(!exists(t));
    char *s = slurp(in_tmp("published/manifest.json"));
    CHECK_STR(s, "{}");
    free(s);
    free(t);

    /* publishing onto an existing path fails (an empty directory, or a file) and keeps
     * both sides */
    t = pb_tmpdir_make(tmpdir, "two", &err);
    CHECK(t != NULL);
    CHECK(mkdir(in_tmp("empty-target"), 0755) == 0);
    pb_error_init(&err);
    CHECK(pb_tmpdir_publish(t, in_tmp("empty-target"), &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK(strstr(err.msg, "already exists") != NULL);
    CHECK(exists(t));
    pb_error_init(&err);
    CHECK(pb_tmpdir_publish(t, in_tmp("published"), &err) == -1);
    CHECK(err.code == PB_ECANTCREAT);
    CHECK(exists(in_tmp("published/manifest.json")));
    /* remove: gone now */
    pb_tmpdir_remove(t);
    CHECK(!exists(t));
    free(t);

    /* a parent that does not exist */
    pb_error_init(&err);
    CHECK(pb_tmpdir_make(in_tmp("nope"), "x", &err) == NULL);
    CHECK(err.code == PB_ECANTCREAT);
    pb_rmtree(in_tmp("published"));
    rmdir(in_tmp("empty-target"));
}

/* Sweep removes temp dirs of dead processes only. */
static void
test_sweep(void)
{
    struct pb_error err;
    pb_error_init(&err);
    char *mine = pb_tmpdir_make(tmpdir, "live", &err);
    CHECK(mine != NULL);
    /* a pid that cannot be running: above the kernel's pid_max */
    const char *dead = in_tmp(".tmp-99999999-old-abc123");
    CHECK(pb_mkdirs(dead, 0755, &err) == 0);
    char f[300];
    snprintf(f, sizeof(f), "%s/file", dead);
    CHECK(pb_atomic_write(f, "x", 1, &err) == 0);
    const char *other = in_tmp(".tmp-notapid-x");
    CHECK(mkdir(other, 0755) == 0);
    const char *plain = in_tmp("keep-me");
    CHECK(mkdir(plain, 0755) == 0);
    pb_tmpdir_sweep(tmpdir);
    CHECK(!exists(dead));
    CHECK(mine && exists(mine));
    CHECK(exists(other));
    CHECK(exists(plain));
    pb_tmpdir_remove(mine);
    free(mine);
    rmdir(other);
    rmdir(plain);
    pb_tmpdir_sweep(in_tmp("does-not-exist"));
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_commit);
    RUN(test_abort);
    RUN(test_killed);
    RUN(test_write_and_errors);
    RUN(test_mkdirs);
    RUN(test_tmpdir);
    RUN(test_sweep);
    int left = count_entries(tmpdir, NULL);
    if (left)
        printf("# %d entries left in %s\n", left, tmpdir);
    pb_rmtree(tmpdir);
    return check_summary();
}
