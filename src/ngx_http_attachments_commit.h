
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, committed: rows, blobs, quotas, the answer.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_COMMIT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_COMMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_undo.h"


void ngx_http_attachments_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);


#endif /* _NGX_HTTP_ATTACHMENTS_COMMIT_H_INCLUDED_ */
