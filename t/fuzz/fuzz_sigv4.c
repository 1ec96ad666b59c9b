
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libFuzzer target for SigV4 (make fuzz): the canonical request of any
 * path, host, type and disposition, presigned and signed in headers; the
 * length measured first is the length written.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "fields.h"

#include "ngx_http_attachments_sigv4.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                                 n, m;
    u_char                                *out;
    const uint8_t                         *p, *last;
    ngx_http_attachments_sigv4_t           s;
    ngx_http_attachments_presign_t         ps;
    ngx_http_attachments_sigv4_request_t   rq;

    ngx_memzero(&s, sizeof(s));
    ngx_str_set(&s.access_key, "AKIAIOSFODNN7EXAMPLE");
    ngx_str_set(&s.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    ngx_str_set(&s.region, "us-east-1");
    ngx_str_set(&s.service, "s3");

    p = data;
    last = data + size;

    ngx_memzero(&ps, sizeof(ps));
    field(&p, last, &ps.path);
    field(&p, last, &ps.host);
    field(&p, last, &ps.type);
    field(&p, last, &ps.disposition);
    ps.now = 1800000000;
    ps.expires = 3600;

    n = ngx_http_attachments_presign(NULL, &s, &ps);
    out = malloc(n + 1);
    m = ngx_http_attachments_presign(out, &s, &ps);
    if (m != 0 && m != n) {
        abort();
    }
    free(out);

    ngx_memzero(&rq, sizeof(rq));
    ngx_str_set(&rq.method, "PUT");
    rq.host = ps.host;
    rq.path = ps.path;
    rq.now = 1800000000;
    rq.payload = (u_char *)
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    n = ngx_http_attachments_sigv4_authorization(NULL, &s, &rq);
    out = malloc(n + 1);
    m = ngx_http_attachments_sigv4_authorization(out, &s, &rq);
    if (m != 0 && m != n) {
        abort();
    }
    free(out);

    n = ngx_http_attachments_aws_escape(NULL, ps.path.data, ps.path.len, 1);
    out = malloc(n + 1);
    if (ngx_http_attachments_aws_escape(out, ps.path.data, ps.path.len, 1)
        != n)
    {
        abort();
    }
    free(out);

    return 0;
}
