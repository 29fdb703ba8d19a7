/* posbridge config check: load the configuration and print it, secrets as references. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/maps.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge config [-qv] [-c FILE] check";

int
cmd_config(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {PB_COMMON_LONG, {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT, longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        if (opt == 'h')
            return pb_cli_help(usage);
        return pb_cli_usage(usage);
    }
    if (argc - optind != 1 || strcmp(argv[optind], "check") != 0)
        return pb_cli_usage(usage);
    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    int rc = 0;
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        rc = pb_cli_fail(&err);
        pb_config_release(&cfg);
        return rc;
    }
    /* Every mapping table must load too: they are part of the configuration. */
    struct pb_maps *m = pb_maps_new(cfg.maps_ci);
    for (int i = 0; m && i < cfg.maps.n && !rc; i++)
        if (pb_maps_load(m, cfg.maps.v[i], &err) < 0)
            rc = pb_cli_fail(&err);
    for (int s = 0; m && s < cfg.nstores && !rc; s++)
        for (int i = 0; i < cfg.stores[s].maps.n && !rc; i++)
            if (pb_maps_load(m, cfg.stores[s].maps.v[i], &err) < 0)
                rc = pb_cli_fail(&err);
    pb_maps_free(m);
    if (!rc)
        pb_config_print(&cfg, stdout);
    /* A secret that does not resolve stops the store's every run: say so, and fail. */
    for (int s = 0; !rc && s < cfg.nstores; s++)
        for (int k = 0; k < PB_SECRET__COUNT; k++) {
            if (!cfg.stores[s].secret_ref[k])
                continue;
            struct pb_error e;
            pb_error_init(&e);
            char *v = pb_config_secret(&cfg.stores[s], k, &e);
            if (v) {
                memset(v, 0, strlen(v));
                free(v);
                continue;
            }
            pb_log_error(PB_LOG_ERROR, &e);
            rc = PB_EX_CONFIG;
        }
    pb_config_release(&cfg);
    return rc;
}
