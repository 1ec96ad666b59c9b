# Copyright (C) 2026 The ngx_http_attachments_module authors

# Direct uploads to an S3 storage (s3rver on 127.0.0.1): the presigned PUT
# is botocore's byte for byte and binds the size and SHA-256; confirming
# checks the object (HEAD, then a GET hashed through, or with a store that
# keeps checksums the stored one and a ranged GET) and sniffs its type; a
# failed check ends the upload and deletes the object; cancelling deletes
# it; the collector reaps what was never confirmed; two confirmations, or a
# confirmation and a cancellation, at once leave one consistent outcome.
# Every request nginx sends to "S3" is recorded by a step in front of
# s3rver (a second server of the same nginx).  s3rver keeps no checksums:
# the "keeping" step in front of it answers a HEAD that asks with the one
# the test stored as metadata, as S3 answers with the one it verified.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::S3;
use Attachments::HTTP;
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX ();
use MIME::Base64 ();
use Digest::SHA qw(sha256_hex sha256);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 143;

start_s3rver();
$ENV{TEST_NGINX_S3REC_PORT} = free_port();
# a link that breaks after 2000 bytes of each answer
$ENV{TEST_NGINX_S3CUT_PORT} = slow_link($ENV{TEST_NGINX_S3_PORT}, 0, 2000);
$ENV{TEST_NGINX_S3KEEP_PORT} = free_port();

our $Tmp = tempdir('attachments-direct.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Log = "$Tmp/s3.log";
$ENV{TEST_NGINX_S3TMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;
open my $secret, '>', "$Tmp/secret" or die $!;
print $secret "S3RVER\n";
close $secret;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage cloud s3
        endpoint=http://127.0.0.1:$TEST_NGINX_S3REC_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/ temp=$TEST_NGINX_S3TMP;
    attachments_active_storage cloud;
    attachments_gc_interval 200ms;
    attachments_gc_grace 0;

    log_format s3 '$request_method $request_uri|$http_host|$http_x_amz_date|'
                  '$http_x_amz_content_sha256|$http_authorization|$status|'
                  '$http_x_amz_checksum_mode|$http_range';

    map $http_x_amz_checksum_mode $kept_checksum {
        ENABLED  $upstream_http_x_amz_meta_checksum;
        default  "";
    }

    # the recording step: what reaches "S3", headers and all
    server {
        listen 127.0.0.1:$TEST_NGINX_S3REC_PORT;
        access_log $TEST_NGINX_S3TMP/s3.log s3;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }
    }

    # a store that keeps checksums, and says them when asked
    server {
        listen 127.0.0.1:$TEST_NGINX_S3KEEP_PORT;
        access_log $TEST_NGINX_S3TMP/s3.log s3;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
            add_header x-amz-checksum-sha256 $kept_checksum;
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

our @Storages = ("main=local:$Store",
                 "cloud=s3:http://127.0.0.1:$ENV{TEST_NGINX_S3_PORT},us-east-1,"
                 . "files,S3RVER,$Tmp/secret");

block_defaults(
    http_config => $Http,
    config => $Config,
    more_headers => "$Owner\nContent-Type: application/json",
);

reset_db();
seed_people();

our $Json = JSON::PP->new->canonical;

sub call {
    my ($method, $path, $body, %h) = @_;
    return Attachments::HTTP->new(max_redirect => 0)->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => { 'X-User' => $h{user} // 'owner1', 'X-Org' => 'acme',
                       (defined $body
                        ? ('Content-Type' => 'application/json') : ()) },
          (defined $body ? (content => $body) : ()) });
}

# a direct upload of bytes, announced with their size and SHA-256
sub create {
    my ($eid, $name, $bytes, %x) = @_;
    my $r = call(POST => "/api/work_orders/$eid/uploads",
                 $Json->encode({ direct => JSON::PP::true, file_name => $name,
                                 size => length $bytes,
                                 sha256 => sha256_hex($bytes), %x }));
    return ($r, $r->{status} == 201 ? $Json->decode($r->{content}) : undef);
}

# the PUT a client makes: the URL and headers it was given
sub put {
    my ($u, $bytes, %h) = @_;
    my %headers = (%{ $u->{upload_headers} }, %h);
    delete $headers{'Content-Length'};
    return Attachments::HTTP->new->request('PUT', $u->{upload_url},
                                           { headers => \%headers,
                                             content => $bytes });
}

sub confirm { my ($u, %h) = @_; call(POST => $u->{confirm_url}, undef, %h) }

