
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The access tokens of google_drive storages: the account's credentials
 * (a service account's key, or an OAuth client and its refresh token), the
 * request for a token and its answer, and the token kept for every worker
 * in shared memory until shortly before it expires.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_GDRIVE_AUTH_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_GDRIVE_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"


/* a google_drive storage's own: storage->data */
typedef struct {
    ngx_http_attachments_cloud_t     cloud;      /* the Drive API */
    ngx_http_attachments_cloud_t     oauth;      /* the token endpoint */
    ngx_str_t                        token_path; /* "/token" */
    ngx_str_t                        folder;     /* the root folder's id */

    /* a service account's, or NULL */
    EVP_PKEY                        *key;
    ngx_str_t                        email;
    ngx_str_t                        key_id;
    ngx_str_t                        aud;        /* its token_uri */

    /* or an OAuth client's and the refresh token it was given */
    ngx_str_t                        client_id;
    ngx_str_t                        client_secret;
    ngx_str_t                        refresh_token;

    ngx_shm_zone_t                  *shm;
} ngx_http_attachments_gdrive_t;


ngx_int_t ngx_http_attachments_gdrive_credentials(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *file,
    ngx_str_t *token_uri, ngx_str_t *ca);
ngx_int_t ngx_http_attachments_gdrive_token_zone(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage);
ngx_int_t ngx_http_attachments_gdrive_cached(
    ngx_http_attachments_gdrive_t *gd, ngx_pool_t *pool, ngx_str_t *auth);
void ngx_http_attachments_gdrive_forget(ngx_http_attachments_gdrive_t *gd,
    ngx_str_t *auth);
ngx_int_t ngx_http_attachments_gdrive_token_body(
    ngx_http_attachments_gdrive_t *gd, ngx_pool_t *pool, ngx_str_t *body);
ngx_int_t ngx_http_attachments_gdrive_token_answer(
    ngx_http_attachments_gdrive_t *gd, ngx_http_attachments_cloud_run_t *run,
    ngx_str_t *auth);


#endif /* _NGX_HTTP_ATTACHMENTS_GDRIVE_AUTH_H_INCLUDED_ */
