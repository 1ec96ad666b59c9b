
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "yandex_disk" storage kind: a Yandex.Disk through its REST API.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_YADISK_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_YADISK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_storage.h"


extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_yadisk_kind;


#endif /* _NGX_HTTP_ATTACHMENTS_YADISK_H_INCLUDED_ */
