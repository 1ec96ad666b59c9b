
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_metrics_module: counters of every worker in one
 * shared memory zone, answered in Prometheus' text format by a location
 * with attachments_metrics (as stub_status answers its own).
 *
 * Owns the zone, the names and labels of every series and the per-worker
 * slots of the PostgreSQL pool's gauges.  The other files count through
 * the functions below, which do nothing when no location has
 * attachments_metrics.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_METRICS_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* what an upload request came to, by its status */
typedef enum {
    NGX_HTTP_ATTACHMENTS_UPLOAD_STORED = 0,     /* 2xx */
    NGX_HTTP_ATTACHMENTS_UPLOAD_REFUSED,        /* 4xx: the client's */
    NGX_HTTP_ATTACHMENTS_UPLOAD_ABORTED,        /* 499: the client left */
    NGX_HTTP_ATTACHMENTS_UPLOAD_FAILED,         /* 5xx */
    NGX_HTTP_ATTACHMENTS_UPLOAD_OUTCOMES
} ngx_http_attachments_upload_outcome_e;


/* a signed download, verified, or refused and why */
typedef enum {
    NGX_HTTP_ATTACHMENTS_DL_VERIFIED = 0,
    NGX_HTTP_ATTACHMENTS_DL_METHOD,
    NGX_HTTP_ATTACHMENTS_DL_UNSAFE_KEY,
    NGX_HTTP_ATTACHMENTS_DL_REPEATED,
    NGX_HTTP_ATTACHMENTS_DL_MISSING,
    NGX_HTTP_ATTACHMENTS_DL_UNKNOWN_KEY,
    NGX_HTTP_ATTACHMENTS_DL_MALFORMED,
    NGX_HTTP_ATTACHMENTS_DL_MISMATCH,
    NGX_HTTP_ATTACHMENTS_DL_EXPIRED,
    NGX_HTTP_ATTACHMENTS_DL_RESULTS
} ngx_http_attachments_download_result_e;


/* the API's endpoints: a route and a method */
typedef enum {
    NGX_HTTP_ATTACHMENTS_EP_UNROUTED = 0,       /* refused before a route */
    NGX_HTTP_ATTACHMENTS_EP_LIST,
    NGX_HTTP_ATTACHMENTS_EP_UPLOAD,
    NGX_HTTP_ATTACHMENTS_EP_GET,
    NGX_HTTP_ATTACHMENTS_EP_UPDATE,
    NGX_HTTP_ATTACHMENTS_EP_DELETE,
    NGX_HTTP_ATTACHMENTS_EP_CONTENT,
    NGX_HTTP_ATTACHMENTS_EP_VERSIONS,
    NGX_HTTP_ATTACHMENTS_EP_NEW_VERSION,
    NGX_HTTP_ATTACHMENTS_EP_PUBLISH,
    NGX_HTTP_ATTACHMENTS_EP_USAGE,
    NGX_HTTP_ATTACHMENTS_EP_TUS_CREATE,         /* resumable uploads */
    NGX_HTTP_ATTACHMENTS_EP_TUS_HEAD,
    NGX_HTTP_ATTACHMENTS_EP_TUS_PATCH,
    NGX_HTTP_ATTACHMENTS_EP_TUS_DELETE,
    NGX_HTTP_ATTACHMENTS_EP_TUS_OPTIONS,
    NGX_HTTP_ATTACHMENTS_EP_DIRECT_CREATE,      /* direct uploads */
    NGX_HTTP_ATTACHMENTS_EP_DIRECT_CONFIRM,
    NGX_HTTP_ATTACHMENTS_EP_DIRECT_DELETE,
    NGX_HTTP_ATTACHMENTS_ENDPOINTS
} ngx_http_attachments_endpoint_e;


/* storage operations, by the name of their HTTP counterparts */
typedef enum {
    NGX_HTTP_ATTACHMENTS_OP_CREATE = 0,         /* PUT */
    NGX_HTTP_ATTACHMENTS_OP_DELETE,
    NGX_HTTP_ATTACHMENTS_OP_PUBLISH,            /* COPY */
    NGX_HTTP_ATTACHMENTS_OP_HEALTH,             /* HEAD of the store */
    NGX_HTTP_ATTACHMENTS_OP_CHECK,              /* HEAD of an object */
    NGX_HTTP_ATTACHMENTS_OP_READ,               /* GET */
    NGX_HTTP_ATTACHMENTS_OP_FOLDER,             /* MKCOL: a drive's folder */
    NGX_HTTP_ATTACHMENTS_OPS
} ngx_http_attachments_op_e;


/* the collector's counters */
typedef enum {
    NGX_HTTP_ATTACHMENTS_GC_RUNS = 0,
    NGX_HTTP_ATTACHMENTS_GC_PURGED,             /* deleted files' rows */
    NGX_HTTP_ATTACHMENTS_GC_REMOVED,            /* pending uploads' rows */
    NGX_HTTP_ATTACHMENTS_GC_KEPT,               /* rows whose blob stayed */
    NGX_HTTP_ATTACHMENTS_GC_COUNTERS
} ngx_http_attachments_gc_counter_e;


/* the pool's counters; its gauges are in each worker's slot */
typedef enum {
    NGX_HTTP_ATTACHMENTS_PG_QUERIES = 0,
    NGX_HTTP_ATTACHMENTS_PG_WAITS,              /* queued for a connection */
    NGX_HTTP_ATTACHMENTS_PG_ERRORS,             /* answered "unavailable" */
    NGX_HTTP_ATTACHMENTS_PG_COUNTERS
} ngx_http_attachments_pg_counter_e;


void ngx_http_attachments_metrics_upload(ngx_uint_t status, off_t bytes);
void ngx_http_attachments_metrics_download(
    ngx_http_attachments_download_result_e result);
void ngx_http_attachments_metrics_api(ngx_http_attachments_endpoint_e ep,
    ngx_uint_t status);
void ngx_http_attachments_metrics_storage(ngx_str_t *kind,
    ngx_http_attachments_op_e op, ngx_uint_t failed);
void ngx_http_attachments_metrics_gc(ngx_http_attachments_gc_counter_e what,
    ngx_uint_t n);
void ngx_http_attachments_metrics_pg(ngx_http_attachments_pg_counter_e what);
void ngx_http_attachments_metrics_pg_state(ngx_uint_t busy, ngx_uint_t idle,
    ngx_uint_t queued);

/* 405 with "Allow: GET, HEAD", for the monitoring locations */
ngx_int_t ngx_http_attachments_metrics_not_allowed(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_attachments_metrics_module;


#endif /* _NGX_HTTP_ATTACHMENTS_METRICS_H_INCLUDED_ */
