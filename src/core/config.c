/* Loading the INI configuration with libinih, counting lines for error messages. */
#include "posbridge/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/banned.h"

struct load {
    struct pb_config *cfg;
    struct pb_error *err;
    FILE *fp;
    long line;
    char *dir; /* directory of the config file, for relative paths */
};

static char *
reader(char *str, int num, void *stream)
{
    struct load *ld = stream;
    char *r = fgets(str, num, ld->fp);
    if (r)
        ld->line++;
    return r;
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
    if (pb_buf_addf(&b, "%s/%s", ld->dir, v) < 0)
        return -1;
    free(*dst);
    *dst = pb_buf_detach(&b, NULL);
    return *dst ? 0 : -1;
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
bad(struct load *ld, const char *section, const char *key, const char *why)
{
    pb_error_at(ld->err, PB_ECONFIG, ld->cfg->path, ld->line, -1, -1, NULL,
                "[%s] %s: %s", section, key, why);
    return 0; /* stop parsing */
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
    struct load *ld = user;
    struct pb_config *c = ld->cfg;
    if (!key) /* a section header alone */
        return 1;
    if (strcmp(section, "general") == 0) {
        if (!strcmp(key, "home")) {
            if (!*value)
                return bad(ld, section, key, "must not be empty");
            if (set_path(ld, &c->home, value) < 0)
                return bad(ld, section, key, "out of memory");
        } else if (!strcmp(key, "format")) {
            if (!strcmp(value, "csv"))
                c->format = PB_ENC_CSV;
            else if (!strcmp(value, "jsonl"))
                c->format = PB_ENC_JSONL;
            else
                return bad(ld, section, key, "must be csv or jsonl");
        } else if (!strcmp(key, "gzip")) {
            if (parse_bool(value, &c->gzip) < 0)
                return bad(ld, section, key, "must be true or false");
        } else if (!strcmp(key, "currency")) {
            if (strlen(value) != 3)
                return bad(ld, section, key, "must be a 3-letter ISO 4217 code");
            if (set_str(&c->currency, value) < 0)
                return bad(ld, section, key, "out of memory");
        } else if (!strcmp(key, "qbpos_timezone")) {
            if (set_str(&c->qbpos_tz, value) < 0)
                return bad(ld, section, key, "out of memory");
        } else {
            return bad(ld, section, key, "unknown key");
        }
        return 1;
    }
    return bad(ld, section, key, "unknown section");
}

static int
defaults(struct pb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->format = PB_ENC_CSV;
    cfg->home = strdup(".");
    cfg->currency = strdup("USD");
    return cfg->home && cfg->currency ? 0 : -1;
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
    struct load ld = {cfg, err, fp, 0, NULL};
    const char *slash = strrchr(path, '/');
    if (slash)
        ld.dir = strndup(path, (size_t)(slash - path));
    int r = ini_parse_stream(reader, &ld, handler, &ld);
    fclose(fp);
    free(ld.dir);
    if (err && err->code != PB_OK)
        return -1;
    if (r > 0)
        return pb_error_at(err, PB_ECONFIG, path, r, -1, -1, NULL,
                           "cannot parse this line (expected [section] or key = value)");
    if (r < 0)
        return pb_error_set(err, PB_ECONFIG, "cannot read config '%s'", path);
    return 0;
}

void
pb_config_release(struct pb_config *cfg)
{
    free(cfg->path);
    free(cfg->home);
    free(cfg->currency);
    free(cfg->qbpos_tz);
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
