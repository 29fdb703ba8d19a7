/* Loading libcurl on first need.  See curl_api.h. */
#define PB_CURL_LOADER
#include "curl_api.h"

#include <dlfcn.h>
#include <string.h>

#include "posbridge/banned.h"

#ifndef PB_CURL_SONAME
#define PB_CURL_SONAME "libcurl.so.4"
#endif

struct pb_curl pb_curl;
static void *lib;
static int inited;

int
pb_curl_load(struct pb_error *err)
{
    if (inited)
        return 0;
    if (!lib && !(lib = dlopen(PB_CURL_SONAME, RTLD_NOW | RTLD_LOCAL))) {
        const char *why = dlerror();
        return pb_error_set(err, PB_EUNAVAIL, "cannot load libcurl (%s): %s", PB_CURL_SONAME,
                            why ? why : "unknown error");
    }
    /* dlsym's void * to a function pointer: POSIX makes it work, C does not say so. */
#define PB_CURL_SYM(name)                                                                   \
    {                                                                                       \
        void *p = dlsym(lib, "curl_" #name);                                                \
        if (!p)                                                                             \
            return pb_error_set(err, PB_EUNAVAIL, "libcurl (%s) has no curl_%s",              \
                                PB_CURL_SONAME, #name);                                     \
        memcpy(&pb_curl.name, &p, sizeof(p));                                               \
    }
    PB_CURL_FUNCS(PB_CURL_SYM)
#undef PB_CURL_SYM
    if (pb_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return pb_error_set(err, PB_EUNAVAIL, "cannot start libcurl");
    inited = 1;
    return 0;
}

void
pb_curl_unload(void)
{
    if (inited)
        pb_curl.global_cleanup();
    inited = 0;
}
