
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, received: POST .../files and .../versions with multipart/form-
 * data, streamed.
 *
 * A request body filter hands every chunk, as nginx reads it, to the
 * multipart parser of the receiver (ngx_http_attachments_receive.c), so
 * memory stays bounded whatever the size.  Once the body is in and every
 * blob has its key, ngx_http_attachments_commit.c stores them all or
 * nothing.
 *
 * ngx_http_attachments_upload_module: attachments_max_file_size,
 * attachments_max_files, attachments_allowed_types, attachments_key and
 * the variables attachments_key is made of.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <magic.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_multipart.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_folders.h"
#include "ngx_http_attachments_commit.h"
#include "ngx_http_attachments_receive.h"
#include "ngx_http_attachments_upload.h"


#define NGX_HTTP_ATTACHMENTS_VAR_UUID         0
#define NGX_HTTP_ATTACHMENTS_VAR_FILENAME     1
#define NGX_HTTP_ATTACHMENTS_VAR_ORG          2
#define NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE  3
#define NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID    4


typedef struct {
    magic_t                          magic;       /* per worker */
} ngx_http_attachments_upload_main_conf_t;


/* an upload while its body is read: what is committed comes first */


static ngx_int_t ngx_http_attachments_upload_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_attachments_upload_init(ngx_conf_t *cf);
static void *ngx_http_attachments_upload_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_attachments_upload_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_upload_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_attachments_allowed_types(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_attachments_upload_init_process(ngx_cycle_t *cycle);
static void ngx_http_attachments_upload_exit_process(ngx_cycle_t *cycle);

static ngx_int_t ngx_http_attachments_request_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);
static void ngx_http_attachments_upload_read(ngx_http_request_t *r);
#if (NGX_HTTP_V2)
static void ngx_http_attachments_upload_refused(ngx_http_request_t *r);
static void ngx_http_attachments_upload_answer_h2(ngx_http_request_t *r);
#endif
static void ngx_http_attachments_upload_received(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_upload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_command_t  ngx_http_attachments_upload_commands[] = {

    { ngx_string("attachments_max_file_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_upload_conf_t, max_file_size),
      NULL },

    { ngx_string("attachments_max_files"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_upload_conf_t, max_files),
      NULL },

    { ngx_string("attachments_allowed_types"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_attachments_allowed_types,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_upload_conf_t, key),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_upload_module_ctx = {
    ngx_http_attachments_upload_add_variables, /* preconfiguration */
    ngx_http_attachments_upload_init,      /* postconfiguration */

    ngx_http_attachments_upload_create_main_conf, /* create main conf */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_upload_create_loc_conf, /* create location conf */
    ngx_http_attachments_upload_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_upload_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_upload_module_ctx, /* module context */
    ngx_http_attachments_upload_commands,  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_attachments_upload_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_attachments_upload_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_attachments_upload_vars[] = {

    { ngx_string("attachments_uuid"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_UUID,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_filename"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_FILENAME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_org"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_ORG,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_entity_type"), NULL,
      ngx_http_attachments_upload_variable,
      NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_entity_id"), NULL,
      ngx_http_attachments_upload_variable,
      NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


static ngx_int_t
ngx_http_attachments_upload_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_attachments_upload_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_upload_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_attachments_request_body_filter;

    return NGX_OK;
}


static void *
ngx_http_attachments_upload_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     umcf->magic = NULL;
     */

    return ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_attachments_upload_main_conf_t));
}


static void *
ngx_http_attachments_upload_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_upload_conf_t  *ucf;

    ucf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_upload_conf_t));
    if (ucf == NULL) {
        return NULL;
    }

    ucf->max_file_size = NGX_CONF_UNSET;
    ucf->max_files = NGX_CONF_UNSET_UINT;
    ucf->allowed_types = NGX_CONF_UNSET_PTR;
    ucf->key = NGX_CONF_UNSET_PTR;

    return ucf;
}


static char *
ngx_http_attachments_upload_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_upload_conf_t  *prev = parent;
    ngx_http_attachments_upload_conf_t  *conf = child;

    ngx_conf_merge_off_value(conf->max_file_size, prev->max_file_size,
                             10 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_files, prev->max_files, 10);
    ngx_conf_merge_ptr_value(conf->allowed_types, prev->allowed_types, NULL);
    ngx_conf_merge_ptr_value(conf->key, prev->key, NULL);

    if (conf->max_files == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_max_files\" must be positive");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* attachments_allowed_types type|prefix*|* ... */

static char *
ngx_http_attachments_allowed_types(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_attachments_upload_conf_t *ucf = conf;

    ngx_str_t   *value, *t;
    ngx_uint_t   i;

    if (ucf->allowed_types != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ucf->allowed_types = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_str_t));
    if (ucf->allowed_types == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '*')
            && value[i].data[value[i].len - 1] != '*')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid type \"%V\": \"*\" only at the end",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        t = ngx_array_push(ucf->allowed_types);
        if (t == NULL) {
            return NGX_CONF_ERROR;
        }

        /* ngx_conf_file keeps values null-terminated */
        *t = value[i];
    }

    return NGX_CONF_OK;
}


