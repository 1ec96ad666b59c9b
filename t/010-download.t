# Copyright (C) 2026 The ngx_http_attachments_module authors

# Signed local downloads: verification in nginx, internal redirect, headers,
# tampering, expiry, path safety, key rotation, minting.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::Sign;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
plan tests => repeat_each() * 133;

our $HttpConfig = <<'_EOC_';
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_signing_key old $TEST_NGINX_TOP/t/data/old.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
_EOC_

our $Config = <<'_EOC_';
    if_modified_since before;

    location /files/ {
        attachments_download main;
    }

    location /_store/ {
        internal;
        alias $TEST_NGINX_HTML_DIR/store/;
    }
_EOC_

# [name, body]: a ">>> name" line cannot have a space in the name (Test::Nginx
# reads what follows the name as the file's mtime)
our $Files = [
    ['store/org_acme/work_orders/7/contract.pdf',
     "%PDF-1.4 0123456789 contract body\n"],
    ['store/org_acme/a b+c.txt', "spaces and plus\n"],
    ['secret.txt', "not in the storage\n"],
];

block_defaults(
    http_config => $HttpConfig,
    config => $Config,
    user_files => $Files,
);

sub url { signed_url(kid => 'new', @_) }
sub lc_names { my $u = shift; $u =~ s/([?&])(X-[A-Za-z-]+)=/$1\L$2\E=/g; $u }

our $Contract = '/files/org_acme/work_orders/7/contract.pdf';

run_tests();

__DATA__

=== TEST 1: a valid URL serves the file with the signed type and name
--- request eval
"GET " . ::url(raw => $::Contract, filename => "contract.pdf",
                   type => "application/pdf")
--- response_headers
Content-Type: application/pdf
Content-Disposition: attachment; filename="contract.pdf"; filename*=UTF-8''contract.pdf
X-Content-Type-Options: nosniff
Content-Length: 34
Accept-Ranges: bytes
--- response_body
%PDF-1.4 0123456789 contract body
--- no_error_log
download refused
[error]



=== TEST 1b: ...with nginx's own validators
(A block's response_headers_like is not looked at when it has
response_headers: Test::Nginx checks one or the other.)
--- request eval
"GET " . ::url(raw => $::Contract, filename => "contract.pdf",
                   type => "application/pdf")
--- response_headers_like
ETag: ^"[0-9a-f]+-22"$
Last-Modified: .+ GMT



=== TEST 2: Range requests are nginx's own
--- request eval
"GET " . ::url(raw => $::Contract)
--- more_headers
Range: bytes=0-7
--- error_code: 206
--- response_headers
Content-Range: bytes 0-7/34
Content-Disposition: attachment
--- response_body chomp
%PDF-1.4



=== TEST 3: HEAD is granted by a GET URL
--- request eval
"HEAD " . ::url(raw => $::Contract, type => "application/pdf")
--- response_headers
Content-Length: 34
Content-Type: application/pdf
--- response_body eval
""



=== TEST 4: conditional requests get 304
--- request eval
"GET " . ::url(raw => $::Contract)
--- more_headers
If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT
--- error_code: 304
--- response_body eval
""



=== TEST 5: without a filename or type nginx picks the type
--- request eval
"GET " . ::url(raw => "/files/org_acme/a%20b%2Bc.txt")
--- response_headers
Content-Type: text/plain
Content-Disposition: attachment
--- response_body
spaces and plus



=== TEST 6: a UTF-8 filename with quotes is encoded, never injected
--- request eval
"GET " . ::url(raw => $::Contract,
                   filename => "r\x{e9}sum\x{e9} \"final\".pdf")
--- response_headers
Content-Disposition: attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%E9sum%E9%20%22final%22.pdf
--- response_body
%PDF-1.4 0123456789 contract body



=== TEST 7: a flipped signature is 403 JSON, logged at info
--- request eval
"GET " . ::url(raw => $::Contract, tamper => sub {
    $_[0]{'X-Signature'} =~ s/^(.)/$1 eq 'A' ? 'B' : 'A'/e })
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"code":"forbidden","message":"the download URL is not valid"}}
--- error_log
[info]
attachments: download refused (signature mismatch): "/files/org_acme/work_orders/7/contract.pdf"



=== TEST 8: a signature for another file does not open this one
--- request eval
my $u = ::url(raw => "/files/org_acme/a%20b%2Bc.txt");
$u =~ s{^/files/org_acme/a%20b%2Bc\.txt}{$::Contract};
"GET $u"
--- error_code: 403
--- error_log
signature mismatch



