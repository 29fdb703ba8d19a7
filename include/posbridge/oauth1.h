/*
 * OAuth 1.0a request signing (RFC 5849) with HMAC-SHA256, the method both WooCommerce
 * (one-legged: consumer key and secret only) and Magento 2.4 (integration: consumer and
 * access token pairs) accept.  The signature base string takes the method, the URL
 * without its query, and every oauth_* and query parameter, each percent-encoded as
 * RFC 3986 says and sorted by name then value.
 */
#ifndef PB_OAUTH1_H
#define PB_OAUTH1_H

#include "posbridge/buf.h"

struct pb_oauth1 {
    const char *consumer_key, *consumer_secret;
    const char *token, *token_secret;   /* NULL for one-legged signing */
};

/*
 * Append "Authorization: OAuth ..." for a request to out.  timestamp 0 and nonce NULL:
 * the current time and a fresh random nonce (tests pass fixed ones).  -1 on a URL it
 * cannot read or out of memory.
 */
int pb_oauth1_header(const struct pb_oauth1 *o, const char *method, const char *url,
                     long timestamp, const char *nonce, struct pb_buf *out);

/* HMAC-SHA256 of msg under key. */
void pb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32]);

/* Standard base64 (with padding) of n bytes. */
int pb_base64(const unsigned char *in, size_t n, struct pb_buf *out);

/* RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ */
int pb_pct_encode(const char *s, size_t n, struct pb_buf *out);

#endif
