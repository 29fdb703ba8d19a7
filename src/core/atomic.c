/*
 * Atomic file output and temp-file bookkeeping.  See include/posbridge/atomic.h.
 */
#define _GNU_SOURCE
#include "posbridge/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/banned.h"

/* Live temp files.  Fixed size, so the signal handler needs no allocation. */
#define MAX_LIVE 64
static char *live_files[MAX_LIVE];
static char *live_dirs[MAX_LIVE];
static volatile sig_atomic_t handlers_installed;
/* Stages may open outputs from several threads (transform builds stores side by side). */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;

static void
track(char **list, char *p)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (!list[i]) {
            list[i] = p;
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

static void
untrack(char **list, const char *p)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (list[i] == p || (list[i] && p && strcmp(list[i], p) == 0)) {
            list[i] = NULL;
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

static void
cleanup_files(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live_files[i])
            unlink(live_files[i]);
}

static void
at_exit(void)
{
    cleanup_files();
    for (int i = 0; i < MAX_LIVE; i++)
        if (live_dirs[i]) {
            pb_rmtree(live_dirs[i]);
            free(live_dirs[i]);
            live_dirs[i] = NULL;
        }
}

static void
on_signal(int sig)
{
    cleanup_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

void
pb_atomic_install_handlers(void)
{
    if (handlers_installed)
        return;
    handlers_installed = 1;
    atexit(at_exit);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int
pb_fsync_dir(const char *dir, struct pb_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(err, PB_EIO, errno, "cannot open directory '%s'", dir);
    if (fsync(fd) < 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return pb_error_sys(err, PB_EIO, e, "cannot sync directory '%s'", dir);
    }
    close(fd);
    return 0;
}

int
pb_atomic_open(const char *path, int mode, struct pb_atomic *af, struct pb_error *err)
{
    struct pb_buf tmp = PB_BUF_INIT;
    memset(af, 0, sizeof(*af));
    pb_atomic_install_handlers();
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (pb_buf_add(&tmp, path, (size_t)(base - path)) < 0 ||
        pb_buf_addf(&tmp, ".tmp-%s-XXXXXX", base) < 0) {
        pb_buf_release(&tmp);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    int fd = -1;
#ifdef O_TMPFILE
    char *dir = dir_of(path);
    if (dir)
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    free(dir);
    af->anon = fd >= 0;
#endif
    if (fd < 0)
        fd = mkostemp(tmp.data, O_CLOEXEC);
    if (fd < 0) {
        pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create '%s'", path);
        pb_buf_release(&tmp);
        return -1;
    }
    fchmod(fd, (mode_t)mode);
    af->tmp = pb_buf_detach(&tmp, NULL);
    af->path = strdup(path);
    af->fp = fdopen(fd, "w");
    if (!af->fp || !af->path || !af->tmp) {
        if (!af->fp)
            close(fd);
        pb_atomic_abort(af);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    if (!af->anon)
        track(live_files, af->tmp);
    return 0;
}

/* Give the unnamed file of af its temp name (the pattern's XXXXXX made unique). */
static int
link_anon(struct pb_atomic *af)
{
    static unsigned long seq;
    size_t n = strlen(af->tmp);
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(af->fp));
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long x = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 20) ^
                          __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED) * 0x9e3779b9ul;
        for (size_t i = n - 6; i < n; i++, x /= 36)
            af->tmp[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[x % 36];
        if (linkat(AT_FDCWD, proc, AT_FDCWD, af->tmp, AT_SYMLINK_FOLLOW) == 0 ||
            (errno == ENOENT &&
             linkat(fileno(af->fp), "", AT_FDCWD, af->tmp, AT_EMPTY_PATH) == 0))
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static void
af_free(struct pb_atomic *af)
{
    if (af->tmp && !af->anon)
        untrack(live_files, af->tmp);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof(*af));
}

void
pb_atomic_abort(struct pb_atomic *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->tmp && !af->anon)
        unlink(af->tmp);
    af_free(af);
}

int
pb_atomic_commit(struct pb_atomic *af, struct pb_error *err)
{
    int rc = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) {
        rc = pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", af->path);
    } else if (fsync(fileno(af->fp)) < 0) {
        rc = pb_error_sys(err, PB_EIO, errno, "cannot sync '%s'", af->path);
    } else if (af->anon) {
        if (link_anon(af) < 0)
            rc = pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create '%s'", af->path);
        else
            af->anon = 0; /* named now: removed below if the rename fails */
    }
    int cr = fclose(af->fp);
    af->fp = NULL;
    if (rc == 0 && cr != 0)
        rc = pb_error_sys(err, PB_EIO, errno, "cannot close '%s'", af->path);
    if (rc == 0 && rename(af->tmp, af->path) < 0)
        rc = pb_error_sys(err, PB_ECANTCREAT, errno, "cannot rename to '%s'", af->path);
    if (rc < 0) {
        if (!af->anon)
            unlink(af->tmp);
        af_free(af);
        return -1;
    }
    char *dir = dir_of(af->path);
    if (dir)
        rc = pb_fsync_dir(dir, err);
    free(dir);
    af_free(af);
    return rc;
}

int
pb_atomic_write(const char *path, const void *data, size_t len, struct pb_error *err)
{
    struct pb_atomic af;
    if (pb_atomic_open(path, 0644, &af, err) < 0)
        return -1;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", path);
        pb_atomic_abort(&af);
        return -1;
    }
    return pb_atomic_commit(&af, err);
}

