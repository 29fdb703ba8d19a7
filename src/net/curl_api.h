/*
 * libcurl through a table of its functions, filled by pb_curl_load (curl_load.c) when a
 * command first needs the network: the commands that do not (export, transform,
 * convert, ...) start without libcurl and the thirty-odd libraries it brings.  Include
 * this instead of <curl/curl.h>; the calls read as libcurl's own.
 */
#ifndef PB_CURL_API_H
#define PB_CURL_API_H

/* The build defines CURL_DISABLE_TYPECHECK: libcurl's checks are macros over the
 * functions' names. */
#include <curl/curl.h>

#include "posbridge/err.h"

#define PB_CURL_FUNCS(X)                                                                    \
    X(global_init) X(global_cleanup) X(easy_init) X(easy_cleanup) X(easy_reset)             \
    X(easy_setopt) X(easy_getinfo) X(easy_strerror) X(multi_init) X(multi_cleanup)         \
    X(multi_setopt) X(multi_add_handle) X(multi_remove_handle) X(multi_perform)             \
    X(multi_poll) X(multi_info_read) X(slist_append) X(slist_free_all)

struct pb_curl {
#define PB_CURL_PTR(name) __typeof__(curl_##name) *name;
    PB_CURL_FUNCS(PB_CURL_PTR)
#undef PB_CURL_PTR
};
extern struct pb_curl pb_curl;

/* Load libcurl and curl_global_init it, once; -1 (PB_EUNAVAIL) when it cannot be had. */
int pb_curl_load(struct pb_error *err);
/* curl_global_cleanup, when it was loaded. */
void pb_curl_unload(void);

#ifndef PB_CURL_LOADER
/* curl.h makes these macros too, to count their arguments. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init pb_curl.global_init
#define curl_global_cleanup pb_curl.global_cleanup
#define curl_easy_init pb_curl.easy_init
#define curl_easy_cleanup pb_curl.easy_cleanup
#define curl_easy_reset pb_curl.easy_reset
#define curl_easy_setopt pb_curl.easy_setopt
#define curl_easy_getinfo pb_curl.easy_getinfo
#define curl_easy_strerror pb_curl.easy_strerror
#define curl_multi_init pb_curl.multi_init
#define curl_multi_cleanup pb_curl.multi_cleanup
#define curl_multi_setopt pb_curl.multi_setopt
#define curl_multi_add_handle pb_curl.multi_add_handle
#define curl_multi_remove_handle pb_curl.multi_remove_handle
#define curl_multi_perform pb_curl.multi_perform
#define curl_multi_poll pb_curl.multi_poll
#define curl_multi_info_read pb_curl.multi_info_read
#define curl_slist_append pb_curl.slist_append
#define curl_slist_free_all pb_curl.slist_free_all
#endif

#endif
