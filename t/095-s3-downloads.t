# Copyright (C) 2026 The ngx_http_attachments_module authors

# Files in an S3 storage: their download_url and /content are SigV4
# presigned GETs, byte for byte what botocore makes for the same request
# time (path-style and virtual-host style).

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::HTTP;
use JSON::PP;
use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 30;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569/ region=us-east-1
        bucket=files access_key=AKIAIOSFODNN7EXAMPLE
        secret_file=$TEST_NGINX_TOP/t/data/s3.secret;
    attachments_storage aws s3 endpoint=https://s3.eu-west-1.amazonaws.com:443
        region=eu-west-1 bucket=acme-files style=virtual
        access_key=AKIAIOSFODNN7EXAMPLE secret_env=ATTACHMENTS_TEST_SECRET;
    attachments_url_ttl 2h;
_EOC_

$ENV{ATTACHMENTS_TEST_SECRET} = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

block_defaults(
    http_config => $Http,
    config => $ApiConfig,
    more_headers => $Owner,
);

reset_db();
seed_people();
add_file(id => uuid(1), storage => 'cloud', eid => '3', name => "r\xc3\xa9sum\xc3\xa9 (1).pdf",
         ext => 'pdf', content_type => 'application/pdf',
         key => 'org_acme/work_orders/3/a b+c.pdf');
add_file(id => uuid(2), storage => 'aws', eid => '3', name => 'q1.xlsx',
         content_type => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
         key => 'org_acme/work_orders/3/q1.xlsx');

