/* posbridge transform: a batch's staged records -> what each store (or QBPOS) gets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"
#include "posbridge/transform.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge transform [-qv] [-c FILE] [--json] [--store NAME]... BATCH";

/* A batch of web orders and refunds (download's), rather than QBPOS items. */
static int
is_sales(const char *batch)
{
    char *o = pb_staged_find(batch, "orders"), *r = o ? NULL : pb_staged_find(batch, "returns");
    int yes = o || r;
    free(o);
    free(r);
    return yes;
}

int
cmd_transform(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"store", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *stores[32];
    int nstores = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "js:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 's':
            if (nstores == 32)
                return pb_cli_usage(usage);
            stores[nstores++] = optarg;
            break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc - optind != 1)
        return pb_cli_usage(usage);

    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    if (is_sales(argv[optind])) {
        struct pb_inbound_result ir;
        int r = pb_transform_inbound(&cfg, argv[optind], &ir, &err);
        pb_config_release(&cfg);
        if (r < 0)
            return pb_cli_fail(&err);
        if (ctx->json) {
            json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "batch", argv[optind],
                                  "orders", (json_int_t)ir.orders, "returns",
                                  (json_int_t)ir.returns, "receipts", (json_int_t)ir.receipts,
                                  "rejected", (json_int_t)ir.rejected, "adjusted",
                                  (json_int_t)ir.adjusted);
            char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            if (text)
                printf("%s\n", text);
            free(text);
            json_decref(j);
        } else {
            printf("transform: %llu orders and %llu refunds -> %llu QBPOS receipts, %llu "
                   "rejected (see qbpos/rejects.csv)\n",
                   (unsigned long long)ir.orders, (unsigned long long)ir.returns,
                   (unsigned long long)ir.receipts, (unsigned long long)ir.rejected);
        }
        return ir.rejected ? PB_EX_DATAERR : PB_EX_OK;
    }
    struct pb_transform_opts o = {argv[optind], stores, nstores};
    struct pb_transform_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = pb_transform_run(&cfg, &o, &res, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0) {
        pb_config_release(&cfg);
        rc = pb_cli_fail(&err);
        pb_log(PB_LOG_ERROR, "transform: stopped; the batch's earlier files are unchanged");
        return rc;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t rejected = 0;
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:[]}", "batch", argv[optind], "items",
                          (json_int_t)res.items, "online", (json_int_t)res.online, "filtered",
                          (json_int_t)res.filtered, "rejected_items",
                          (json_int_t)res.rejected_items, "stores");
    for (int s = 0; s < res.nstores; s++) {
        const struct pb_transform_store_result *r = &res.stores[s];
        rejected += r->rejected_items;
        json_array_append_new(json_object_get(j, "stores"),
                              json_pack("{s:s, s:I, s:I, s:I, s:I}", "store", r->name,
                                        "products", (json_int_t)r->products, "variants",
                                        (json_int_t)r->variants, "rejected_products",
                                        (json_int_t)r->rejected_products, "rejected_items",
                                        (json_int_t)r->rejected_items));
        if (!ctx->json)
            printf("%s: %llu products, %llu variants, %llu products rejected (%llu items)\n",
                   r->name, (unsigned long long)r->products, (unsigned long long)r->variants,
                   (unsigned long long)r->rejected_products,
                   (unsigned long long)r->rejected_items);
    }
    if (ctx->json) {
        char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
    }
    json_decref(j);
    pb_log(PB_LOG_INFO,
           "transform: %llu items, %llu for the web, %llu not for the web, %llu refused, %.2fs",
           (unsigned long long)res.items, (unsigned long long)res.online,
           (unsigned long long)res.filtered, (unsigned long long)res.rejected_items, secs);
    if (rejected)
        pb_log(PB_LOG_WARN, "transform: rejected items are listed in %s/<store>/rejects.csv",
               argv[optind]);
    pb_config_release(&cfg);
    return rejected ? PB_EX_DATAERR : PB_EX_OK;
}
