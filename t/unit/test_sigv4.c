
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of SigV4 presigning (TAP, run by t/003-unit-sigv4.t): AWS's
 * published example, the encodings, the signing key cache.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_sigv4.h"
#include "tap.h"


#define SET(v, a)  ((v).data = (u_char *) (a), (v).len = sizeof(a) - 1)


static void
test_aws_example(void)
{
    size_t                           n;
    u_char                           url[1024];
    ngx_http_attachments_sigv4_t     s;
    ngx_http_attachments_presign_t   p;

    /* "Authenticating Requests: Using Query Parameters", Example */

    ngx_memzero(&s, sizeof(s));
    ngx_memzero(&p, sizeof(p));
    SET(s.access_key, "AKIAIOSFODNN7EXAMPLE");
    SET(s.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    SET(s.region, "us-east-1");
    SET(s.service, "s3");
    SET(p.host, "examplebucket.s3.amazonaws.com");
    SET(p.path, "/test.txt");
    p.now = 1369353600;             /* 20130524T000000Z */
    p.expires = 86400;

    n = ngx_http_attachments_presign(url, &s, &p);
    is_str(url, n,
           "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3"
           "%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
           "&X-Amz-SignedHeaders=host&X-Amz-Signature="
           "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
           "AWS's published presigned GET");
    ok(n == ngx_http_attachments_presign(NULL, &s, &p),
       "measuring matches writing");

    n = ngx_http_attachments_presign(url, &s, &p);
    ok(n > 64 && ngx_strncmp(url + n - 64, "aeeed9bbccd4d02ee5c0109b86d868",
                             30) == 0, "the cached signing key signs alike");

    p.now += 86400;
    n = ngx_http_attachments_presign(url, &s, &p);
    ok(ngx_strncmp(s.day, "20130525", 8) == 0
       && ngx_strncmp(url + n - 64, "aeeed9bbccd4d02ee5c0109b86d868", 30)
          != 0, "a new day derives a new key");
}


static void
test_escape(void)
{
    size_t  n;
    u_char  out[256];

    n = ngx_http_attachments_aws_escape(out,
            (u_char *) "/a b/r\xc3\xa9sum\xc3\xa9+1~_.-*'.pdf", 25, 1);
    is_str(out, n, "/a%20b/r%C3%A9sum%C3%A9%2B1~_.-%2A%27.pdf",
           "path: slashes kept, everything else but unreserved escaped");

    n = ngx_http_attachments_aws_escape(out, (u_char *) "a/b=c&d;e", 9, 0);
    is_str(out, n, "a%2Fb%3Dc%26d%3Be", "query value: slash escaped too");

    ok(ngx_http_attachments_aws_escape(NULL, (u_char *) "a b", 3, 0) == 5,
       "measuring");
}


/* known answers: botocore's S3SigV4Auth for the same request and clock */

static void
test_authorization(void)
{
    size_t                                n;
    u_char                                auth[512];
    ngx_http_attachments_sigv4_t          s;
    ngx_http_attachments_sigv4_request_t  rq;

    ngx_memzero(&s, sizeof(s));
    ngx_memzero(&rq, sizeof(rq));
    SET(s.access_key, "AKIAIOSFODNN7EXAMPLE");
    SET(s.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    SET(s.region, "us-east-1");
    SET(s.service, "s3");
    SET(rq.method, "PUT");
    SET(rq.host, "127.0.0.1:4569");
    SET(rq.path, "/files/org_acme/work_orders/123/contract.pdf");
    rq.now = 1769941800;
    rq.payload = (u_char *)
        "7b825a9f5e17c0e230398c4c4ba624b118c3dd824f20dda76c58aeece142c45f";

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    is_str(auth, n,
           "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260201/"
           "us-east-1/s3/aws4_request, SignedHeaders=host;"
           "x-amz-content-sha256;x-amz-date, Signature="
           "f3ef9d26af9af3356948e08d49bd663c88415ea16efeec2a37eac70e3191e571",
           "PUT signed in its headers as botocore signs it");
    is_str(rq.date, 16, "20260201T103000Z", "x-amz-date");
    ok(n == ngx_http_attachments_sigv4_authorization(NULL, &s, &rq),
       "measuring matches writing");

    /* a virtual-host DELETE, the key escaped in the canonical request */

    SET(s.region, "eu-west-1");
    ngx_memzero(s.day, 8);          /* the key cache is per region */
    SET(rq.method, "DELETE");
    SET(rq.host, "bkt.s3.eu-west-1.amazonaws.com");
    SET(rq.path, "/org_acme/a b/r\xc3\xa9sum\xc3\xa9.pdf");
    rq.payload = (u_char *)
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    ok(n > 64 && ngx_strncmp(auth + n - 64,
           "c201c22d74adb0a4390146cdaead580706a5c37932b1eddb0c2b5ccdb1fe5f9e",
           64) == 0, "DELETE of an escaped key as botocore signs it");

    rq.path.len--;
    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    ok(n > 64 && ngx_strncmp(auth + n - 64, "c201c22d74adb0a439", 18) != 0,
       "another path, another signature");

    /* a HEAD that asks for the stored checksum signs the header asking */

    SET(s.region, "us-east-1");
    ngx_memzero(s.day, 8);
    SET(rq.method, "HEAD");
    SET(rq.host, "127.0.0.1:4569");
    SET(rq.path, "/files/org_acme/work_orders/123/contract.pdf");
    rq.checksum_mode = 1;

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    is_str(auth, n,
           "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260201/"
           "us-east-1/s3/aws4_request, SignedHeaders=host;"
           "x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature="
           "79e215b2c9e3f92ee731a53057ca74405f379efcb33fab2402365ed6339108cd",
           "HEAD with x-amz-checksum-mode as botocore signs it");
    ok(n == ngx_http_attachments_sigv4_authorization(NULL, &s, &rq),
       "measuring matches writing, with the checksum mode");

    /* multipart uploads: a query string, canonical, in the signature */

    rq.checksum_mode = 0;
    SET(rq.method, "POST");
    SET(rq.path, "/files/org_acme/a b.pdf");
    SET(rq.query, "uploads=");

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    ok(n > 64 && ngx_strncmp(auth + n - 64,
           "62460aca9567be48c7d4c3fcbec1075df6dd00b0c665d12c414e8875a6dc9dda",
           64) == 0, "CreateMultipartUpload as botocore signs it");

    SET(rq.method, "PUT");
    SET(rq.query, "partNumber=2&uploadId=VXBsb2FkIElE~x.y");
    rq.payload = (u_char *)
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    ok(n > 64 && ngx_strncmp(auth + n - 64,
           "f04c937f9174351beb1d580c1b7ea8b89978c91963a4f660152a141cb2fe1dca",
           64) == 0, "UploadPart as botocore signs it");

    rq.payload = (u_char *) "UNSIGNED-PAYLOAD";

    n = ngx_http_attachments_sigv4_authorization(auth, &s, &rq);
    ok(n > 64 && ngx_strncmp(auth + n - 64,
           "fe2505e91758603a8190fd59d050ee127cabb1423e237379506c1028e38d3801",
           64) == 0, "UploadPart with UNSIGNED-PAYLOAD as botocore signs it");
}


int
main(void)
{
    test_aws_example();
    test_escape();
    test_authorization();

    return done_testing();
}