sub key_of { ::psql("SELECT storage_key FROM attachments.files"
                    . " WHERE id = '" . shift . "'") }

sub recorded {
    open my $fh, '<', $::Log or return ();
    return map { chomp; my ($m, $rest) = split / /, $_, 2;
                 [ $m, split /\|/, $rest, -1 ] } <$fh>;
}

sub usage_clean {
    Test::More::is(::psql('SELECT count(*) FROM attachments.usage_drift'), 0,
                   'the counters agree with the rows');
}

# the subs' results, run at the same time in two processes
sub at_once {
    my @pipes;
    for my $sub (@_) {
        pipe my $r, my $w or die $!;
        my $pid = fork // die $!;
        if ($pid == 0) {
            close $r;
            print $w $sub->();
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pipes, [$pid, $r];
    }
    return map { my ($pid, $r) = @$_; my $v = <$r>; waitpid $pid, 0; $v }
               @pipes;
}

our ($Late, $Cut);

# a PDF of some size, different each time
our $N = 0;
sub pdf { $::PDF . ('x' x (100 + $N++)) }

run_tests();

__DATA__

=== TEST 1: a direct upload is created: 201, a PUT to the bucket and where to confirm
--- request eval
"POST /api/work_orders/31/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => '../q1 report.pdf', size => length($::PDF),
    sha256 => Digest::SHA::sha256_hex($::PDF), content_type => 'application/pdf',
    tags => ['q1'], custom_fields => { po => 7 }, category => 'reports' })
--- error_code: 201
--- response_headers_like
Location: ^/api/work_orders/31/uploads/[0-9a-f-]{36}$
--- response_body_like eval
'^\{"id":"[0-9a-f-]{36}","upload_url":"http://127\.0\.0\.1:'
. $ENV{TEST_NGINX_S3REC_PORT} . '/files/org_acme/work_orders/31/[0-9a-f-]{36}-q1_report\.pdf\?X-Amz-Algorithm=AWS4-HMAC-SHA256&[^"]*X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-checksum-sha256&X-Amz-Signature=[0-9a-f]{64}","upload_method":"PUT","upload_headers":\{"Content-Length":"'
. length($::PDF) . '","x-amz-checksum-sha256":"'
. quotemeta(MIME::Base64::encode_base64(Digest::SHA::sha256($::PDF), ''))
. '"\},"upload_url_expires_at":"[0-9T:Z-]+","confirm_url":"/api/work_orders/31/uploads/[0-9a-f-]{36}","expires_at":"[0-9T:Z-]+"\}$'



