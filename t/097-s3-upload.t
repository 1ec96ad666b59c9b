# Copyright (C) 2026 The ngx_http_attachments_module authors

# Uploads to an S3 storage, against s3rver on 127.0.0.1: the objects hold
# the bytes sent, the listed URLs and /content work, older local files stay
# served after the switch; S3 down, S3 refusing and a quota refusal after
# the PUTs all answer in JSON and leave no row and no object.  Every PUT and
# DELETE nginx sends is recorded by a logging step in front of s3rver (a
# second server of the same nginx) and its Authorization header recomputed
# by botocore.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::S3;
use File::Temp qw(tempdir);
use Attachments::HTTP;
use JSON::PP;
use Digest::SHA ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 60;

start_s3rver();
$ENV{TEST_NGINX_S3REC_PORT} = free_port();
$ENV{TEST_NGINX_S3_DOWN_PORT} = free_port();      # nobody listens there

our $Tmp = tempdir('attachments-s3tmp.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Log = "$Tmp/s3.log";
$ENV{TEST_NGINX_S3TMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage cloud s3
        endpoint=http://127.0.0.1:$TEST_NGINX_S3REC_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/ temp=$TEST_NGINX_S3TMP;
    attachments_active_storage cloud;

    # the recording step: what reaches "S3", headers and all
    log_format s3 '$request_method $request_uri|$http_host|$http_x_amz_date|'
                  '$http_x_amz_content_sha256|$http_authorization|$status';

    server {
        listen 127.0.0.1:$TEST_NGINX_S3REC_PORT;
        access_log $TEST_NGINX_S3TMP/s3.log s3;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }
    }
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /_s3/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_S3REC_PORT/;
    }

    location /plain {
        return 200 "plain\n";
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
    more_headers =>
        "$Owner\nContent-Type: multipart/form-data; boundary=XbOuNdArY7",
);

reset_db();
seed_people();

# 5 MB a PDF by its first bytes
our $Big = do {
    open my $r, '<:raw', '/dev/urandom' or die $!;
    read($r, my $bytes, 5 * 1024 * 1024) == 5 * 1024 * 1024 or die;
    $PDF . $bytes;
};

