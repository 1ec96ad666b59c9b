
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libFuzzer target for the input checks of routes, ids, cursors and names
 * (make fuzz): no crash, and what they accept keeps their promises.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "ngx_http_attachments_input.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                        n, i;
    ngx_str_t                     ts, id;
    ngx_http_attachments_route_t  rt;
    u_char                        out[3 * 4096];

    if (size > 4096) {
        return 0;
    }

    if (ngx_http_attachments_route((u_char *) data, size, &rt) == NGX_OK
        && rt.kind != NGX_HTTP_ATTACHMENTS_ROUTE_USAGE
        && (!ngx_http_attachments_entity_type_valid(rt.entity_type.data,
                                                    rt.entity_type.len)
            || !ngx_http_attachments_entity_id_valid(rt.entity_id.data,
                                                     rt.entity_id.len)))
    {
        abort();
    }

    if (ngx_http_attachments_cursor_parse((u_char *) data, size, &ts, &id)
        == NGX_OK
        && !ngx_http_attachments_uuid_valid(id.data, id.len))
    {
        abort();
    }

    n = ngx_http_attachments_filename(out, (u_char *) data, size,
                                      NGX_HTTP_ATTACHMENTS_NAME_DISPLAY);
    if (n == 0 || n > NGX_HTTP_ATTACHMENTS_NAME_MAX
        || !ngx_http_attachments_utf8_valid(out, n)
        || memchr(out, '/', n) || out[0] == '.')
    {
        abort();
    }

    n = ngx_http_attachments_filename(out, (u_char *) data, size,
                                      NGX_HTTP_ATTACHMENTS_NAME_KEY);
    for (i = 0; i < n; i++) {
        if (!(isalnum(out[i]) || out[i] == '.' || out[i] == '-'
              || out[i] == '_'))
        {
            abort();
        }
    }

    n = ngx_http_attachments_key_part(out, (u_char *) data, size);
    if (n > 3 * size || memchr(out, '/', n) || (n && out[0] == '.')) {
        abort();
    }

    return 0;
}
