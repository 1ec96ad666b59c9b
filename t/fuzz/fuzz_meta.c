
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libFuzzer target for metadata (make fuzz): any body a PATCH or an
 * upload's fields may carry, through jansson and the checks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "ngx_http_attachments_input.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t                       *json;
    ngx_http_attachments_meta_t   meta;

    json = json_loadb((const char *) data, size,
                      JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, NULL);
    if (json == NULL) {
        return 0;
    }

    (void) ngx_http_attachments_meta_parse(json, &meta);
    (void) ngx_http_attachments_tags_check(json);
    (void) ngx_http_attachments_fields_check(json);
    (void) ngx_http_attachments_category_check(json);

    json_decref(json);

    return 0;
}