int
pb_mkdirs(const char *path, int mode, struct pb_error *err)
{
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_adds(&b, path) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    for (char *p = b.data + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(b.data, (mode_t)mode) < 0 && errno != EEXIST) {
                pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create directory '%s'",
                             b.data);
                pb_buf_release(&b);
                return -1;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    pb_buf_release(&b);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return pb_error_set(err, PB_ECANTCREAT, "'%s' is not a directory", path);
    return 0;
}

void
pb_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct pb_buf p = PB_BUF_INIT;
        if (pb_buf_addf(&p, "%s/%s", path, e->d_name) == 0) {
            struct stat st;
            if (lstat(p.data, &st) == 0 && S_ISDIR(st.st_mode))
                pb_rmtree(p.data);
            else
                unlink(p.data);
        }
        pb_buf_release(&p);
    }
    closedir(d);
    rmdir(path);
}

char *
pb_tmpdir_make(const char *parent, const char *tag, struct pb_error *err)
{
    struct pb_buf b = PB_BUF_INIT;
    pb_atomic_install_handlers();
    if (pb_buf_addf(&b, "%s/.tmp-%ld-%s-XXXXXX", parent, (long)getpid(), tag) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    if (!mkdtemp(b.data)) {
        pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create a directory in '%s'", parent);
        pb_buf_release(&b);
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    chmod(b.data, 0777 & ~mask);
    char *p = pb_buf_detach(&b, NULL);
    char *copy = strdup(p);
    if (copy)
        track(live_dirs, copy);
    return p;
}

int
pb_tmpdir_publish(const char *tmp, const char *path, struct pb_error *err)
{
    /* rename(2) replaces an empty directory silently; refuse any existing path. */
    if (access(path, F_OK) == 0)
        return pb_error_set(err, PB_ECANTCREAT, "'%s' already exists", path);
    if (rename(tmp, path) < 0)
        return pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create '%s'", path);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live_dirs[i] && strcmp(live_dirs[i], tmp) == 0) {
            free(live_dirs[i]);
            live_dirs[i] = NULL;
        }
    char *dir = dir_of(path);
    int rc = dir ? pb_fsync_dir(dir, err) : 0;
    free(dir);
    return rc;
}

int
pb_tmpdir_replace(const char *tmp, const char *path, struct pb_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return pb_tmpdir_publish(tmp, path, err);
    if (!S_ISDIR(st.st_mode))
        return pb_error_set(err, PB_ECANTCREAT, "'%s' exists and is not a directory", path);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0)
        return pb_error_sys(err, PB_ECANTCREAT, errno, "cannot replace '%s'", path);
    char *dir = dir_of(path);
    int rc = dir ? pb_fsync_dir(dir, err) : 0;
    free(dir);
    pb_tmpdir_remove(tmp); /* the old directory, under the temp name now */
    return rc;
}

void
pb_tmpdir_remove(const char *tmp)
{
    pb_rmtree(tmp);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live_dirs[i] && strcmp(live_dirs[i], tmp) == 0) {
            free(live_dirs[i]);
            live_dirs[i] = NULL;
        }
}

void
pb_tmpdir_sweep(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + 5, &end, 10);
        if (end == e->d_name + 5 || *end != '-' || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct pb_buf p = PB_BUF_INIT;
        if (pb_buf_addf(&p, "%s/%s", parent, e->d_name) == 0)
            pb_rmtree(p.data);
        pb_buf_release(&p);
    }
    closedir(d);
}

static int
cmp_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

char **
pb_dir_list(const char *dir, int dirs, const char *suffix1, const char *suffix2)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = pb_path_join(dir, de->d_name);
        struct stat st;
        int ok = p && stat(p, &st) == 0 &&
                 (dirs == 2   ? S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)
                  : dirs == 1 ? S_ISDIR(st.st_mode)
                              : S_ISREG(st.st_mode));
        free(p);
        size_t len = strlen(de->d_name);
        if (ok && suffix1) {
            size_t a = strlen(suffix1), b = suffix2 ? strlen(suffix2) : 0;
            ok = (len > a && !strcmp(de->d_name + len - a, suffix1)) ||
                 (suffix2 && len > b && !strcmp(de->d_name + len - b, suffix2));
        }
        if (!ok)
            continue;
        if (n + 1 >= cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        if ((v[n] = strdup(de->d_name)))
            n++;
        v[n] = NULL;
    }
    if (d)
        closedir(d);
    if (v)
        qsort(v, n, sizeof(*v), cmp_name);
    return v;
}

void
pb_dir_list_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}