/* the magic database is read once per worker, before any request */

static ngx_int_t
ngx_http_attachments_upload_init_process(ngx_cycle_t *cycle)
{
    ngx_http_attachments_main_conf_t         *amcf;
    ngx_http_attachments_upload_main_conf_t  *umcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_attachments_module);
    umcf = ngx_http_cycle_get_module_main_conf(cycle,
                                           ngx_http_attachments_upload_module);

    if (amcf == NULL || amcf->database == NULL || umcf == NULL) {
        return NGX_OK;
    }

    umcf->magic = magic_open(MAGIC_MIME_TYPE|MAGIC_ERROR);

    if (umcf->magic == NULL || magic_load(umcf->magic, NULL) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "attachments: cannot load the libmagic database: %s",
                      umcf->magic ? magic_error(umcf->magic) : "no memory");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_attachments_upload_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_attachments_upload_main_conf_t  *umcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return;
    }

    umcf = ngx_http_cycle_get_module_main_conf(cycle,
                                           ngx_http_attachments_upload_module);

    if (umcf && umcf->magic) {
        magic_close(umcf->magic);
        umcf->magic = NULL;
    }
}


/* this worker's libmagic, for the type of what every upload holds */

magic_t
ngx_http_attachments_upload_magic(ngx_http_request_t *r)
{
    ngx_http_attachments_upload_main_conf_t  *umcf;

    umcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_upload_module);

    return umcf->magic;
}


/* POST .../files: starts reading the body through the filter below */

ngx_int_t
ngx_http_attachments_upload(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_int_t                                 rc;
    ngx_str_t                                 boundary;
    ngx_pool_cleanup_t                       *cln;
    ngx_http_attachments_receive_t           *rv;
    ngx_http_attachments_main_conf_t         *amcf;
    ngx_http_attachments_upload_main_conf_t  *umcf;
    u_char                                    buf[
                                          NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX];

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    if (r->headers_in.content_type == NULL
        || ngx_http_attachments_mp_boundary(
               r->headers_in.content_type->value.data,
               r->headers_in.content_type->value.len, buf, &boundary)
           != NGX_OK)
    {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart",
                   "the body must be multipart/form-data with a boundary");
    }

    rv = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_receive_t));
    if (rv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rv->up.request = r;
    rv->up.ctx = ctx;
    rv->up.version = (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS);
    rv->up.storage = amcf->active;
    rv->conf = ngx_http_get_module_loc_conf(r,
                                            ngx_http_attachments_upload_module);

    umcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_upload_module);
    rv->magic = umcf->magic;

    if (ngx_array_init(&rv->up.blobs, r->pool, 2,
                       sizeof(ngx_http_attachments_blob_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_receive_init(r->pool, rv, &boundary) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* runs before the receiver's: the blobs go before the digest does */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_upload_cleanup;
    cln->data = &rv->up;

    ctx->upload = rv;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: receiving into storage \"%V\"%s",
                   &rv->up.storage->name, rv->up.version ? ", a version" : "");

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_attachments_upload_received);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return ngx_http_attachments_upload_answer(r, &rv->up, rc);
    }

    if (rc == NGX_AGAIN) {
#if (NGX_HTTP_V2)
        if (r->stream) {
            /* its read handler keeps the stream's window right */
            if (rv->up.status) {
                ngx_http_attachments_upload_refused(r);
            }

            return NGX_DONE;
        }
#endif

        /* ours, so that a refusal mid-body is answered in JSON */
        r->read_event_handler = ngx_http_attachments_upload_read;
    }

    return NGX_DONE;
}