=== TEST 9: every signed parameter is covered
--- request eval
[
  "GET " . ::url(raw => $::Contract, filename => "a.pdf",
      tamper => sub { $_[0]{'X-Filename'} = 'a.exe' }),
  "GET " . ::url(raw => $::Contract, type => "application/pdf",
      tamper => sub { $_[0]{'X-Type'} = 'text/html' }),
  "GET " . ::url(raw => $::Contract, type => "application/pdf",
      tamper => sub { delete $_[0]{'X-Type'} }),
  "GET " . ::url(raw => $::Contract,
      tamper => sub { $_[0]{'X-Filename'} = 'added.html' }),
  "GET " . ::url(raw => $::Contract,
      tamper => sub { $_[0]{'X-Expires'} += 100000 }),
  "GET " . ::url(raw => $::Contract,
      tamper => sub { $_[0]{'X-Key-Id'} = 'old' }),
]
--- error_code eval
[403, 403, 403, 403, 403, 403]
--- error_log
signature mismatch



=== TEST 9a: a repeated parameter is refused, whichever copy was signed
--- request eval
[map { my $u = ::url(raw => $::Contract, filename => "a.pdf"); "GET $u$_" }
     "&X-Filename=b.exe", "&X-Signature=x", "&X-Expires=1"]
--- error_code eval
[403, 403, 403]
--- error_log
download refused (repeated parameter)



=== TEST 9b: parameter names are exact, other parameters are ignored
--- request eval
["GET " . ::url(raw => $::Contract) . "&utm_source=mail",
 "GET " . ::lc_names(::url(raw => $::Contract))]
--- error_code eval
[200, 403]



=== TEST 10: an expired genuine URL is 410
--- request eval
"GET " . ::url(raw => $::Contract, expires => time - 5)
--- error_code: 410
--- response_body
{"error":{"code":"url_expired","message":"the download URL has expired"}}
--- error_log
download refused (expired)



=== TEST 11: an expired URL with a bad signature is 403, not 410
--- request eval
"GET " . ::url(raw => $::Contract, expires => time - 5,
                   tamper => sub { $_[0]{'X-Signature'} = 'x' x 43 })
--- error_code: 403



=== TEST 12: an unknown key id
--- request eval
"GET " . ::signed_url(raw => $::Contract, kid => 'gone',
                      secret => ::secret('new'))
--- error_code: 403
--- error_log
download refused (unknown key id)



=== TEST 12b: missing parameters
--- request eval
[
  "GET " . ::url(raw => $::Contract,
                     tamper => sub { delete $_[0]{'X-Signature'} }),
  "GET " . ::url(raw => $::Contract,
                     tamper => sub { delete $_[0]{'X-Expires'} }),
  "GET $::Contract",
]
--- error_code eval
[403, 403, 403]
--- error_log
download refused (signature parameters missing)



=== TEST 12c: an expiry that is no number
--- request eval
"GET " . ::url(raw => $::Contract,
               tamper => sub { $_[0]{'X-Expires'} = 'soon' })
--- error_code: 403
--- error_log
download refused (signature mismatch)



=== TEST 13: traversal is refused even with a valid signature
Each path still maps into /files/ after nginx's own normalisation, and
each is signed over its decoded form; nginx itself rejects a NUL with 400.
--- no_http2
--- request eval
[ map { "GET " . ::url(raw => $_) }
  "/files/org_acme/../org_acme/a%20b%2Bc.txt",
  "/files/org_acme//a%20b%2Bc.txt",
  "/files/org_acme/%2e%2e/org_acme/a%20b%2Bc.txt",
  "/files/org_acme/x/%2E%2E%2Fa%20b%2Bc.txt",
  "/files/org_acme/x/.%2e/a%20b%2Bc.txt",
  "/files/org_acme/./a%20b%2Bc.txt",
  "/files/org_acme/x%5c..%5ca%20b%2Bc.txt",
  "/files/org_acme%2F%2Fa%20b%2Bc.txt",
  "/files/%252e%252e/org_acme/a%20b%2Bc.txt",
  "/files/org_acme/",
]
--- error_code eval
[(403) x 10]
--- error_log
unsafe storage key
--- no_error_log
signature mismatch



=== TEST 13b: nginx itself rejects a NUL
--- request eval
"GET " . ::url(raw => "/files/org_acme/a%20b%2Bc.txt%00")
--- error_code: 400
--- no_error_log
signature mismatch



