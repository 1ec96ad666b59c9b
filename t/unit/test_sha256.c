
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of the saveable SHA-256: FIPS 180-4's examples, then
 * OpenSSL's digest as the oracle over every length around the block and
 * padding edges and random inputs fed in random pieces, with the state
 * saved and loaded back between pieces as a resumed upload does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_sha256.h"
#include "tap.h"


static void
hex(u_char *out, const u_char *md)
{
    ngx_uint_t  i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[md[i] & 0xf];
    }

    out[64] = '\0';
}


static void
oracle(const u_char *p, size_t len, u_char md[32])
{
    unsigned int  n;

    (void) EVP_Digest(p, len, md, &n, EVP_sha256(), NULL);
}


/* fed in pieces of up to max bytes (0: whole), saved and loaded after
 * each into a state wiped first: as OpenSSL digests it whole */
static int
agrees(const u_char *p, size_t len, size_t max, unsigned *seed)
{
    u_char                         md[32], want[32];
    u_char                         state[NGX_HTTP_ATTACHMENTS_SHA256_STATE];
    size_t                         n, left;
    const u_char                  *q;
    ngx_http_attachments_sha256_t  s;

    ngx_http_attachments_sha256_init(&s);

    for (q = p, left = len; left; q += n, left -= n) {
        n = max ? (size_t) rand_r(seed) % max + 1 : left;
        n = ngx_min(n, left);
        ngx_http_attachments_sha256_update(&s, q, n);

        ngx_http_attachments_sha256_save(&s, state);
        ngx_memzero(&s, sizeof(s));
        if (ngx_http_attachments_sha256_load(&s, state) != NGX_OK) {
            return 0;
        }
    }

    ngx_http_attachments_sha256_final(&s, md);
    oracle(p, len, want);

    return ngx_memcmp(md, want, 32) == 0;
}


int
main(void)
{
    u_char                         md[32], out[65], *big;
    u_char                         state[NGX_HTTP_ATTACHMENTS_SHA256_STATE];
    size_t                         len, bad;
    unsigned                       seed;
    ngx_uint_t                     i, round;
    ngx_http_attachments_sha256_t  s;

    /* FIPS 180-4's examples */

    ngx_http_attachments_sha256_init(&s);
    ngx_http_attachments_sha256_final(&s, md);
    hex(out, md);
    is_str(out, 64, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
           "7852b855", "the empty message");

    ngx_http_attachments_sha256_init(&s);
    ngx_http_attachments_sha256_update(&s, (u_char *) "abc", 3);
    ngx_http_attachments_sha256_final(&s, md);
    hex(out, md);
    is_str(out, 64, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
           "f20015ad", "abc");

    ngx_http_attachments_sha256_init(&s);
    ngx_http_attachments_sha256_update(&s, (u_char *)
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
    ngx_http_attachments_sha256_final(&s, md);
    hex(out, md);
    is_str(out, 64, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
           "19db06c1", "the 448-bit message (padding in a block of its own)");

    big = malloc(1000000);
    if (big == NULL) {
        return 2;
    }

    ngx_memset(big, 'a', 1000000);
    ngx_http_attachments_sha256_init(&s);
    ngx_http_attachments_sha256_update(&s, big, 1000000);
    ngx_http_attachments_sha256_final(&s, md);
    hex(out, md);
    is_str(out, 64, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39cc"
           "c7112cd0", "a million a");

    /* every length around the block and padding edges, whole and bytewise */

    for (i = 0; i < 1000000; i++) {
        big[i] = (u_char) (i * 2654435761u >> 13);
    }

    seed = 1;
    bad = 0;

    for (len = 0; len <= 200; len++) {
        if (!agrees(big, len, 0, &seed) || !agrees(big, len, 1, &seed)) {
            bad++;
        }
    }

    ok(bad == 0, "lengths 0 to 200, whole and a byte at a time, saved and "
       "loaded after each: as OpenSSL");

    /* random lengths in random pieces */

    bad = 0;

    for (round = 0; round < 300; round++) {
        len = (size_t) rand_r(&seed) % 200000;
        if (!agrees(big + rand_r(&seed) % 1000, len,
                    (size_t) rand_r(&seed) % 5000, &seed))
        {
            bad++;
        }
    }

    ok(bad == 0, "300 random inputs up to 200 KB in random pieces: as OpenSSL");

    ok(agrees(big, 1000000, 0, &seed), "a megabyte in one piece: as OpenSSL");

    /* a state that is not one is refused */

    ngx_http_attachments_sha256_init(&s);
    ngx_http_attachments_sha256_update(&s, big, 100);
    ngx_http_attachments_sha256_save(&s, state);
    ok(ngx_http_attachments_sha256_load(&s, state) == NGX_OK,
       "a saved state loads");
    state[3] ^= 1;
    ok(ngx_http_attachments_sha256_load(&s, state) == NGX_ERROR,
       "a state without its tag is refused");

    ok(sizeof(ngx_http_attachments_sha256_t) <= NGX_HTTP_ATTACHMENTS_SHA256_STATE,
       "the saved state holds the whole state");

    free(big);

    return done_testing();
}