#if (NGX_HTTP_V2)

/* a refusal of an HTTP/2 upload, answered once the body filter returned */

static void
ngx_http_attachments_upload_refused(ngx_http_request_t *r)
{
    if (r->read_event_handler != ngx_http_attachments_upload_answer_h2) {
        r->read_event_handler = ngx_http_attachments_upload_answer_h2;
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }
}


static void
ngx_http_attachments_upload_answer_h2(ngx_http_request_t *r)
{
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_receive_t  *rv;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    rv = ctx->upload;

    r->stream->skip_data = 1;
    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r,
        ngx_http_attachments_upload_answer(r, &rv->up, rv->up.status));
}

#endif


/* every chunk of an upload's body, as read: parsed, never stored whole */

static ngx_int_t
ngx_http_attachments_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_buf_t                       *b;
    ngx_chain_t                     *cl, *last;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_receive_t  *rv;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL || ctx->upload == NULL) {
        return ngx_http_next_request_body_filter(r, in);
    }

    rv = ctx->upload;
    last = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last > b->pos && rv->up.status == 0) {
            if (ngx_http_attachments_mp_feed(&rv->mp, b->pos, b->last - b->pos)
                == NGX_ERROR
                && rv->up.status == 0)
            {
                ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                                                   "malformed_multipart",
                                                   rv->mp.error);
            }
        }

        /* consumed: nginx reuses its buffer */
        b->pos = b->last;

        if (b->last_buf) {
            last = cl;
        }
    }

    if (rv->up.status) {
#if (NGX_HTTP_V2)
        if (r->stream) {
            /*
             * HTTP/2 keeps reading under its own flow control: the rest
             * of the stream is dropped and the refusal answered from a
             * posted event, never as nginx's own error page
             */
            ngx_http_attachments_upload_refused(r);
            return NGX_OK;
        }
#endif

        return rv->up.status;
    }

    if (last == NULL) {
        return NGX_OK;
    }

    /* the save filter learns that the body is complete, and nothing else */

    last->next = NULL;

    return ngx_http_next_request_body_filter(r, last);
}


static void
ngx_http_attachments_upload_read(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_attachments_ctx_t     *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (r->connection->read->timedout) {
        r->connection->timedout = 1;
        rc = NGX_HTTP_REQUEST_TIME_OUT;

    } else {
        rc = ngx_http_read_unbuffered_request_body(r);
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_upload_answer(r,
                &((ngx_http_attachments_receive_t *) ctx->upload)->up, rc));
    }
}


/* the whole body is in: every blob gets its key, then the commit */

static void
ngx_http_attachments_upload_received(ngx_http_request_t *r)
{
    ngx_uint_t                       i;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_blob_t     *b;
    ngx_http_attachments_receive_t  *rv;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    rv = ctx->upload;

    if (ngx_http_attachments_mp_finish(&rv->mp) != NGX_OK) {
        ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                                           "malformed_multipart",
                                           rv->mp.error);
        goto failed;
    }

    if (rv->up.blobs.nelts == 0) {
        ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                                           "no_file", "no part named file");
        goto failed;
    }

    b = rv->up.blobs.elts;

    for (i = 0; i < rv->up.blobs.nelts; i++) {
        if (ngx_http_attachments_upload_key(r, &rv->up, rv->conf, &b[i])
            != NGX_OK)
        {
            ngx_http_attachments_upload_refuse(&rv->up,
                NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                "the request failed; the error log says why");
            goto failed;
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: %ui file(s) received",
                   rv->up.blobs.nelts);

    ngx_http_attachments_commit(r, &rv->up);
    return;

failed:

    ngx_http_finalize_request(r,
        ngx_http_attachments_upload_answer(r, &rv->up, rv->up.status));
}


