# Copyright (C) 2026 The ngx_http_attachments_module authors

# Files in S3, against a real S3-compatible server (s3rver, started here on
# 127.0.0.1): the presigned URLs the API hands out are served with the
# file's bytes, name and type; /content redirects to one that works; an
# expired URL and an unknown access key are refused by the server.
# (s3rver checks access key ids and expiry, not signatures: 095 proves the
# signatures against botocore.)

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::S3;
use Attachments::HTTP;
use JSON::PP;
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 16;

my $port = start_s3rver();

# the object, put there as any S3 client would
system('/usr/bin/python3', '-c', <<"_PY_") == 0 or BAIL_OUT('cannot put the object');
import botocore.session
from botocore.config import Config
c = botocore.session.get_session().create_client(
    's3', region_name='us-east-1', endpoint_url='http://127.0.0.1:$port',
    aws_access_key_id='S3RVER', aws_secret_access_key='S3RVER',
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
c.put_object(Bucket='files', Key='org_acme/work_orders/4/report q1.pdf',
             Body=b'%PDF-1.4 report\\n')
_PY_

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:$TEST_NGINX_S3_PORT
        region=us-east-1 bucket=files access_key=S3RVER secret_env=S3_SECRET;
_EOC_

block_defaults(
    http_config => $Http,
    config => $ApiConfig,
    more_headers => $Owner,
);

reset_db();
seed_people();
add_file(id => uuid(1), storage => 'cloud', eid => '4', name => 'report q1.pdf',
         ext => 'pdf', content_type => 'application/pdf', size => 16,
         key => 'org_acme/work_orders/4/report q1.pdf');

sub api {
    my $path = shift;
    return Attachments::HTTP->new(max_redirect => 0)->get(
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
}

run_tests();

__DATA__

=== TEST 1: the listed URL is served by the S3 server with the file's name and type
--- init
my $r = ::api('/api/work_orders/4/files');
my $url = JSON::PP->new->decode($r->{content})->{files}[0]{download_url};
my $s3 = Attachments::HTTP->new->get($url);
Test::More::is($s3->{status}, 200, 'the S3 server serves it');
Test::More::is($s3->{content}, "%PDF-1.4 report\n", 'the bytes');
Test::More::is($s3->{headers}{'content-disposition'},
               q{attachment; filename="report q1.pdf"; filename*=UTF-8''report%20q1.pdf},
               'as an attachment with its name');
Test::More::is($s3->{headers}{'content-type'}, 'application/pdf', 'with its type');
--- request
GET /api/work_orders/4/files/00000000-0000-4000-8000-000000000001
--- response_body_like: "download_url":"http://127\.0\.0\.1:\d+/files/org_acme/work_orders/4/report%20q1\.pdf\?



=== TEST 2: /content redirects to a URL that works
--- init
my $r = ::api('/api/work_orders/4/files/' . ::uuid(1) . '/content');
Test::More::is($r->{status}, 302, 'redirected');
Test::More::is(Attachments::HTTP->new->get($r->{headers}{location})->{content},
               "%PDF-1.4 report\n", 'to the bytes');
--- request
GET /plain
--- response_body
plain



=== TEST 3: an expired URL is refused by the server
--- http_config eval
$::Http . '    attachments_url_ttl 1s;'
--- init
my $r = ::api('/api/work_orders/4/files/' . ::uuid(1));
my $url = JSON::PP->new->decode($r->{content})->{download_url};
Time::HiRes::sleep(2.2);
Test::More::is(Attachments::HTTP->new->get($url)->{status}, 403, 'expired: 403');
--- request
GET /plain
--- response_body
plain



=== TEST 4: an unknown access key is refused by the server
--- http_config eval
$::Http =~ s/access_key=S3RVER/access_key=NOBODY/r
--- init
my $r = ::api('/api/work_orders/4/files/' . ::uuid(1));
my $url = JSON::PP->new->decode($r->{content})->{download_url};
Test::More::is(Attachments::HTTP->new->get($url)->{status}, 403, 'unknown key: 403');
--- request
GET /plain
--- response_body
plain