=== TEST 14: control characters in signed parameters are refused
--- request eval
[
  "GET " . ::url(raw => $::Contract,
                     filename => "a\r\nSet-Cookie: x=1.pdf"),
  "GET " . ::url(raw => $::Contract, type => "text/html\r\nX: y"),
]
--- error_code eval
[403, 403]
--- response_headers eval
["!Set-Cookie", "!X"]
--- error_log
download refused (malformed parameter)



=== TEST 15: other methods are 405 with Allow
--- request eval
"POST " . ::url(raw => $::Contract) . "\nbody"
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json
--- response_body
{"error":{"code":"method_not_allowed","message":"only GET and HEAD download"}}



=== TEST 16: the internal location is not reachable from outside
--- request
GET /_store/org_acme/work_orders/7/contract.pdf
--- error_code: 404



=== TEST 17: a valid URL for a missing blob is 404
--- request eval
"GET " . ::url(raw => "/files/org_acme/missing.pdf")
--- error_code: 404



=== TEST 18: a URL signed with the old key works while the key is configured
--- request eval
"GET " . ::signed_url(raw => $::Contract, kid => 'old')
--- response_body
%PDF-1.4 0123456789 contract body



=== TEST 19: once the old key is removed its URLs are refused
--- http_config
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- request eval
"GET " . ::signed_url(raw => $::Contract, kid => 'old')
--- error_code: 403
--- error_log
download refused (unknown key id)



=== TEST 19b: ...while the new key's URLs still work
--- http_config
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- request eval
"GET " . ::signed_url(raw => $::Contract, kid => 'new')
--- error_code: 200



=== TEST 20: $attachments_signed_url mints with the first key, byte for byte
--- config eval
$::Config . <<'_EOC_';
    location = /mint {
        set $fn "résumé.pdf";
        attachments_sign main org_acme/a+b.pdf filename=$fn
                         type=application/pdf expires=2000000000;
        return 200 "$attachments_signed_url\n";
    }
_EOC_
--- request
GET /mint
--- response_body eval
::signed_url(raw => "/files/org_acme/a%2Bb.pdf", path => "/files/org_acme/a+b.pdf",
           kid => 'new', expires => 2000000000,
           filename => "r\x{c3}\x{a9}sum\x{c3}\x{a9}.pdf",
           type => 'application/pdf') . "\n"



=== TEST 21: minted URLs expire attachments_url_ttl from now
--- http_config eval
$::HttpConfig . "attachments_url_ttl 2h;"
--- config eval
$::Config . <<'_EOC_';
    location = /mint {
        attachments_sign main org_acme/x.pdf;
        return 200 "$msec $attachments_signed_url\n";
    }
_EOC_
--- request
GET /mint
--- response_body_like eval
qr{^(\d+)\.\d+ /files/org_acme/x\.pdf\?X-Expires=(??{ $1 + 7200 })&X-Key-Id=new&X-Signature=[A-Za-z0-9_-]{43}\n$}



=== TEST 22: a minted URL downloads through nginx itself
--- config eval
$::Config . <<'_EOC_';
    location = /roundtrip {
        attachments_sign main $arg_key type=text/plain filename=$arg_name;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT$attachments_signed_url;
    }
_EOC_
--- request
GET /roundtrip?key=org_acme/work_orders/7/contract.pdf&name=c.pdf
--- response_headers
Content-Type: text/plain
Content-Disposition: attachment; filename="c.pdf"; filename*=UTF-8''c.pdf
--- response_body
%PDF-1.4 0123456789 contract body



=== TEST 23: minting refuses unsafe keys
--- config eval
$::Config . <<'_EOC_';
    location = /mint {
        attachments_sign main $arg_key;
        return 200 "[$attachments_signed_url]\n";
    }
_EOC_
--- request
GET /mint?key=../etc/passwd
--- response_body
[]
--- error_log
refusing to sign unsafe key "../etc/passwd"



=== TEST 24: the attachments-sign tool makes URLs nginx accepts
--- request eval
my $u = `$ENV{TEST_NGINX_TOP}/build/attachments-sign -s $ENV{TEST_NGINX_TOP}/t/data/old.key -i old -f c.pdf -c application/pdf org_acme/work_orders/7/contract.pdf`;
CORE::chomp($u);
"GET $u"
--- response_headers
Content-Type: application/pdf
--- response_body
%PDF-1.4 0123456789 contract body
