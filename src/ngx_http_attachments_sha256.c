
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_sha256.h"


#define ROTR(x, n)   (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define S0(x)        (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define S1(x)        (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define s0(x)        (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define s1(x)        (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))


/* what a saved state starts with: its format, and a check on the load */
static const u_char  ngx_http_attachments_sha256_tag[8] = "sha256s1";


static const uint32_t  ngx_http_attachments_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};


static uint32_t
ngx_http_attachments_be32(const u_char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


static u_char *
ngx_http_attachments_put_be(u_char *p, uint64_t v, ngx_uint_t n)
{
    while (n--) {
        *p++ = (u_char) (v >> (8 * n));
    }

    return p;
}


static void
ngx_http_attachments_sha256_block(uint32_t h[8], const u_char *p)
{
    uint32_t    w[64], a, b, c, d, e, f, g, hh, t1, t2;
    ngx_uint_t  i;

    for (i = 0; i < 16; i++) {
        w[i] = ngx_http_attachments_be32(p + 4 * i);
    }

    for (i = 16; i < 64; i++) {
        w[i] = s1(w[i - 2]) + w[i - 7] + s0(w[i - 15]) + w[i - 16];
    }

    a = h[0]; b = h[1]; c = h[2]; d = h[3];
    e = h[4]; f = h[5]; g = h[6]; hh = h[7];

    for (i = 0; i < 64; i++) {
        t1 = hh + S1(e) + CH(e, f, g) + ngx_http_attachments_sha256_k[i] + w[i];
        t2 = S0(a) + MAJ(a, b, c);
        hh = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }

    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}


void
ngx_http_attachments_sha256_init(ngx_http_attachments_sha256_t *s)
{
    static const uint32_t  iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };

    ngx_memcpy(s->h, iv, sizeof(iv));
    s->bytes = 0;
}


void
ngx_http_attachments_sha256_update(ngx_http_attachments_sha256_t *s,
    const u_char *p, size_t len)
{
    size_t  have, n;

    have = s->bytes % 64;
    s->bytes += len;

    if (have) {
        n = ngx_min(64 - have, len);
        ngx_memcpy(s->block + have, p, n);
        p += n;
        len -= n;

        if (have + n < 64) {
            return;
        }

        ngx_http_attachments_sha256_block(s->h, s->block);
    }

    for ( /* void */ ; len >= 64; p += 64, len -= 64) {
        ngx_http_attachments_sha256_block(s->h, p);
    }

    ngx_memcpy(s->block, p, len);
}


void
ngx_http_attachments_sha256_final(ngx_http_attachments_sha256_t *s,
    u_char md[32])
{
    u_char      pad[72];
    size_t      n;
    uint64_t    bits;
    ngx_uint_t  i;

    bits = s->bytes * 8;

    /* 0x80, zeros up to 56 mod 64, then the length in bits */
    n = 64 - (s->bytes + 8) % 64;
    ngx_memzero(pad, sizeof(pad));
    pad[0] = 0x80;
    (void) ngx_http_attachments_put_be(pad + n, bits, 8);

    ngx_http_attachments_sha256_update(s, pad, n + 8);

    for (i = 0; i < 8; i++) {
        md = ngx_http_attachments_put_be(md, s->h[i], 4);
    }
}


/* the tag, h[] and the count big-endian, then the pending block whole */

void
ngx_http_attachments_sha256_save(ngx_http_attachments_sha256_t *s,
    u_char out[NGX_HTTP_ATTACHMENTS_SHA256_STATE])
{
    u_char      *p;
    ngx_uint_t   i;

    p = ngx_cpymem(out, ngx_http_attachments_sha256_tag, 8);

    for (i = 0; i < 8; i++) {
        p = ngx_http_attachments_put_be(p, s->h[i], 4);
    }

    p = ngx_http_attachments_put_be(p, s->bytes, 8);
    ngx_memcpy(p, s->block, 64);
}


ngx_int_t
ngx_http_attachments_sha256_load(ngx_http_attachments_sha256_t *s,
    const u_char in[NGX_HTTP_ATTACHMENTS_SHA256_STATE])
{
    ngx_uint_t  i;

    if (ngx_memcmp(in, ngx_http_attachments_sha256_tag, 8) != 0) {
        return NGX_ERROR;
    }

    in += 8;

    for (i = 0; i < 8; i++, in += 4) {
        s->h[i] = ngx_http_attachments_be32(in);
    }

    s->bytes = (uint64_t) ngx_http_attachments_be32(in) << 32
               | ngx_http_attachments_be32(in + 4);

    ngx_memcpy(s->block, in + 8, 64);

    return NGX_OK;
}
