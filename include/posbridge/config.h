/*
 * The configuration: one INI file, from -c FILE, $POSBRIDGE_CONFIG or ./posbridge.ini.
 * Unknown sections or keys, bad values and missing required keys are errors that name
 * the file, line and key (PB_ECONFIG, exit 78).  Without any config file the defaults
 * apply (home is the current directory).
 */
#ifndef PB_CONFIG_H
#define PB_CONFIG_H

#include "posbridge/staged.h"

struct pb_error;

struct pb_config {
    char *path;        /* the file read, or NULL when none */
    char *home;        /* [general] home: batches/, state/, log/ live here */
    enum pb_enc format;/* [general] format = csv | jsonl */
    int gzip;          /* [general] gzip = true | false */
    char *currency;    /* [general] currency, ISO 4217 (default USD) */
    char *qbpos_tz;    /* [general] qbpos_timezone, IANA name, for times without offset */
};

/*
 * Load the config.  path NULL: $POSBRIDGE_CONFIG, then ./posbridge.ini, then defaults.
 * A path given explicitly must exist.  Relative paths inside the file are taken relative
 * to the file's directory.
 */
int pb_config_load(struct pb_config *cfg, const char *path, struct pb_error *err);
void pb_config_release(struct pb_config *cfg);

/* "<home>/batches" etc.  Returns a malloc'd path or NULL. */
char *pb_config_path(const struct pb_config *cfg, const char *sub);

#endif
