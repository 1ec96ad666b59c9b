
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "google_drive" storage kind: a Google Drive through Drive API v3.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_GDRIVE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_GDRIVE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_storage.h"


extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_gdrive_kind;


#endif /* _NGX_HTTP_ATTACHMENTS_GDRIVE_H_INCLUDED_ */
