
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libFuzzer target for signed URLs (make fuzz): the query parser and the
 * verifier on any input, and the round trip a URL makes: whatever grant
 * signs (its fields from the input, split at NUL bytes) must verify once
 * its URL's query is parsed and decoded as the download location does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "fields.h"

#include "ngx_http_attachments_sign.h"


static ngx_http_attachments_hmac_t  *mac;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        *url, *q;
    ngx_str_t                      key, args[NGX_HTTP_ATTACHMENTS_ARGS];
    ngx_str_t                      prefix = ngx_string("/files/");
    ngx_uint_t                     i, escaped;
    const uint8_t                 *p, *last;
    ngx_http_attachments_grant_t   g, v;
    u_char                         sig[NGX_HTTP_ATTACHMENTS_SIG_LEN];
    u_char                         buf[4096];

    if (mac == NULL) {
        mac = ngx_http_attachments_hmac_new((u_char *) "0123456789abcdef01", 18);
    }

    /* any query: parsed, and verified as it comes */

    if (ngx_http_attachments_parse_query((u_char *) data, size, args,
                                         &escaped)
        == NGX_OK)
    {
        ngx_memzero(&v, sizeof(v));
        ngx_str_set(&v.method, "GET");
        ngx_str_set(&v.path, "/files/x");
        v.key_id = args[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID];
        v.filename = args[NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME];
        v.type = args[NGX_HTTP_ATTACHMENTS_ARG_I_TYPE];
        (void) ngx_http_attachments_verify(mac, &v,
                   args[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].data,
                   args[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].len);
    }

    /* a grant from the input: what signs, verifies */

    p = data;
    last = data + size;

    ngx_memzero(&g, sizeof(g));
    ngx_str_set(&g.method, "GET");
    ngx_str_set(&g.key_id, "k1");
    g.expires = 1800000000;

    field(&p, last, &key);
    field(&p, last, &g.filename);
    field(&p, last, &g.type);

    if (!ngx_http_attachments_key_safe(key.data, key.len)
        || key.len > 512 || g.filename.len > 256 || g.type.len > 256)
    {
        return 0;
    }

    g.path.data = buf;
    g.path.len = ngx_cpymem(ngx_cpymem(buf, prefix.data, prefix.len),
                            key.data, key.len) - buf;

    if (ngx_http_attachments_sign(mac, &g, sig) != NGX_OK) {
        return 0;
    }

    url = malloc(ngx_http_attachments_url(NULL, &prefix, &key, &g, sig));
    q = url + ngx_http_attachments_url(url, &prefix, &key, &g, sig);

    q = (u_char *) memchr(url, '?', q - url);
    if (q == NULL
        || ngx_http_attachments_parse_query(q + 1,
               ngx_http_attachments_url(NULL, &prefix, &key, &g, sig)
               - (q + 1 - url), args, &escaped)
           != NGX_OK)
    {
        abort();
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
        if (escaped & (1 << i)) {
            u_char  *d = malloc(args[i].len + 1);

            args[i].len = ngx_http_attachments_percent_decode(d, args[i].data,
                                                              args[i].len);
            args[i].data = d;
        }
    }

    v = g;
    v.filename = args[NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME];
    v.type = args[NGX_HTTP_ATTACHMENTS_ARG_I_TYPE];
    v.key_id = args[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID];

    if (ngx_http_attachments_verify(mac, &v,
            args[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].data,
            args[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].len)
        != NGX_OK)
    {
        abort();
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
        if (escaped & (1 << i)) {
            free(args[i].data);
        }
    }

    free(url);

    return 0;
}