# botocore's URLs for every second around now
sub botocore {
    my (%c) = @_;
    my ($fh, $name) = File::Temp::tempfile(UNLINK => 1);
    my $json = JSON::PP->new->utf8->canonical;
    my $now = time;
    for my $t ($now - 3 .. $now + 3) {
        # every download says: no shared cache, no encoding
        print $fh $json->encode({ cache_control => 'private',
            encoding => 'identity', %c, now => $t, expires => 7200,
            access_key => 'AKIAIOSFODNN7EXAMPLE',
            secret => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) . "\n";
    }
    close $fh;
    my @urls = `/usr/bin/python3 $ENV{TEST_NGINX_TOP}/t/inc/botocore_presign.py < $name`;
    chomp @urls;
    return @urls;
}

sub api {
    my $path = shift;
    return Attachments::HTTP->new(max_redirect => 0)->get(
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
}

our $Cloud = { endpoint => 'http://127.0.0.1:4569', style => 'path',
               region => 'us-east-1', bucket => 'files',
               key => "org_acme/work_orders/3/a b+c.pdf",
               disposition => q{attachment; filename="r__sum__ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf},
               type => 'application/pdf' };

run_tests();

__DATA__

=== TEST 1: a path-style file: its download_url is botocore's presigned URL
--- init
my @want = ::botocore(%$::Cloud);
my $r = ::api('/api/work_orders/3/files/' . ::uuid(1));
my $j = JSON::PP->new->decode($r->{content});
Test::More::ok((grep { $_ eq $j->{download_url} } @want),
               'byte for byte one of botocore\'s for this second')
    or Test::More::diag("got $j->{download_url}\nwant e.g. $want[3]");
my ($date) = $j->{download_url} =~ /X-Amz-Date=(\d{8}T\d{6}Z)/;
Test::More::ok(defined $date, 'dated');
Test::More::like($j->{download_url_expires_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
                 'with its expiry');
--- request
GET /api/work_orders/3/files
--- response_body_like: "download_url":"http://127\.0\.0\.1:4569/files/org_acme/work_orders/3/a%20b%2Bc\.pdf\?response-cache-control=private&response-content-disposition=



=== TEST 2: /content answers 302 to a fresh presigned URL
--- init
my @want = ::botocore(%$::Cloud);
my $r = ::api('/api/work_orders/3/files/' . ::uuid(1) . '/content');
Test::More::is($r->{status}, 302, "status 302");
Test::More::ok((grep { $_ eq $r->{headers}{location} } @want), 'to botocore\'s URL')
    or Test::More::diag("got $r->{headers}{location}");
--- request
GET /api/work_orders/3/files/00000000-0000-4000-8000-000000000001/content
--- error_code: 302
--- response_headers_like
Location: ^http://127\.0\.0\.1:4569/files/org_acme/work_orders/3/a%20b%2Bc\.pdf\?.*&X-Amz-Expires=7200&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$



=== TEST 3: virtual-host style on AWS, secret from the environment
--- init
my @want = ::botocore(endpoint => 'https://s3.eu-west-1.amazonaws.com', style => 'virtual',
                      region => 'eu-west-1', bucket => 'acme-files',
                      key => 'org_acme/work_orders/3/q1.xlsx',
                      disposition => q{attachment; filename="q1.xlsx"; filename*=UTF-8''q1.xlsx},
                      type => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
my $r = ::api('/api/work_orders/3/files/' . ::uuid(2));
my $j = JSON::PP->new->decode($r->{content});
Test::More::ok((grep { $_ eq $j->{download_url} } @want), 'byte for byte')
    or Test::More::diag("got $j->{download_url}\nwant e.g. $want[3]");
--- request
GET /api/work_orders/3/files/00000000-0000-4000-8000-000000000002
--- response_body_like: "download_url":"https://acme-files\.s3\.eu-west-1\.amazonaws\.com/org_acme/work_orders/3/q1\.xlsx\?



=== TEST 4: an s3 storage needs all its parameters
--- http_config
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK;
--- config
--- must_die
--- error_log
s3 storage "cloud" needs "endpoint=", "region=", "bucket=", "access_key=" and "secret_file=" or "secret_env="



=== TEST 5: an s3 storage that receives uploads needs proxy= and temp=
--- http_config
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK secret_file=$TEST_NGINX_TOP/t/data/s3.secret
        temp=/tmp;
--- config
--- must_die
--- error_log
the s3 storage "cloud" receives uploads and needs "proxy=" (an internal location that proxy_pass'es to its endpoint) and "temp="



=== TEST 6: proxy= is a location prefix
--- http_config
    attachments_storage main local root=/srv internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK secret_file=$TEST_NGINX_TOP/t/data/s3.secret
        proxy=/_s3;
--- config
--- must_die
--- error_log
"proxy=" must be a location prefix that starts and ends with "/", not "/_s3"



=== TEST 7: an endpoint is a scheme and a host
--- http_config
    attachments_storage main local root=/srv internal=/_s/;
    attachments_storage cloud s3 endpoint=127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK secret_file=$TEST_NGINX_TOP/t/data/s3.secret;
--- config
--- must_die
--- error_log
"endpoint=" must be an http:// or https:// URL, not "127.0.0.1:4569"



=== TEST 8: S3 files are not downloaded through nginx
--- http_config
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=/srv internal=/_s/;
    attachments_storage cloud s3 endpoint=http://h region=r bucket=b access_key=AK
        secret_file=$TEST_NGINX_TOP/t/data/s3.secret;
--- config
    location /files/ { attachments_download cloud; }
--- must_die
--- error_log
storage "cloud" is downloaded from S3 through presigned URLs, not through nginx



=== TEST 9: a missing environment secret
--- http_config
    attachments_storage main local root=/srv internal=/_s/;
    attachments_storage cloud s3 endpoint=http://h region=r bucket=b access_key=AK
        secret_env=ATTACHMENTS_NO_SUCH_VARIABLE;
--- config
--- must_die
--- error_log
the environment has no "ATTACHMENTS_NO_SUCH_VARIABLE"



=== TEST 10: an S3 key read back from the database is held to the local rules
--- init
::add_file(id => ::uuid(50), storage => 'cloud', eid => '3', name => 'evil.pdf',
           key => 'org_acme/../../other-bucket/secret.pdf');
--- request eval
"GET /api/work_orders/3/files/" . ::uuid(50)
--- error_code: 200
--- response_body_like: "download_url":null
--- error_log
refusing storage key "org_acme/../../other-bucket/secret.pdf"



=== TEST 10b: ...and its /content is refused
--- request eval
"GET /api/work_orders/3/files/" . ::uuid(50) . "/content"
--- error_code: 500
--- response_body_like: "code":"internal_error"
--- error_log eval
"attachments: file " . ::uuid(50) . " cannot be served: unsafe storage key"