=== TEST 2: the upload reserves its size; its file waits pending under the key, leased past the URL
--- init
my $row = ::psql("SELECT u.length, u.direct, f.state, f.storage, f.size,
    f.file_name, f.lease_until > now() + interval '23 hours',
    f.lease_until = u.expires_at, f.tags::text, f.category
    FROM attachments.tus_uploads u JOIN attachments.files f ON f.id = u.id
    WHERE u.entity_id = '31'");
Test::More::is($row, join('|', length($::PDF), 't', 'pending', 'cloud',
    length($::PDF), 'q1 report.pdf', 't', 't', '["q1"]', 'reports'),
    'one upload, its file pending in cloud, leased for the day');
Test::More::is(::psql("SELECT used_bytes FROM attachments.usage_counters
    WHERE organization_id = 'acme' AND user_id = ''"), length($::PDF),
    'the size is reserved');
::usage_clean();
--- request
GET /plain
--- response_body
plain



=== TEST 3: the presigned PUT is botocore's for the same clock; S3 takes the bytes; confirmed: 201, ready
--- init
my $bytes = ::pdf();
my ($r, $u) = ::create(32, 'scan.pdf', $bytes);
Test::More::is($r->{status}, 201, 'created');
my ($path, $date) = $u->{upload_url} =~ m{^http://[^/]+(/files/[^?]+)\?.*X-Amz-Date=(\w+)};
my ($y, $mo, $d, $h, $mi, $s) = $date =~ /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/;
require Time::Local;
my $now = Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
open my $in, '>', "$::Tmp/case" or die $!;
print $in $::Json->encode({ endpoint => "http://127.0.0.1:$ENV{TEST_NGINX_S3REC_PORT}",
    style => 'path', region => 'us-east-1', bucket => 'files',
    key => ($path =~ m{^/files/(.+)$})[0], access_key => 'S3RVER', secret => 'S3RVER',
    checksum => MIME::Base64::encode_base64(Digest::SHA::sha256($bytes), ''),
    length => length($bytes), now => $now, expires => 3600 }), "\n";
close $in;
my $want = `/usr/bin/python3 $ENV{TEST_NGINX_TOP}/t/inc/botocore_presign.py < $::Tmp/case`;
chomp $want;
Test::More::is($u->{upload_url}, $want, "the URL is botocore's byte for byte");
Test::More::is(::put($u, $bytes)->{status}, 200, 'S3 took the PUT');
my $c = ::confirm($u);
Test::More::is($c->{status}, 201, 'confirmed: 201');
my $f = $::Json->decode($c->{content});
Test::More::is(join(' ', @{$f->{files}[0]}{qw(id file_name content_type size sha256)}),
    join(' ', $u->{id}, 'scan.pdf', 'application/pdf', length($bytes),
         Digest::SHA::sha256_hex($bytes)), 'the file, sniffed a PDF');
Test::More::is(::psql("SELECT state FROM attachments.files WHERE id = '$u->{id}'"),
               'ready', 'ready');
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 0, 'the upload ended');
::usage_clean();
my $o = ::s3_object(::key_of($u->{id}));
Test::More::is(pack('H*', $o->{body_hex} // ''), $bytes, 'the object stays');
my ($head) = grep { $_->[0] eq 'HEAD' } ::recorded();
my ($get) = grep { $_->[0] eq 'GET' } ::recorded();
Test::More::is($head->[7], 'ENABLED', 'the HEAD asked for the stored checksum');
my ($hw) = ::botocore({ op => 'sign', method => 'HEAD', url => "http://$head->[2]$head->[1]",
    body_hex => '', date => $head->[3], region => 'us-east-1', access_key => 'S3RVER',
    secret => 'S3RVER', headers => { 'x-amz-checksum-mode' => 'ENABLED' } });
Test::More::is($head->[5], $hw->{authorization}, "the HEAD is signed as botocore signs it");
Test::More::is($get->[8], '-', 'no checksum kept: the whole object was read');
my $again = ::confirm($u);
Test::More::is($again->{status}, 404, 'a second confirmation: 404');
my $list = $::Json->decode(::call(GET => '/api/work_orders/32/files')->{content});
Test::More::is(scalar @{ $list->{files} }, 1, 'listed');
my $dl = ::call(GET => "/api/work_orders/32/files/$u->{id}/content");
Test::More::is($dl->{status}, 302, '/content redirects');
Test::More::is(Attachments::HTTP->new->get($dl->{headers}{location})->{content}, $bytes,
               'to the bytes');
--- request
GET /plain
--- response_body
plain



=== TEST 4: confirmed before the PUT: 409, the upload stays
--- init
my ($r, $u) = ::create(33, 'late.pdf', ::pdf());
my $c = ::confirm($u);
Test::More::is($c->{status}, 409, 'confirmed too early: 409');
Test::More::like($c->{content}, qr/"code":"not_uploaded"/, 'not_uploaded');
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 1, 'the upload stays');
$::Late = $u;
--- request
GET /plain
--- response_body
plain



=== TEST 5: other bytes of the same size (a store that does not hold the checksum): 422, object and upload gone
--- init
my $bytes = ::pdf();
my ($r, $u) = ::create(34, 'swap.pdf', $bytes);
(my $other = $bytes) =~ s/x$/y/;
Test::More::is(::put($u, $other)->{status}, 200, 's3rver took other bytes');
my $c = ::confirm($u);
Test::More::is($c->{status}, 422, 'other bytes: 422');
Test::More::like($c->{content}, qr/"code":"checksum_mismatch"/, 'checksum_mismatch');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 404, 'the object was deleted');
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 0, 'the upload ended');
Test::More::is(::psql("SELECT state FROM attachments.files WHERE id = '$u->{id}'"),
               'pending', 'its key still guarded for the collector');
::usage_clean();
Test::More::is(::psql("SELECT used_bytes FROM attachments.usage_counters
    WHERE organization_id = 'acme' AND user_id = ''"),
    ::psql("SELECT sum(size) FROM attachments.files WHERE state = 'ready'")
    + ::psql("SELECT coalesce(sum(length), 0) FROM attachments.tus_uploads"),
    'nothing of it counted');
--- request
GET /plain
--- response_body
plain



=== TEST 6: fewer bytes than announced: 422 size_mismatch; an executable: 415; a PNG declared a PDF: 415
--- init
my $bytes = ::pdf();
my ($r, $u) = ::create(35, 'short.pdf', $bytes);
::put($u, substr($bytes, 0, -1));
my $c = ::confirm($u);
Test::More::is($c->{status}, 422, 'short: 422');
Test::More::like($c->{content}, qr/"code":"size_mismatch"/, 'size_mismatch');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 404, 'deleted');
($r, $u) = ::create(35, 'tool.pdf', $::ELF);
::put($u, $::ELF);
$c = ::confirm($u);
Test::More::is($c->{status}, 415, 'an ELF: 415');
Test::More::like($c->{content}, qr/"code":"unsupported_type"/, 'unsupported_type');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 404, 'deleted');
($r, $u) = ::create(35, 'dot.pdf', $::PNG, content_type => 'application/pdf');
::put($u, $::PNG);
$c = ::confirm($u);
Test::More::is($c->{status}, 415, 'a PNG declared a PDF: 415');
Test::More::like($c->{content}, qr/"code":"type_mismatch"/, 'type_mismatch');
Test::More::is(::count_rows('files', "entity_id = '35' AND state = 'ready'"), 0,
               'no file');
