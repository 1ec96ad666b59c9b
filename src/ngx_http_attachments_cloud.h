
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The HTTP client of every cloud storage kind: where a store is (its
 * endpoint, the location its requests go through) and one request sent to
 * it, as a subrequest when there is a request, through the module's own
 * client when there is none.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_CLOUD_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_CLOUD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_client.h"
#include "ngx_http_attachments_storage.h"


/* a cloud store: part of each cloud kind's own (storage->data) */
typedef struct {
    ngx_str_t                        scheme;    /* "https://" */
    ngx_str_t                        host;      /* as in Host */
    ngx_str_t                        proxy;     /* internal location prefix */
    ngx_str_t                        upload;    /* for op->url, or empty */
    ngx_http_attachments_peer_t      peer;      /* for the collector */
} ngx_http_attachments_cloud_t;


/* one request: what is sent, but for Host and the body (op's) */
typedef struct {
    ngx_str_t                        method;
    ngx_str_t                        path;      /* from "/", not escaped */
    ngx_str_t                        args;      /* escaped, as sent */
    ngx_keyval_t                    *headers;
    ngx_uint_t                       n;
} ngx_http_attachments_cloud_request_t;


typedef struct ngx_http_attachments_cloud_run_s
    ngx_http_attachments_cloud_run_t;

/* what a step's answer means: NGX_AGAIN, the next step is sent; NGX_OK,
   the operation ended (op->status) */
typedef ngx_int_t (*ngx_http_attachments_cloud_next_pt)(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run);
typedef void (*ngx_http_attachments_cloud_served_pt)(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run);


/*
 * An operation a kind makes of several requests, each a step of its own
 * (op->step): the first member of the kind's own run
 */
struct ngx_http_attachments_cloud_run_s {
    ngx_http_attachments_storage_op_t      *op;       /* the caller's */
    ngx_http_attachments_storage_op_t       step;     /* under way */
    ngx_pool_t                             *pool;
    ngx_uint_t                              stage;    /* the kind's */
    ngx_http_attachments_cloud_next_pt      next;
    ngx_http_attachments_cloud_served_pt    served;   /* a download's end */
    ngx_http_request_t                     *serve;
    ngx_http_request_t                     *request;  /* or NULL */
    ngx_http_attachments_cloud_next_pt      again;    /* after a while */
    ngx_event_t                             later;
};


ngx_int_t ngx_http_attachments_cloud_param(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage,
    ngx_http_attachments_cloud_t *cloud, ngx_str_t *arg, ngx_uint_t upload,
    ngx_str_t *endpoint, ngx_str_t *ca);
ngx_int_t ngx_http_attachments_cloud_endpoint(ngx_conf_t *cf,
    ngx_http_attachments_cloud_t *cloud,
    ngx_http_attachments_storage_t *storage, ngx_str_t *endpoint,
    ngx_str_t *prefix, ngx_str_t *ca);
ngx_int_t ngx_http_attachments_cloud_send(ngx_http_request_t *r,
    ngx_http_attachments_cloud_t *cloud,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_cloud_request_t *rq);
ngx_int_t ngx_http_attachments_cloud_answer_room(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op, size_t size);
void *ngx_http_attachments_cloud_run(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, size_t size,
    ngx_http_attachments_cloud_next_pt next);
ngx_int_t ngx_http_attachments_cloud_started(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run, ngx_int_t rc);
ngx_int_t ngx_http_attachments_cloud_sent(ngx_http_attachments_cloud_run_t *run,
    ngx_int_t rc);
ngx_int_t ngx_http_attachments_cloud_later(
    ngx_http_attachments_cloud_run_t *run, ngx_msec_t delay,
    ngx_http_attachments_cloud_next_pt again);
ngx_int_t ngx_http_attachments_cloud_answer(
    ngx_http_attachments_cloud_run_t *run, const char *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_ATTACHMENTS_CLOUD_H_INCLUDED_ */
