# Copyright (C) 2026 The ngx_http_attachments_module authors

# Resumable uploads, tus 1.0.0 (docs/uploads.md): creation, HEAD, PATCH in
# pieces with and without Upload-Checksum, every refusal the protocol and
# the module's rules give, the upload bound to its user and record, its
# length reserved against the quotas from its creation to its end, the
# type sniffed from the first bytes, termination, expiry by the collector,
# a PATCH cut short keeping what it wrote, two PATCHes at once; then
# tus-js-client, as applications use it.  attachments-fsck after each.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::HTTP;
use Digest::SHA qw(sha256 sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 122;

our $Store = tempdir('attachments-tus.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;
chmod 0777, $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_base_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    attachments_allowed_types text/plain image/png application/octet-stream
                              application/x-empty;
    attachments_max_file_size 60m;
    client_max_body_size 70m;
    attachments_gc_interval 200ms;
    attachments_gc_grace 1s;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /files/ {
        attachments_download main;
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
);

reset_db();
seed_people();

our $Uploads = '/api/work_orders/150/uploads';
our $Url = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}";

# a request as $user of acme, tus's version said: (status, {headers}, body)
sub tus {
    my ($method, $path, $h, $body, $user) = @_;
    my %h = ('X-User' => $user // 'owner1', 'X-Org' => 'acme',
             'Tus-Resumable' => '1.0.0', %{ $h || {} });
    delete $h{$_} for grep { !defined $h{$_} } keys %h;
    my $r = Attachments::HTTP->new(timeout => 30, max_redirect => 0)->request(
        $method, $path =~ m{^http} ? $path : "$Url$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    return ($r->{status}, $r->{headers}, $r->{content});
}

sub metadata {
    my %m = @_;
    return join ',', map { "$_ " . encode_base64($m{$_}, '') } sort keys %m;
}

# a new upload of $length bytes: its path
sub create {
    my ($length, %m) = @_;
    %m = (filename => 'notes.txt', filetype => 'text/plain') unless %m;
    my ($st, $h) = tus('POST', $Uploads, { 'Upload-Length' => $length,
                                           'Upload-Metadata' => metadata(%m) });
    die "create: $st" unless $st == 201;
    return $h->{location};
}

sub patch {
    my ($path, $offset, $bytes, %h) = @_;
    return tus('PATCH', $path, { 'Content-Type' => 'application/offset+octet-stream',
                                 'Upload-Offset' => $offset, %h }, $bytes);
}

sub offset { my (undef, $h) = tus('HEAD', $_[0]); $h->{'upload-offset'} }

sub used {
    my (undef, undef, $b) = tus('GET', '/api/usage');
    my $j = eval { decode_json($b) } or return "no usage: $b";
    return "$j->{organization}{used_bytes} $j->{user}{used_bytes}";
}

sub tus_files { join ' ', sort map { s{.*/}{}r } glob "$Store/.tus/*" }

sub clean {
    my $out;
    wait_until(sub { ($out = fsck("main=local:$Store")) eq '' });
    return $out;
}

sub text { join '', map { "line $_ of the notes\n" } 1 .. $_[0] }

run_tests();

__DATA__

=== TEST 1: OPTIONS says what the server speaks, with no record to authorize
--- request
OPTIONS /api/work_orders/150/uploads
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 204
--- response_headers
Tus-Resumable: 1.0.0
Tus-Version: 1.0.0
Tus-Extension: creation,creation-with-upload,termination,expiration,checksum
Tus-Checksum-Algorithm: sha256
Tus-Max-Size: 62914560



=== TEST 2: a request without Tus-Resumable: 1.0.0 is 412, with the version the server speaks
--- request
POST /api/work_orders/150/uploads
--- more_headers
X-User: owner1
X-Org: acme
Tus-Resumable: 0.2.2
Upload-Length: 5
--- error_code: 412
--- response_headers
Tus-Version: 1.0.0
--- response_body_like: "code":"unsupported_version"



=== TEST 3: created, looked at, appended to in two PATCHes (the second checked), the file made
--- init
my $body = ::text(2000);
my $before = ::used();
my $path = ::create(length($body), filename => 'notes.txt', filetype => 'text/plain',
                    tags => '["site","a"]', category => 'report');
Test::More::like($path, qr{^/api/work_orders/150/uploads/[0-9a-f-]{36}$}, 'Location is the upload');
my ($st, $h) = ::tus('HEAD', $path);
Test::More::is("$st $h->{'upload-offset'} $h->{'upload-length'} $h->{'cache-control'}",
               "200 0 @{[length $body]} no-store", 'HEAD: offset 0, the length, no-store');
Test::More::like($h->{'upload-metadata'}, qr/filename bm90ZXMudHh0/, 'the metadata as sent');
Test::More::like($h->{'upload-expires'}, qr/GMT$/, 'and when it expires');
my ($o0, $u0) = split ' ', $before;
Test::More::is(::used(), ($o0 + length $body) . ' ' . ($u0 + length $body),
               'the length is reserved from the creation');
($st, $h) = ::patch($path, 0, substr($body, 0, 20000));
Test::More::is("$st $h->{'upload-offset'}", '204 20000', 'the first PATCH: 204 and the offset');
Test::More::like($h->{'upload-expires'} // '', qr/^\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$/,
                 'and when the upload expires');
my $rest = substr($body, 20000);
($st, $h, my $b) = ::patch($path, 20000, $rest,
                           'Upload-Checksum' => 'sha256 ' . MIME::Base64::encode_base64(Digest::SHA::sha256($rest), ''));
Test::More::is("$st $h->{'upload-offset'}", "200 @{[length $body]}", 'the last: 200 and the offset');
my $f = eval { JSON::PP::decode_json($b)->{files}[0] } || {};
Test::More::is("$f->{file_name} $f->{size} $f->{content_type} $f->{category} @{$f->{tags}}",
               "notes.txt @{[length $body]} text/plain report site a", 'the file object');
Test::More::is($f->{sha256}, Digest::SHA::sha256_hex($body), 'the SHA-256 of every byte');
my $got = Attachments::HTTP->new->get($f->{download_url} // '')->{content};
Test::More::ok(defined $got && $got eq $body, 'its download is the bytes');
Test::More::is(::used(), ($o0 + length $body) . ' ' . ($u0 + length $body),
               'the file counts once: the reservation ended with it');
($st) = ::tus('HEAD', $path);
Test::More::is($st, 404, 'the upload is no more');
Test::More::ok(::wait_until(sub { ::tus_files() eq '' }), 'nor its files');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body_like: "file_name":"notes.txt"



=== TEST 4: every refusal leaves the upload as it was
--- init
my $path = ::create(100);
my ($st, $h, $b) = ::patch($path, 10, 'x' x 10);
Test::More::is("$st $h->{'upload-offset'}", '409 0', 'a wrong offset: 409, with the right one');
Test::More::like($b, qr/"code":"offset_mismatch"/, 'in JSON');
($st, undef, $b) = ::tus('PATCH', $path, { 'Upload-Offset' => 0, 'Content-Type' => 'text/plain' }, 'abc');
Test::More::like("$st $b", qr/^415 .*"code":"unsupported_type"/, 'not application/offset+octet-stream: 415');
($st) = ::tus('PATCH', $path, { 'Content-Type' => 'application/offset+octet-stream' }, 'abc');
Test::More::is($st, 400, 'no Upload-Offset: 400');
($st) = ::patch($path, 0, 'abc', 'Upload-Checksum' => 'md5 kAFQmDzST7DWlj99KOF/cg==');
Test::More::is($st, 400, 'a checksum algorithm not sha256: 400');
($st, $h, $b) = ::patch($path, 0, 'abc', 'Upload-Checksum' => 'sha256 '
                        . MIME::Base64::encode_base64(Digest::SHA::sha256('abd'), ''));
Test::More::like("$st $b", qr/^460 .*"code":"checksum_mismatch"/, 'bytes not those of the checksum: 460');
Test::More::is(::offset($path), 0, 'and none of them kept');
($st, undef, $b) = ::patch($path, 0, 'y' x 101);
Test::More::like("$st $b", qr/^413 .*"code":"upload_too_long"/, 'more bytes than Upload-Length: 413');
Test::More::is(::offset($path), 0, 'and none of them kept');
($st, undef, $b) = ::tus('POST', $::Uploads, { 'Upload-Length' => 62914561,
                                              'Upload-Metadata' => ::metadata(filename => 'big.txt') });
Test::More::like("$st $b", qr/^413 .*"code":"file_too_large"/, 'a length over attachments_max_file_size: 413');
($st, undef, $b) = ::tus('POST', $::Uploads, { 'Upload-Length' => 5,
                                              'Upload-Metadata' => ::metadata(filetype => 'text/plain') });
Test::More::like("$st $b", qr/^400 .*Upload-Metadata must name the file/, 'no filename: 400');
($st) = ::tus('POST', $::Uploads, { 'Upload-Length' => 5, 'Upload-Metadata' => 'filename !!!' });
Test::More::is($st, 400, 'metadata not base64: 400');
($st, undef, $b) = ::tus('POST', $::Uploads, { 'Upload-Length' => 5,
                         'Upload-Metadata' => ::metadata(filename => 'a.txt', tags => '{"x":1}') });
Test::More::like("$st $b", qr/^422 .*"code":"invalid_metadata"/, 'tags not an array of strings: 422');
($st) = ::tus('POST', $::Uploads, { 'Upload-Length' => 'ten', 'Upload-Metadata' => ::metadata(filename => 'a.txt') });
Test::More::is($st, 400, 'Upload-Length not a number: 400');
($st) = ::tus('POST', $::Uploads, { 'Upload-Defer-Length' => 1, 'Upload-Metadata' => ::metadata(filename => 'a.txt') });
Test::More::is($st, 400, 'a deferred length: 400');
($st, $h) = ::patch($path, 0, 'z' x 100);
Test::More::is("$st $h->{'upload-offset'}", '200 100', 'after all that, the upload takes its bytes');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 5: an upload is its user's, on its record: 404 to anyone else, anywhere else
--- init
my $path = ::create(10);
for my $m ('HEAD', 'PATCH', 'DELETE') {
    my ($st) = $m eq 'PATCH' ? ::tus('PATCH', $path, { 'Content-Type' => 'application/offset+octet-stream',
                                                        'Upload-Offset' => 0 }, 'abc', 'editor1')
                             : ::tus($m, $path, undef, undef, 'editor1');
    Test::More::is($st, 404, "$m by another member: 404");
}
(my $other = $path) =~ s{/150/}{/151/};
my ($st) = ::tus('HEAD', $other);
Test::More::is($st, 404, 'the upload under another record: 404');
($st) = ::tus('HEAD', "$::Uploads/00000000-0000-4000-8000-000000000000");
Test::More::is($st, 404, 'no such upload: 404');
($st, undef, my $b) = ::tus('HEAD', "$::Uploads/nope");
Test::More::is($st, 400, 'an id that is no UUID: 400');
($st) = ::tus('POST', $::Uploads, { 'Upload-Length' => 5, 'Upload-Metadata' => ::metadata(filename => 'a.txt') },
              undef, 'viewer1');
Test::More::is($st, 403, 'a viewer may not create one');
Test::More::is(::offset($path), 0, 'the upload is untouched');
($st) = ::tus('DELETE', $path);
Test::More::is($st, 204, 'its user ends it');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 6: the quota counts an upload from its creation: what does not fit is 507, what ended frees its room
--- init
my ($org) = split ' ', ::used();
::psql("INSERT INTO attachments.quotas VALUES ('acme', '', " . ($org + 1000) . ")");
my ($st, undef, $b) = ::tus('POST', $::Uploads, { 'Upload-Length' => 1001,
                                                 'Upload-Metadata' => ::metadata(filename => 'a.txt') });
Test::More::like("$st $b", qr/^507 .*"code":"quota_exceeded"/, 'a length over the room: 507');
my $a = ::create(600);
($st) = ::tus('POST', $::Uploads, { 'Upload-Length' => 600, 'Upload-Metadata' => ::metadata(filename => 'b.txt') });
Test::More::is($st, 507, 'the room the first reserved is not there for a second');
($st) = ::tus('DELETE', $a);
Test::More::is($st, 204, 'the first ends');
my $b2 = ::create(600);
Test::More::ok($b2, 'and its room is free again');
($st) = ::patch($b2, 0, substr(::text(600), 0, 600));
Test::More::is($st, 200, 'the second finishes within the quota');
Test::More::is(::psql("SELECT count(*) FROM attachments.usage_drift"), '0', 'the counters are the rows');
::psql("DELETE FROM attachments.quotas");
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 7: bytes that are not what the upload claims end it as soon as they are in
--- init
my $before = ::used();
my $path = ::create(40000, filename => 'photo.png', filetype => 'image/png');
my ($st) = ::patch($path, 0, 'not a picture ' x 500);
Test::More::is($st, 204, 'too few bytes to tell: taken');
($st, my $h, my $b) = ::patch($path, 7000, 'still not a picture ' x 1000);
Test::More::like("$st $b", qr/^415 .*"code":"type_mismatch"/, 'the bytes that tell: 415');
($st) = ::tus('HEAD', $path);
Test::More::is($st, 404, 'the upload is no more');
Test::More::is(::used(), $before, 'nor its reservation');
Test::More::ok(::wait_until(sub { ::tus_files() eq '' }), 'nor its files');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body_unlike: photo



=== TEST 8: a creation with its bytes: all of them make the file at once, some of them start it
--- init
my $body = ::text(100);
my ($st, $h, $b) = ::tus('POST', $::Uploads, {
    'Upload-Length' => length $body, 'Upload-Metadata' => ::metadata(filename => 'whole.txt'),
    'Content-Type' => 'application/offset+octet-stream' }, $body);
Test::More::like("$st $h->{'upload-offset'} $b", qr/^201 @{[length $body]} .*"file_name":"whole\.txt"/,
                 'all the bytes: 201 and the file');
Test::More::like($h->{location}, qr{/uploads/[0-9a-f-]{36}$}, 'with the Location it had');
($st, $h) = ::tus('POST', $::Uploads, {
    'Upload-Length' => 2 * length $body, 'Upload-Metadata' => ::metadata(filename => 'half.txt'),
    'Content-Type' => 'application/offset+octet-stream' }, $body);
Test::More::is("$st $h->{'upload-offset'}", "201 @{[length $body]}", 'some: 201 and the offset');
($st) = ::patch($h->{location}, length $body, $body);
Test::More::is($st, 200, 'the rest makes the file');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body_like: "file_name":"half.txt"



=== TEST 9: a PATCH cut short keeps what it wrote; the next goes on from there
--- no_http2
--- init
my $body = ::text(300000);    # about 7 MB
my $path = ::create(length $body);
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}") or die $!;
$s->autoflush(1);
print $s "PATCH $path HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\nX-Org: acme\r\n"
       . "Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
       . "Upload-Offset: 0\r\nContent-Length: " . length($body) . "\r\n\r\n"
       . substr($body, 0, 3_000_000);
Time::HiRes::sleep(0.5);
close $s;
my $kept = 0;
::wait_until(sub { ($kept = ::offset($path)) == 3_000_000 });
Test::More::is($kept, 3_000_000, 'every byte sent is kept');
my ($st) = ::patch($path, $kept, substr($body, $kept));
Test::More::is($st, 200, 'the rest from there makes the file');
my $f = JSON::PP::decode_json(::psql("SELECT json_build_object('sha', sha256, 'size', size)"
                                     . " FROM attachments.files WHERE file_name = 'notes.txt'"
                                     . " ORDER BY created_at DESC LIMIT 1"));
Test::More::is("$f->{size} $f->{sha}", length($body) . ' ' . Digest::SHA::sha256_hex($body),
               'the file is the whole of it');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 10: two PATCHes of one upload at once: the second is 423 while the first appends
--- no_http2
--- init
my $path = ::create(2_000_000);
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}") or die $!;
$s->autoflush(1);
print $s "PATCH $path HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\nX-Org: acme\r\n"
       . "Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
       . "Upload-Offset: 0\r\nContent-Length: 2000000\r\n\r\n" . ('a' x 1000);
Time::HiRes::sleep(0.3);
my ($st, undef, $b) = ::patch($path, 0, 'b' x 10);
Test::More::like("$st $b", qr/^423 .*"code":"locked"/, 'the second: 423');
($st) = ::tus('DELETE', $path);
Test::More::is($st, 423, 'and so is a DELETE meanwhile');
print $s 'a' x 1_999_000;
my $resp = join '', <$s>;
Test::More::like($resp, qr{^HTTP/1\.1 200 }, 'the first finishes');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 11: an upload past attachments_tus_expiry is gone, and the collector takes its files and its room
--- http_config eval
$::Http . "    attachments_tus_expiry 1s;\n"
--- init
my $before = ::used();
my $path = ::create(5000);
my ($st, $h) = ::patch($path, 0, 'x' x 100);
Test::More::is($st, 204, 'appended to while it lasts');
Time::HiRes::sleep(1.2);
($st) = ::tus('HEAD', $path);
Test::More::is($st, 404, 'expired: 404');
Test::More::ok(::wait_until(sub { ::tus_files() eq ''
                                  && ::psql("SELECT count(*) FROM attachments.tus_uploads") eq '0' }),
               'the collector removed its files and its row');
Test::More::is(::used(), $before, 'and its reservation');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 12: tus-js-client: 1 byte, 0 bytes, 50 MB in 1 MB chunks, cut off and resumed from a new process, four at once
--- no_http2
--- timeout: 120
--- init
my $dir = File::Temp::tempdir(CLEANUP => 1);
my $endpoint = "$::Url$::Uploads";
local $ENV{TUS_TYPE} = 'application/octet-stream';
sub node {
    my $out = `node $ENV{TEST_NGINX_TOP}/t/inc/tus.mjs @_`;
    return eval { JSON::PP::decode_json((split /\n/, $out)[-1]) } || { error => "no JSON: $out" };
}
sub stored {
    my ($name) = @_;
    return ::psql("SELECT size || ' ' || sha256 FROM attachments.files"
                  . " WHERE file_name = '$name' AND state = 'ready'");
}
sub file {
    my ($name, $bytes) = @_;
    open my $fh, '>', "$dir/$name" or die $!;
    print $fh $bytes;
    close $fh;
    return "$dir/$name";
}
my $one = file('one.bin', 'x');
my $r = node('upload', $endpoint, $one, 'one.bin');
Test::More::is("$r->{status} " . stored('one.bin'), '200 1 ' . Digest::SHA::sha256_hex('x'), '1 byte');
my $zero = file('zero.bin', '');
$r = node('upload', $endpoint, $zero, 'zero.bin');
Test::More::like(($r->{error} // '') . stored('zero.bin'), qr/response code: 400, .*"code":"empty_file"/,
                 '0 bytes: refused as a multipart upload refuses an empty file');
my $big = join '', map { pack('N', $_ * 2654435761 % 4294967296) } 1 .. 12_500_000;   # 50 MB
my $bigf = file('big.bin', $big);
$r = node('upload', $endpoint, $bigf, 'big.bin', 1048576);
Test::More::is(scalar @{ $r->{offsets} || [] }, 48, '50 MB in 1 MB chunks');
Test::More::is(stored('big.bin'), length($big) . ' ' . Digest::SHA::sha256_hex($big), 'stored whole');
my $cut = file('cut.bin', substr($big, 0, 20_000_000));
$r = node('upload', $endpoint, $cut, 'cut.bin', 1048576, 10_000_000);
Test::More::ok($r->{stopped} && $r->{stopped} >= 10_000_000, 'a process stops after 10 MB');
$r = node('resume', $endpoint, $cut, 'cut.bin', 1048576);
Test::More::ok(!$r->{error} && $r->{offsets}[0] > 10_000_000, 'another takes it up from where it was')
    or Test::More::diag(JSON::PP::encode_json($r));
Test::More::is(stored('cut.bin'), '20000000 ' . Digest::SHA::sha256_hex(substr($big, 0, 20_000_000)),
               'and the file is whole');
my @pids;
for my $i (1 .. 4) {
    my $f = file("par$i.bin", substr($big, $i * 1000, 3_000_000));
    push @pids, open(my $fh, '-|', "node $ENV{TEST_NGINX_TOP}/t/inc/tus.mjs upload $endpoint $f par$i.bin 524288");
    push @::Par, $fh;
}
waitpid $_, 0 for @pids;
Test::More::is(join(' ', map { stored("par$_.bin") =~ /^3000000 / ? 'ok' : 'missing' } 1 .. 4),
               'ok ok ok ok', 'four at once, each whole');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
Test::More::is(::psql("SELECT count(*) FROM attachments.usage_drift"), '0', 'and the counters are the rows');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 13: refused creations with a body leave nothing: no upload, no files, no reservation, no Location
--- init
my $before = ::used();
my $n = ::psql("SELECT count(*) FROM attachments.tus_uploads");
my %m = ('Upload-Length' => 100, 'Upload-Metadata' => ::metadata(filename => 'c.txt'));
my ($st, $h) = ::tus('POST', $::Uploads, { %m, 'Content-Type' => 'text/plain' }, 'hello');
Test::More::is("$st " . ($h->{location} // 'none'), '415 none', 'a body not of tus\'s type: 415, no Location');
($st, $h) = ::tus('POST', $::Uploads, { %m, 'Content-Type' => 'application/offset+octet-stream',
                                        'Upload-Checksum' => 'sha256 '
                                        . MIME::Base64::encode_base64(Digest::SHA::sha256('other'), '') },
                  'hello');
Test::More::is("$st " . ($h->{location} // 'none'), '460 none', 'a body not of its checksum: 460, no Location');
($st) = ::tus('POST', $::Uploads, { %m, 'Content-Type' => 'application/offset+octet-stream',
                                    'Upload-Checksum' => 'sha256 !!' }, 'hello');
Test::More::is($st, 400, 'a checksum that is none: 400');
($st) = ::tus('POST', $::Uploads, { %m, 'Content-Type' => 'application/offset+octet-stream' }, 'x' x 101);
Test::More::is($st, 413, 'a body longer than the upload: 413');
($st, $h) = ::tus('POST', $::Uploads, { 'Upload-Length' => 20000,
                                        'Upload-Metadata' => ::metadata(filename => 'p.png', filetype => 'image/png'),
                                        'Content-Type' => 'application/offset+octet-stream' },
                  'not a picture ' x 1300);
Test::More::is("$st " . ($h->{location} // 'none'), '415 none', 'bytes of another type: 415, no Location');
Test::More::is(::psql("SELECT count(*) FROM attachments.tus_uploads"), $n, 'no upload was made');
Test::More::is(::used(), $before, 'nothing is reserved');
Test::More::ok(::wait_until(sub { ::tus_files() eq '' }), 'no file is left');
($st, undef, my $b) = ::tus('POST', $::Uploads, { 'Upload-Length' => 0,
                                                 'Upload-Metadata' => ::metadata(filename => 'e.txt') });
Test::More::like("$st $b", qr/^400 .*"code":"empty_file"/, 'an empty file: 400 empty_file, as in multipart');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 14: damaged files: a state that is none or bytes short of it are no upload to append to, yet one to end
--- init
my $short = ::create(100);
my ($id) = $short =~ m{([0-9a-f-]{36})$};
my ($st) = ::patch($short, 0, 'a' x 50);
Test::More::is($st, 204, 'fifty bytes in');
truncate "$::Store/.tus/$id", 20 or die $!;
($st) = ::patch($short, 50, 'b' x 50);
Test::More::is($st, 503, 'bytes fewer than counted: 503, never zeros in the file');
($st) = ::tus('DELETE', $short);
Test::More::is($st, 204, 'the upload can still be ended');
my $broken = ::create(100);
($id) = $broken =~ m{([0-9a-f-]{36})$};
truncate "$::Store/.tus/$id.state", 10 or die $!;
($st) = ::tus('HEAD', $broken);
Test::More::is($st, 503, 'a state that is none: 503');
($st) = ::tus('DELETE', $broken);
Test::More::is($st, 204, 'and it can be ended');
Test::More::ok(::wait_until(sub { ::tus_files() eq '' }), 'their files are gone');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
--- error_log
holds fewer bytes than its state counts



=== TEST 15: files of an upload that is gone are removed by the collector once older than the grace
--- init
my $id = '0eadbeef-0000-4000-8000-000000000150';
for my $f ($id, "$id.state", "$id.state.new") {
    open my $fh, '>', "$::Store/.tus/$f" or die $!;
    print $fh "left by a crash\n";
    close $fh;
    utime time - 10, time - 10, "$::Store/.tus/$f";
}
Test::More::ok(::wait_until(sub { ::tus_files() eq '' }), 'the collector removed them');
Test::More::is(::clean(), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/150/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
