/*
 * A standalone driver for the libFuzzer harnesses, so `make check` runs them under the
 * sanitizers without libFuzzer: each file named (a directory: each file in it) once, then
 * inputs made from them by random edits, and random bytes, until the time or the count
 * runs out.  The same seed gives the same inputs.  Ends with "ok - NAME (N inputs)"; a
 * finding aborts, and the input is left in NAME-failure.bin in the working directory.
 *
 * Usage: driver [-n RUNS] [-s SEED] [-t SECONDS] NAME PATH...
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX 65536

static const uint8_t *cur;
static size_t cur_len;
static char failure[300];

static void
on_abort(int sig)
{
    int fd = open(failure, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, cur, cur_len);
        (void)w;
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t rng;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct input {
    uint8_t *p;
    size_t n;
};

static struct input *seeds;
static size_t nseeds;

static void
add_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return;
    uint8_t *p = malloc(INPUT_MAX);
    size_t n = p ? fread(p, 1, INPUT_MAX, fp) : 0;
    fclose(fp);
    struct input *s = realloc(seeds, (nseeds + 1) * sizeof(*s));
    if (!p || !s) {
        free(p);
        return;
    }
    seeds = s;
    seeds[nseeds].p = p;
    seeds[nseeds++].n = n;
}

static void
add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **v = realloc(names, (n + 1) * sizeof(*v));
        if (!v)
            break;
        names = v;
        size_t k = strlen(path) + strlen(e->d_name) + 2;
        if ((names[n] = malloc(k)))
            snprintf(names[n++], k, "%s/%s", path, e->d_name);
    }
    if (d)
        closedir(d);
    /* readdir order is the file system's: sort, so a seed replays the same way anywhere */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        add_file(names[i]);
        free(names[i]);
    }
    free(names);
}

static void
run(const uint8_t *p, size_t n)
{
    cur = p;
    cur_len = n;
    LLVMFuzzerTestOneInput(p, n);
}

/* Bytes that matter to the parsers under test, more often than the rest. */
static uint8_t
some_byte(void)
{
    static const uint8_t hot[] = ",\"\n\r \t'x0=-.:{}[]<>&;\\\xef\xbb\xbf\xc3\xa9\x80\xff";
    uint64_t r = next();
    return r % 4 ? hot[(r >> 8) % (sizeof(hot) - 1)] : (uint8_t)(r >> 16);
}

static size_t
mutate(uint8_t *p, size_t n)
{
    int edits = 1 + (int)(next() % 8);
    for (int k = 0; k < edits; k++) {
        size_t at = n ? next() % n : 0;
        switch (next() % 6) {
        case 0: /* change a byte */
            if (n)
                p[at] = some_byte();
            break;
        case 1: /* insert one */
            if (n < INPUT_MAX) {
                memmove(p + at + 1, p + at, n - at);
                p[at] = some_byte();
                n++;
            }
            break;
        case 2: /* delete a run */
            if (n) {
                size_t k2 = 1 + next() % 16;
                if (k2 > n - at)
                    k2 = n - at;
                memmove(p + at, p + at + k2, n - at - k2);
                n -= k2;
            }
            break;
        case 3: /* repeat a run */
            if (n) {
                size_t k2 = 1 + next() % 64;
                if (k2 > n - at)
                    k2 = n - at;
                if (n + k2 <= INPUT_MAX) {
                    memmove(p + at + k2, p + at, n - at);
                    n += k2;
                }
            }
            break;
        case 4: /* cut the end off */
            n = at;
            break;
        default: /* new leading bytes: the harnesses read options from them */
            if (n)
                p[0] = (uint8_t)next();
            if (n > 2)
                p[1] = (uint8_t)next(), p[2] = (uint8_t)next();
        }
    }
    return n;
}

int
main(int argc, char **argv)
{
    double seconds = 10;
    long runs = -1;
    int opt;
    rng = 0x9e3779b97f4a7c15ull;
    while ((opt = getopt(argc, argv, "n:s:t:")) != -1) {
        switch (opt) {
        case 'n': runs = strtol(optarg, NULL, 10); break;
        case 's': rng = strtoull(optarg, NULL, 10) * 2654435761u + 1; break;
        case 't': seconds = strtod(optarg, NULL); break;
        default:
            fprintf(stderr, "usage: driver [-n RUNS] [-s SEED] [-t SECONDS] NAME PATH...\n");
            return 64;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: driver [-n RUNS] [-s SEED] [-t SECONDS] NAME PATH...\n");
        return 64;
    }
    const char *name = argv[optind++];
    snprintf(failure, sizeof(failure), "%s-failure.bin", name);
    signal(SIGABRT, on_abort);
    for (int i = optind; i < argc; i++)
        add_path(argv[i]);
    long done = 0;
    for (size_t i = 0; i < nseeds; i++, done++)
        run(seeds[i].p, seeds[i].n);
    uint8_t *buf = malloc(INPUT_MAX);
    if (!buf)
        return 71;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;; done++) {
        if (runs >= 0 && done >= runs)
            break;
        if ((done & 63) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 >=
                seconds)
                break;
        }
        size_t n;
        if (nseeds && next() % 4) {
            const struct input *s = &seeds[next() % nseeds];
            memcpy(buf, s->p, s->n);
            n = mutate(buf, s->n);
        } else {
            n = next() % 512;
            for (size_t k = 0; k < n; k++)
                buf[k] = some_byte();
        }
        run(buf, n);
    }
    printf("ok - %s (%ld inputs)\n", name, done);
    free(buf);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].p);
    free(seeds);
    return 0;
}
