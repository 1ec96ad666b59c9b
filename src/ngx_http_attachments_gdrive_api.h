
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The requests of google_drive operations: a run's stages, each one's
 * request to Drive API v3 or the token endpoint, and what their answers
 * say (a file found, a file as sent).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_GDRIVE_API_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_GDRIVE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"


#define NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER                                    \
    "application/vnd.google-apps.folder"


typedef enum {
    NGX_HTTP_ATTACHMENTS_GD_TOKEN = 0,          /* POST token_uri */
    NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER,        /* GET files?q= */
    NGX_HTTP_ATTACHMENTS_GD_MAKE_FOLDER,        /* POST files */
    NGX_HTTP_ATTACHMENTS_GD_SESSION,            /* POST upload/...resumable */
    NGX_HTTP_ATTACHMENTS_GD_PUT,                /* PUT <session> */
    NGX_HTTP_ATTACHMENTS_GD_FIND,               /* GET files?q=, to delete */
    NGX_HTTP_ATTACHMENTS_GD_DELETE,             /* DELETE files/{id} */
    NGX_HTTP_ATTACHMENTS_GD_HEALTH,             /* GET files/{root} */
    NGX_HTTP_ATTACHMENTS_GD_DOWNLOAD            /* GET files?q=, to serve */
} ngx_http_attachments_gdrive_stage_e;


/* an operation under way */
typedef struct {
    ngx_http_attachments_cloud_run_t      run;
    ngx_http_attachments_gdrive_stage_e   after;    /* once a token came */
    unsigned                              renewed:1;
    ngx_str_t                             auth;     /* "Bearer ..." */
    ngx_str_t                             name;     /* on Drive */
    ngx_str_t                             parent;   /* its folder's id */
    ngx_str_t                             id;       /* the file's */
    ngx_str_t                             session;  /* its upload's */
    ngx_str_t                             filename; /* a download's */
} ngx_http_attachments_gdrive_run_t;



ngx_int_t ngx_http_attachments_gdrive_send(ngx_http_request_t *r,
    ngx_http_attachments_gdrive_run_t *run,
    ngx_http_attachments_gdrive_stage_e stage);
ngx_int_t ngx_http_attachments_gdrive_found(
    ngx_http_attachments_gdrive_run_t *run);
ngx_int_t ngx_http_attachments_gdrive_checked(
    ngx_http_attachments_gdrive_run_t *run);


#endif /* _NGX_HTTP_ATTACHMENTS_GDRIVE_API_H_INCLUDED_ */
