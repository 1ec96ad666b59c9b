
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * SHA-256 (FIPS 180-4) whose state is plain bytes: a resumable upload's
 * digest goes on across requests, workers and restarts by keeping the
 * state beside its partial blob, which OpenSSL's opaque contexts cannot
 * be saved to.  Portable C, for bytes that arrive at a client's pace;
 * whole uploads keep OpenSSL's faster digest.  Nothing here touches the
 * nginx runtime; the unit tests link it alone.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_SHA256_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_SHA256_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the state as saved: its size never changes with the platform */
#define NGX_HTTP_ATTACHMENTS_SHA256_STATE  112


typedef struct {
    uint32_t      h[8];
    uint64_t      bytes;          /* hashed so far */
    u_char        block[64];      /* bytes % 64 of them, not yet hashed */
} ngx_http_attachments_sha256_t;


void ngx_http_attachments_sha256_init(ngx_http_attachments_sha256_t *s);
void ngx_http_attachments_sha256_update(ngx_http_attachments_sha256_t *s,
    const u_char *p, size_t len);
void ngx_http_attachments_sha256_final(ngx_http_attachments_sha256_t *s,
    u_char md[32]);

void ngx_http_attachments_sha256_save(ngx_http_attachments_sha256_t *s,
    u_char out[NGX_HTTP_ATTACHMENTS_SHA256_STATE]);
ngx_int_t ngx_http_attachments_sha256_load(ngx_http_attachments_sha256_t *s,
    const u_char in[NGX_HTTP_ATTACHMENTS_SHA256_STATE]);


#endif /* _NGX_HTTP_ATTACHMENTS_SHA256_H_INCLUDED_ */