sub api {
    my $path = shift;
    return Attachments::HTTP->new(max_redirect => 0)->get(
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
}

# what the recording step saw: [method, uri, host, date, sha, auth, status]
sub recorded {
    open my $fh, '<', $::Log or return ();
    return map { chomp; [ (split / /, $_, 2)[0], split /\|/, (split / /, $_, 2)[1] ] } <$fh>;
}

sub nothing_stored {
    my $eid = shift;
    Test::More::is(::count_rows('files', "entity_id = '$eid'"), 0,
                   "no row for work order $eid");
    Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file');
}

run_tests();

__DATA__

=== TEST 1: two files to the s3 storage: 201, URLs presigned for the bucket
--- request eval
::upload_request('/api/work_orders/21/files',
                 ['file', 'report.pdf', 'application/pdf', $::PDF],
                 ['file', 'dot.png', 'image/png', $::PNG])
--- error_code: 201
--- response_body_like eval
'^\{"files":\[\{.*"file_name":"report\.pdf",.*"download_url":"http://127\.0\.0\.1:'
. $ENV{TEST_NGINX_S3REC_PORT} . '/files/org_acme/work_orders/21/[0-9a-f-]{36}-report\.pdf\?[^"]*X-Amz-Signature=[0-9a-f]{64}".*\},\{.*"file_name":"dot\.png".*\}\]\}$'



=== TEST 2: the objects hold the bytes; the PUTs were signed as botocore signs
--- init
my %sent = ('report.pdf' => $::PDF, 'dot.png' => $::PNG);
my @rows = map { [split /\|/] } split /\n/, ::psql("SELECT file_name, storage,
    storage_key, state FROM attachments.files WHERE entity_id = '21'
    ORDER BY file_name");
Test::More::is(scalar @rows, 2, 'two rows');
for my $row (@rows) {
    my ($name, $storage, $key, $state) = @$row;
    Test::More::is("$storage $state", 'cloud ready', "$name: ready, in cloud");
    my $o = ::s3_object($key);
    Test::More::is($o->{status}, 200, "$name: the object is there");
    Test::More::is(pack('H*', $o->{body_hex} // ''), $sent{$name},
                   "$name: identical bytes");
}
Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file left');
my @puts = grep { $_->[0] eq 'PUT' } ::recorded();
Test::More::is(scalar @puts, 2, 'two PUTs reached S3');
for my $put (@puts) {
    my ($method, $uri, $host, $date, $sha, $auth, $status) = @$put;
    my ($name) = $uri =~ /-([^-]+)$/;
    my ($want) = ::botocore({ op => 'sign', method => 'PUT',
        url => "http://$host$uri", body_hex => unpack('H*', $sent{$name}),
        date => $date, region => 'us-east-1', access_key => 'S3RVER',
        secret => 'S3RVER' });
    Test::More::is($status, 200, "PUT $name: 200");
    Test::More::is($sha, $want->{sha256}, "PUT $name: the payload's SHA-256");
    Test::More::is($auth, $want->{authorization},
                   "PUT $name: Authorization byte for byte botocore's");
}
my $list = JSON::PP->new->decode(::api('/api/work_orders/21/files')->{content});
my ($png) = grep { $_->{file_name} eq 'dot.png' } @{ $list->{files} };
my $s3 = Attachments::HTTP->new->get($png->{download_url});
Test::More::is($s3->{status}, 200, 'the listed URL is served by S3');
Test::More::is($s3->{content}, $::PNG, 'with the bytes');
my $r = ::api("/api/work_orders/21/files/$png->{id}/content");
Test::More::is($r->{status}, 302, '/content redirects');
Test::More::is(Attachments::HTTP->new->get($r->{headers}{location})->{content}, $::PNG,
               'to a URL that works');
--- request
GET /plain
--- response_body
plain



=== TEST 3: after the switch to s3, files stored locally are still served
--- init
::add_file(id => ::uuid(5), storage => 'main', eid => '22', name => 'old.pdf',
           ext => 'pdf', content_type => 'application/pdf',
           size => length($::PDF), key => 'org_acme/work_orders/22/old.pdf',
           sha256 => Digest::SHA::sha256_hex($::PDF));
mkdir "$::Store/org_acme"; mkdir "$::Store/org_acme/work_orders";
mkdir "$::Store/org_acme/work_orders/22";
open my $fh, '>', "$::Store/org_acme/work_orders/22/old.pdf" or die $!;
print $fh $::PDF; close $fh;
--- more_headers
X-User: owner1
X-Org: acme
--- request
GET /api/work_orders/22/files/00000000-0000-4000-8000-000000000005/content
--- error_code: 200
--- response_body eval
$::PDF



=== TEST 4: S3 unreachable during the upload: 503 in JSON
--- config eval
$::Config =~ s/proxy_pass http:\/\/127\.0\.0\.1:\$TEST_NGINX_S3REC_PORT\//proxy_pass http:\/\/127.0.0.1:\$TEST_NGINX_S3_DOWN_PORT\//r
--- request eval
::upload_request('/api/work_orders/23/files',
                 ['file', 'report.pdf', 'application/pdf', $::PDF])
--- error_code: 503
--- response_headers
Retry-After: 2
--- response_body
{"error":{"code":"unavailable","message":"the service is unavailable, retry later"}}
--- error_log eval
qr/attachments: PUT "org_acme\/work_orders\/23\/[0-9a-f-]{36}-report\.pdf" in s3 storage "cloud": 502/



=== TEST 5: S3 refuses the PUT (unknown access key): 503, nothing kept
--- init
::nothing_stored(23);
--- http_config eval
$::Http =~ s/access_key=S3RVER/access_key=NOBODY/r
--- request eval
::upload_request('/api/work_orders/24/files',
                 ['file', 'report.pdf', 'application/pdf', $::PDF])
--- error_code: 503
--- error_log eval
qr/attachments: PUT "org_acme\/work_orders\/24\/[^"]+" in s3 storage "cloud": 403/



=== TEST 6: over the quota after the PUTs: 507, the objects deleted again
--- init
::nothing_stored(24);
::psql("INSERT INTO attachments.quotas VALUES ('acme', '', 10)");
--- request eval
::upload_request('/api/work_orders/25/files',
                 ['file', 'report.pdf', 'application/pdf', $::PDF],
                 ['file', 'dot.png', 'image/png', $::PNG])
--- error_code: 507
--- response_body_like: "quota_exceeded"



=== TEST 7: nothing of the refused upload stays; its DELETEs were signed too
--- init
::psql("DELETE FROM attachments.quotas");
::nothing_stored(25);
my @ops = grep { $_->[1] =~ m{/work_orders/25/} } ::recorded();
Test::More::is(join(' ', map { "$_->[0]:$_->[6]" } @ops),
               'PUT:200 PUT:200 DELETE:204 DELETE:204', 'PUT twice, then DELETE twice');
for my $del (grep { $_->[0] eq 'DELETE' } @ops) {
    my ($method, $uri, $host, $date, $sha, $auth) = @$del;
    Test::More::is(::s3_object($uri =~ s{^/files/}{}r)->{status}, 404,
                   'the object is gone');
    my ($want) = ::botocore({ op => 'sign', method => 'DELETE',
        url => "http://$host$uri", body_hex => '', date => $date,
        region => 'us-east-1', access_key => 'S3RVER', secret => 'S3RVER' });
    Test::More::is($auth, $want->{authorization},
                   'DELETE: Authorization byte for byte botocore\'s');
}
--- request
GET /plain
--- response_body
plain



=== TEST 8: a large file streams from the temporary file to the bucket
--- http_config eval: $::Http . "    client_max_body_size 16m;\n"
--- request eval
::upload_request('/api/work_orders/26/files',
                 ['file', 'big.pdf', 'application/pdf', $::Big])
--- error_code: 201
--- response_body_like: "file_name":"big\.pdf"



=== TEST 9: its object holds every byte
--- init
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE entity_id = '26'");
my $o = ::s3_object($key);
Test::More::is($o->{status}, 200, 'the object is there');
Test::More::ok(pack('H*', $o->{body_hex} // '') eq $::Big, 'with the 5 MB sent, unchanged');
Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file left');
--- request
GET /plain
--- response_body
plain



=== TEST 10: soft delete hides the file and leaves its object to the collector
--- init
my $id = ::psql("SELECT id FROM attachments.files WHERE entity_id = '21'
                 AND file_name = 'dot.png'");
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$id'");
my $r = Attachments::HTTP->new->delete(
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/api/work_orders/21/files/$id",
    { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
Test::More::is($r->{status}, 204, 'deleted');
Test::More::is(::s3_object($key)->{status}, 200, 'the object stays until the collector runs');
Test::More::is(::psql("SELECT deleted_at IS NOT NULL FROM attachments.files WHERE id = '$id'"),
               't', 'the row is marked deleted');
--- more_headers
X-User: owner1
X-Org: acme
--- request
GET /api/work_orders/21/files
--- response_body_like: ^(?!.*dot\.png)\{"files":\[\{"id":.*"file_name":"report\.pdf"



=== TEST 11: attachments-fsck finds every row with its object and every object with its row
--- init
open my $fh, '>', "$::Tmp/s3.secret" or die $!;
print $fh "S3RVER\n";
close $fh;
Test::More::is(::fsck(["main=local:$::Store",
                       "cloud=s3:http://127.0.0.1:$ENV{TEST_NGINX_S3_PORT},us-east-1,files,"
                       . "S3RVER,$::Tmp/s3.secret"]), '', 'no finding');
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
