
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libFuzzer target for the multipart parser (make fuzz).  The first byte
 * picks the chunk size, the rest is the body; the boundary is "fz", and
 * the input is also tried as a Content-Type header.  ASan and UBSan do the
 * judging; the callbacks check the parser's own promises.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "ngx_http_attachments_multipart.h"


typedef struct {
    size_t      parts;
    ngx_uint_t  open;
} state_t;


static ngx_int_t
begin(void *data, ngx_http_attachments_mp_part_t *part)
{
    state_t  *s = data;

    if (s->open || part->name.len == 0
        || part->name.len > NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX
        || part->filename.len > NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX)
    {
        abort();
    }

    s->open = 1;
    s->parts++;

    return NGX_OK;
}


static ngx_int_t
body(void *data, u_char *p, size_t len)
{
    state_t  *s = data;

    if (!s->open || len == 0) {
        abort();
    }

    return NGX_OK;
}


static ngx_int_t
end(void *data)
{
    state_t  *s = data;

    if (!s->open) {
        abort();
    }

    s->open = 0;

    return NGX_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                              chunk, off, n;
    u_char                             *copy;
    ngx_int_t                           rc;
    ngx_str_t                           b;
    state_t                             s;
    ngx_http_attachments_mp_handler_t   h;
    u_char                              buf[NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX];
    static ngx_http_attachments_mp_t    mp;

    if (size == 0) {
        return 0;
    }

    (void) ngx_http_attachments_mp_boundary((u_char *) data, size, buf, &b);

    chunk = data[0] % 17 + 1;
    data++;
    size--;

    /* exactly size bytes, so ASan sees any read past a chunk */
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    s.parts = 0;
    s.open = 0;
    h.begin = begin;
    h.body = body;
    h.end = end;
    h.data = &s;

    ngx_str_set(&b, "fz");
    ngx_http_attachments_mp_init(&mp, &b, &h);

    rc = NGX_OK;

    for (off = 0; off < size && rc == NGX_OK; off += n) {
        n = size - off < chunk ? size - off : chunk;
        rc = ngx_http_attachments_mp_feed(&mp, copy + off, n);
    }

    rc = ngx_http_attachments_mp_finish(&mp);

    if (rc == NGX_OK && s.open) {
        abort();            /* a complete body closes every part */
    }

    free(copy);

    return 0;
}