/*
 * The storage key: a drive's route, attachments_key, or
 * org_{org}/{type}/{id}/{uuid}-{name}
 */

ngx_int_t
ngx_http_attachments_upload_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up,
    ngx_http_attachments_upload_conf_t *conf, ngx_http_attachments_blob_t *b)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_uint_t                   routed;
    ngx_http_attachments_ctx_t  *ctx;
    u_char                       org[NGX_HTTP_ATTACHMENTS_ORG_KEY_MAX];
    size_t                       len;

    ctx = up->ctx;

    /* the variables see the upload, and the file being keyed */
    ctx->upload = up;
    up->blob = b;

    /* a drive's route, or attachments_key */

    rc = ngx_http_attachments_folder_key(r, up, b);
    routed = (rc == NGX_OK);

    if (rc == NGX_DECLINED && conf->key) {
        rc = ngx_http_complex_value(r, conf->key, &b->key);
    }

    up->blob = NULL;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (ctx->org.len > NGX_HTTP_ATTACHMENTS_ORG_MAX) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "attachments: an organization id over %d bytes "
                          "makes no storage key", NGX_HTTP_ATTACHMENTS_ORG_MAX);
            return NGX_ERROR;
        }

        len = ngx_http_attachments_key_part(org, ctx->org.data, ctx->org.len);

        b->key.len = sizeof("org_///-") - 1 + len
                     + ctx->route.entity_type.len + ctx->route.entity_id.len
                     + NGX_HTTP_ATTACHMENTS_UUID_LEN + b->key_name.len;

        b->key.data = ngx_pnalloc(r->pool, b->key.len);
        if (b->key.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(b->key.data, "org_", 4);
        p = ngx_cpymem(p, org, len);
        *p++ = '/';
        p = ngx_cpymem(p, ctx->route.entity_type.data,
                       ctx->route.entity_type.len);
        *p++ = '/';
        p = ngx_cpymem(p, ctx->route.entity_id.data, ctx->route.entity_id.len);
        *p++ = '/';
        p = ngx_cpymem(p, b->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
        *p++ = '-';
        ngx_memcpy(p, b->key_name.data, b->key_name.len);
    }

    if (!ngx_http_attachments_key_safe(b->key.data, b->key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: %s made an unsafe key \"%V\"",
                      routed ? "attachments_route" : "attachments_key",
                      &b->key);
        return NGX_ERROR;
    }

    /* the public area is for public files only ("public" as an org, say) */

    if (ngx_http_attachments_storage_is_public(b->key.data, b->key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: attachments_key made a key in the "
                      "public area \"%V\"", &b->key);
        return NGX_ERROR;
    }

    /* public files live in the storage's public area */

    if (up->visibility.len == 6
        && ngx_http_attachments_storage_public_key(r->pool, &b->key, &b->key)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The variables of attachments_key, for the file being keyed: uuid,
 * filename (key-safe), org (key-safe), entity_type, entity_id.
 */

static ngx_int_t
ngx_http_attachments_upload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                          *p;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_upload_t   *up;
    ngx_http_attachments_blob_t     *b;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx ? ctx->upload : NULL;

    if (up == NULL || up->blob == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    b = up->blob;

    switch (data) {

    case NGX_HTTP_ATTACHMENTS_VAR_UUID:
        v->data = b->id;
        v->len = NGX_HTTP_ATTACHMENTS_UUID_LEN;
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_FILENAME:
        v->data = b->key_name.data;
        v->len = b->key_name.len;
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_ORG:
        p = ngx_pnalloc(r->pool, 3 * ctx->org.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_http_attachments_key_part(p, ctx->org.data, ctx->org.len);
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE:
        v->data = ctx->route.entity_type.data;
        v->len = ctx->route.entity_type.len;
        break;

    default: /* NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID */
        v->data = ctx->route.entity_id.data;
        v->len = ctx->route.entity_id.len;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