Test::More::is(::count_rows('tus_uploads', "entity_id = '35'"), 0, 'no upload');
::usage_clean();
--- request
GET /plain
--- response_body
plain



=== TEST 7: cancelled: 204, the object deleted; again: 404
--- init
my $bytes = ::pdf();
my ($r, $u) = ::create(36, 'gone.pdf', $bytes);
::put($u, $bytes);
my $d = ::call(DELETE => $u->{confirm_url});
Test::More::is($d->{status}, 204, 'cancelled: 204');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 404, 'the object was deleted');
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 0, 'the upload ended');
Test::More::is(::call(DELETE => $u->{confirm_url})->{status}, 404, 'again: 404');
Test::More::is(::confirm($u)->{status}, 404, 'confirmed after: 404');
::usage_clean();
--- request
GET /plain
--- response_body
plain



=== TEST 8: another user, a tus request, a tus client's POST: none reaches the upload
--- init
my ($r, $u) = ::create(37, 'mine.pdf', ::pdf());
Test::More::is(::confirm($u, user => 'member1')->{status}, 404, "another's confirmation: 404");
Test::More::is(::call(DELETE => $u->{confirm_url}, undef, user => 'member1')->{status}, 404,
               "another's cancellation: 404");
my $head = Attachments::HTTP->new->request('HEAD',
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$u->{confirm_url}",
    { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme', 'Tus-Resumable' => '1.0.0' } });
Test::More::is($head->{status}, 404, 'a tus HEAD on it: 404');
my $post = Attachments::HTTP->new->request('POST',
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$u->{confirm_url}",
    { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme', 'Tus-Resumable' => '1.0.0' } });
Test::More::is($post->{status}, 405, "a tus POST to an upload's URL: 405");
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 1, 'the upload stays');
--- request
GET /plain
--- response_body
plain



=== TEST 9: no sha256: 400
--- request eval
"POST /api/work_orders/38/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 10 })
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"sha256 must be the file's SHA-256, 64 hex digits"}}



=== TEST 10: not "direct": 400, naming both ways
--- request eval
"POST /api/work_orders/38/uploads\n" . $::Json->encode({ file_name => 'a.pdf',
    size => 10, sha256 => 'a' x 64 })
--- error_code: 400
--- response_body_like chomp
"code":"invalid_request","message":"a direct upload is asked for with \{\\"direct\\": true\}; a resumable one with Tus-Resumable"



=== TEST 11: larger than attachments_max_file_size: 413
--- config eval
$::Config =~ s/location \/api\/ \{/location \/api\/ { attachments_max_file_size 1k;/r
--- request eval
"POST /api/work_orders/38/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 1025, sha256 => 'a' x 64 })
--- error_code: 413
--- response_body_like chomp
"code":"file_too_large"



=== TEST 12: malformed JSON: 400; 0 bytes: 400; a bad tag: 422
--- request eval
["POST /api/work_orders/38/uploads\n{\"direct\": true,",
 "POST /api/work_orders/38/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 0, sha256 => 'a' x 64 }),
 "POST /api/work_orders/38/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 5, sha256 => 'a' x 64, tags => [1] })]
--- error_code eval
[400, 400, 422]
--- response_body_like eval
['"code":"malformed_json"', '"code":"empty_file"', '"code":"invalid_metadata"']



=== TEST 13: over the quota: 507, no row left
--- init
::psql("INSERT INTO attachments.quotas (organization_id, user_id, max_bytes)
        VALUES ('acme', '', 1)");
--- request eval
"POST /api/work_orders/39/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 10, sha256 => 'a' x 64 })
--- error_code: 507
--- response_body_like chomp
"code":"quota_exceeded"



=== TEST 14: nothing of the refused ones stayed; a local active storage takes no direct upload: 409
--- init
::psql("DELETE FROM attachments.quotas");
Test::More::is(::count_rows('files', "entity_id IN ('38', '39')"), 0, 'no file row');
Test::More::is(::count_rows('tus_uploads', "entity_id IN ('38', '39')"), 0, 'no upload');
::usage_clean();
--- http_config eval
$::Http =~ s/attachments_active_storage cloud;/attachments_active_storage main;/r
--- request eval
"POST /api/work_orders/40/uploads\n" . $::Json->encode({ direct => JSON::PP::true,
    file_name => 'a.pdf', size => 10, sha256 => 'a' x 64 })
--- error_code: 409
--- response_body
{"error":{"code":"direct_unavailable","message":"the active storage takes no direct uploads"}}



=== TEST 15: a store that keeps checksums: its own is compared, and only the first 16k are read
--- http_config eval
$::Http =~ s/endpoint=http:\/\/127\.0\.0\.1:\$TEST_NGINX_S3REC_PORT/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_S3KEEP_PORT/r
--- config eval
$::Config =~ s/\$TEST_NGINX_S3REC_PORT/\$TEST_NGINX_S3KEEP_PORT/r
--- init
truncate $::Log, 0;
--- request
GET /plain
--- response_body
plain



=== TEST 16: (the store keeps checksums) kept and right: 201 after a ranged GET; kept and wrong: 422
--- http_config eval
$::Http =~ s/endpoint=http:\/\/127\.0\.0\.1:\$TEST_NGINX_S3REC_PORT/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_S3KEEP_PORT/r
--- config eval
$::Config =~ s/\$TEST_NGINX_S3REC_PORT/\$TEST_NGINX_S3KEEP_PORT/r
--- init
my $bytes = $::PDF . ('z' x 40000);
my ($r, $u) = ::create(41, 'big.pdf', $bytes);
my $sum = MIME::Base64::encode_base64(Digest::SHA::sha256($bytes), '');
Test::More::is(::put($u, $bytes, 'x-amz-meta-checksum' => $sum)->{status}, 200, 'PUT');
my $c = ::confirm($u);
Test::More::is($c->{status}, 201, 'confirmed: 201');
my ($get) = grep { $_->[0] eq 'GET' } ::recorded();
Test::More::is($get->[8], 'bytes=0-16383', 'the GET asked for the first 16k only');
($r, $u) = ::create(41, 'lie.pdf', $bytes);
::put($u, $bytes, 'x-amz-meta-checksum' => MIME::Base64::encode_base64('x' x 32, ''));
$c = ::confirm($u);
Test::More::is($c->{status}, 422, 'the store says another checksum: 422');
Test::More::like($c->{content}, qr/"code":"checksum_mismatch"/, 'checksum_mismatch');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 404, 'deleted');
--- request
GET /plain
--- response_body
plain



=== TEST 17: never confirmed, expired: the collector deletes the object and both rows
--- init
my $u = $::Late;
::put($u, 'whatever was put late');
::psql("UPDATE attachments.tus_uploads SET expires_at = now() - interval '1 second'
        WHERE id = '$u->{id}'");
::psql("UPDATE attachments.files SET lease_until = now() - interval '1 second'
        WHERE id = '$u->{id}'");
my $key = ::key_of($u->{id});
Test::More::ok(::wait_until(sub {
    ::count_rows('files', "id = '$u->{id}'") == 0
    && ::count_rows('tus_uploads', "id = '$u->{id}'") == 0 }), 'both rows gone');
Test::More::is(::s3_object($key)->{status}, 404, 'the object was deleted');
::usage_clean();
--- request
GET /plain
--- response_body
plain



=== TEST 18: confirmed twice at once: one 201, one 409; confirmed and cancelled at once: one outcome
--- init
for my $round (1 .. 3) {
    my $bytes = ::pdf();
    my ($r, $u) = ::create(42, "twice$round.pdf", $bytes);
    ::put($u, $bytes);
    my @st = ::at_once(sub { ::confirm($u)->{status} }, sub { ::confirm($u)->{status} });
    # the second's lookup may come after the first committed: 404 then
    Test::More::like(join(' ', sort @st), qr/^201 40[49]$/,
                     "round $round: 201, and 409 or 404");
    Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 200, "round $round: the object stays");
    ($r, $u) = ::create(42, "either$round.pdf", $bytes);
    ::put($u, $bytes);
    @st = ::at_once(sub { ::confirm($u)->{status} },
                    sub { ::call(DELETE => $u->{confirm_url})->{status} });
    my $state = ::psql("SELECT state FROM attachments.files WHERE id = '$u->{id}'");
    my $there = ::s3_object(::key_of($u->{id}))->{status};
    Test::More::ok(("@st" eq '201 404' && $state eq 'ready' && $there == 200)
                   || ("@st" =~ /^(409|404) 204$/ && $state eq 'pending' && $there == 404),
                   "round $round: confirm, cancel: @st, $state, object $there");
}
::usage_clean();
--- request
GET /plain
--- response_body
plain



=== TEST 19: (the store's answers break off after 2000 bytes from here)
--- config eval
$::Config =~ s/proxy_pass http:\/\/127\.0\.0\.1:\$TEST_NGINX_S3REC_PORT\//proxy_pass http:\/\/127.0.0.1:\$TEST_NGINX_S3CUT_PORT\//r
--- request
GET /plain
--- response_body
plain



=== TEST 20: the read-back broken off by the store: 503; the upload and the object stay
--- config eval
$::Config =~ s/proxy_pass http:\/\/127\.0\.0\.1:\$TEST_NGINX_S3REC_PORT\//proxy_pass http:\/\/127.0.0.1:\$TEST_NGINX_S3CUT_PORT\//r
--- init
my $bytes = $::PDF . ('k' x 50000);
my ($r, $u) = ::create(43, 'cut.pdf', $bytes);
::put($u, $bytes);
$::Cut = $u;
my $c = ::confirm($u);
Test::More::is($c->{status}, 503, 'cut off: 503');
Test::More::like($c->{content}, qr/"code":"unavailable"/, 'unavailable');
Test::More::is(::count_rows('tus_uploads', "id = '$u->{id}'"), 1, 'the upload stayed');
Test::More::is(::s3_object(::key_of($u->{id}))->{status}, 200, 'and its object');
--- request
GET /plain
--- response_body
plain



=== TEST 21: (whole answers again)
--- request
GET /plain
--- response_body
plain



=== TEST 22: then confirmed over a whole link: 201; downloads say no shared cache, no encoding, whatever the PUT said
--- init
Test::More::is(::confirm($::Cut)->{status}, 201, 'the one cut off, confirmed: 201');
my $bytes = ::pdf();
my ($r, $u) = ::create(43, 'cached.pdf', $bytes);
::put($u, $bytes, 'Cache-Control' => 'public, max-age=31536000',
      'Content-Encoding' => 'gzip');
Test::More::is(::confirm($u)->{status}, 201, 'confirmed');
my $dl = ::call(GET => "/api/work_orders/43/files/$u->{id}/content");
my $got = Attachments::HTTP->new->get($dl->{headers}{location});
Test::More::is($got->{headers}{'cache-control'}, 'private', 'Cache-Control: private');
Test::More::is($got->{headers}{'content-encoding'}, 'identity', 'Content-Encoding: identity');
--- request
GET /plain
--- response_body
plain



=== TEST 23: metadata of the wrong JSON type: 422; null is absent; an expired upload cannot be cancelled
--- init
for my $bad ([category => { a => 1 }], [category => JSON::PP::true],
             [tags => '["a"]'], [custom_fields => '{"a":1}'], [visibility => 1]) {
    my ($r) = ::create(44, 'a.pdf', ::pdf(), @$bad);
    Test::More::is($r->{status}, 422, "$bad->[0] as " . $::Json->encode([$bad->[1]]) . ': 422');
}
my ($r, $u) = ::create(44, 'a.pdf', ::pdf(), category => undef);
Test::More::is(::psql("SELECT category IS NULL FROM attachments.files WHERE id = '$u->{id}'"),
               't', 'a null category is none');
::psql("UPDATE attachments.tus_uploads SET expires_at = now() WHERE id = '$u->{id}'");
Test::More::is(::call(DELETE => $u->{confirm_url})->{status}, 404, 'expired: DELETE 404');
--- request
GET /plain
--- response_body
plain



=== TEST 24: attachments-fsck finds nothing wrong
--- init
my $out;
::wait_until(sub { ($out = ::fsck(\@::Storages)) eq '' });
Test::More::is($out, '', 'fsck: clean');
--- request
GET /plain
--- response_body
plain
