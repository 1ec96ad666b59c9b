# Copyright (C) 2026 The ngx_http_attachments_module authors

# Resumable uploads into an S3 storage (s3rver on 127.0.0.1) go up in parts
# as they come: whole parts of 8 MB after each PATCH, into an upload in
# parts under the key the file will have, recorded in the upload's row;
# the end sends the last part and completes it; an upload of one part or
# less is put whole.  A termination or an expiry leaves the abort to the
# collector.  A completion whose upload in parts is gone sends the file
# whole.  Every request nginx sends to "S3" is recorded by a step in front
# of s3rver, and the parts' signatures recomputed by botocore.  A part of
# an upload in parts the store lost starts another; the end hands the
# upload in parts over to its completion, so that a retry after a refusal
# never completes it twice.  s3rver has
# no AbortMultipartUpload, and answers 500 where S3 answers 404
# NoSuchUpload (and takes parts of any upload): the recording step answers
# those as S3 does (204, and 404 for an upload id the test made unknown),
# after logging them.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::S3;
use Attachments::HTTP;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 82;

start_s3rver();
$ENV{TEST_NGINX_S3REC_PORT} = free_port();

our $Tmp = tempdir('attachments-tus-s3.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Log = "$Tmp/s3.log";
$ENV{TEST_NGINX_S3TMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;
chmod 0777, $Tmp;
open my $secret, '>', "$Tmp/secret" or die $!;
print $secret "S3RVER\n";
close $secret;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage cloud s3
        endpoint=http://127.0.0.1:$TEST_NGINX_S3REC_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/ temp=$TEST_NGINX_S3TMP;
    attachments_active_storage cloud;
    attachments_allowed_types text/plain;
    attachments_max_file_size 60m;
    client_max_body_size 70m;
    attachments_gc_interval 200ms;
    attachments_gc_grace 0;

    log_format s3 '$request_method $request_uri|$http_host|$http_x_amz_date|'
                  '$http_x_amz_content_sha256|$http_authorization|$status|'
                  '$request_length';

    map "$request_method:$arg_uploadId" $abort {
        "~^DELETE:."     1;
        "~^POST:gone"    2;
        "~^PUT:nosuch"   2;
        default          0;
    }

    # stores that misbehave for a file of that name: every part lost (404),
    # uploads in parts refused (403), a completion whose error comes after
    # 5000 blanks of keep-alive
    map "$request_method:$uri:$args" $misbehave {
        "~^PUT:.*-lost\.txt:partNumber"     1;
        "~^POST:.*-refused\.txt:uploads"    2;
        "~^POST:.*-late\.txt:uploadId"      3;
        default                             0;
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_S3REC_PORT;
        access_log $TEST_NGINX_S3TMP/s3.log s3;
        client_max_body_size 0;

        location / {
            if ($abort = 1) {
                return 204;
            }

            if ($abort = 2) {
                return 404 "<Error><Code>NoSuchUpload</Code></Error>";
            }

            if ($misbehave = 1) {
                return 404 "<Error><Code>NoSuchUpload</Code></Error>";
            }

            if ($misbehave = 2) {
                return 403 "<Error><Code>AccessDenied</Code></Error>";
            }

            if ($misbehave = 3) {
                set $late "BLANKS";
                set $late "$late$late";
                return 200 "$late<Error><Code>InternalError</Code></Error>";
            }

            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }
    }
_EOC_

# the keep-alive blanks S3 sends while it completes (5000), then its error
$Http =~ s/BLANKS/' ' x 2500/e;

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
    request => 'GET /plain',
    response_body => "plain\n",
);

reset_db();
seed_people();

our $Uploads = '/api/work_orders/155/uploads';
our $Url = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}";
our $MB = 1024 * 1024;

sub tus {
    my ($method, $path, $h, $body) = @_;
    my %h = ('X-User' => 'owner1', 'X-Org' => 'acme', 'Tus-Resumable' => '1.0.0',
             %{ $h || {} });
    my $r = Attachments::HTTP->new(timeout => 60, max_redirect => 0)->request(
        $method, "$Url$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    return ($r->{status}, $r->{headers}, $r->{content});
}

sub create {
    my ($length, $name) = @_;
    my ($st, $h) = tus('POST', $Uploads, { 'Upload-Length' => $length,
        'Upload-Metadata' => 'filename ' . encode_base64($name // 'survey.txt', '')
                             . ',filetype ' . encode_base64('text/plain', '') });
    die "create: $st" unless $st == 201;
    return $h->{location};
}

sub patch {
    my ($path, $offset, $bytes) = @_;
    return tus('PATCH', $path, { 'Content-Type' => 'application/offset+octet-stream',
                                 'Upload-Offset' => $offset }, $bytes);
}

sub id_of { ($_[0] =~ m{/([0-9a-f-]{36})$})[0] }

sub row {
    my ($id, $cols) = @_;
    ::psql("SELECT $cols FROM attachments.tus_uploads WHERE id = '$id'");
}

# what reached "S3" since the last call: [method, uri, host, date, sha, auth, status, length]
our $Seen = 0;
sub recorded {
    open my $fh, '<', $::Log or return ();
    my @all = map { chomp; my ($m, $rest) = split / /, $_, 2;
                    [ $m, split /\|/, $rest, -1 ] } <$fh>;
    my @new = @all[$Seen .. $#all];
    $Seen = @all;
    return @new;
}

sub shape { join ' ', map { my $u = $_->[1];
    $u =~ s/uploadId=[^&]+/uploadId=ID/; $u =~ s{^/files/[^?]+}{};
    "$_->[0]$u" } @_ }

sub text { my ($n, $c) = @_; substr(("survey line $c\n" x ($n / 14 + 1)), 0, $n) }

# the SHA-256 of the object under a key
sub stored_sha { Digest::SHA::sha256_hex(pack('H*', s3_object(shift)->{body_hex} // '')) }

run_tests();

__DATA__

=== TEST 1: 20 MB in two PATCHes: one part after the first, two and the completion at the end
--- init
my $bytes = ::text(20 * $::MB, 'a');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::recorded();
my ($st, $h) = ::patch($loc, 0, substr($bytes, 0, 10 * $::MB));
Test::More::is($st, 204, 'the first 10 MB: 204');
Test::More::is($h->{'upload-offset'}, 10 * $::MB, 'counted');
my @r = ::recorded();
Test::More::is(::shape(@r), 'POST?uploads PUT?partNumber=1&uploadId=ID',
               'an upload in parts made, its first part sent');
Test::More::is($r[1][7] > 8 * $::MB && $r[1][7] < 8 * $::MB + 4096 ? 1 : 0, 1,
               'a part of 8 MB');
my ($key, $parts, $fid) = split /\|/, ::row($id, "store_key, cardinality(parts), store_file");
Test::More::like($key, qr{^org_acme/work_orders/155/\Q$fid\E-survey\.txt$},
                 "under the file's key, of the file's id to be");
Test::More::is($parts, 1, 'the part recorded in the row');
my ($sig) = ::botocore({ op => 'sign', method => 'PUT',
    url => "http://$r[1][2]$r[1][1]", body_hex => '', date => $r[1][3],
    region => 'us-east-1', access_key => 'S3RVER', secret => 'S3RVER',
    unsigned => JSON::PP::true });
Test::More::is($r[1][4], 'UNSIGNED-PAYLOAD', 'a part is sent unsigned');
Test::More::is($r[1][5], $sig->{authorization}, 'UploadPart signed as botocore signs it');
($st, $h, my $body) = ::patch($loc, 10 * $::MB, substr($bytes, 10 * $::MB));
Test::More::is($st, 200, 'the rest: 200, the file');
@r = ::recorded();
Test::More::is(::shape(@r),
    'PUT?partNumber=2&uploadId=ID PUT?partNumber=3&uploadId=ID POST?uploadId=ID',
    'the second part, the last, the completion');
Test::More::is(join(' ', map { $_->[6] } @r), '200 200 200', 'all taken');
my $f = JSON::PP->new->decode($body)->{files}[0];
Test::More::is("$f->{id} $f->{size} $f->{sha256} "
    . ::psql("SELECT storage FROM attachments.files WHERE id = '$f->{id}'"),
    "$fid " . length($bytes) . ' ' . Digest::SHA::sha256_hex($bytes) . ' cloud',
    "the file: that id, its size and SHA-256, in cloud");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');
Test::More::is(::psql("SELECT count(*) FROM attachments.tus_uploads"), 0, 'the upload ended');



=== TEST 2: 1 MB: put whole at the end, no upload in parts
--- init
my $bytes = ::text($::MB, 'b');
my $loc = ::create(length $bytes);
::recorded();
my ($st) = ::patch($loc, 0, $bytes);
Test::More::is($st, 200, 'one part or less: 200');
my @r = ::recorded();
Test::More::is(::shape(@r), 'PUT', 'one PUT');
Test::More::is(::psql("SELECT store_upload IS NULL FROM attachments.files f
    LEFT JOIN attachments.tus_uploads u ON u.id = f.id
    WHERE f.entity_id = '155' AND f.size = " . length($bytes)), 't', 'no upload in parts');



=== TEST 3: terminated after a part: 204; the collector aborts the upload in parts
--- init
my $bytes = ::text(12 * $::MB, 'c');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::patch($loc, 0, substr($bytes, 0, 9 * $::MB));
my ($key, $upload) = split /\|/, ::row($id, "store_key, store_upload");
Test::More::ok($upload, 'an upload in parts');
::recorded();
my ($st) = ::tus('DELETE', $loc);
Test::More::is($st, 204, 'terminated: 204');
my @r;
Test::More::ok(::wait_until(sub { push @r, ::recorded(); grep { $_->[0] eq 'DELETE' } @r }),
               'the collector sent an abort');
my ($abort) = grep { $_->[0] eq 'DELETE' } @r;
Test::More::like($abort->[1], qr{^/files/\Q$key\E\?uploadId=\Q$upload\E$},
                 'AbortMultipartUpload of that upload, under its key');
my ($sig) = ::botocore({ op => 'sign', method => 'DELETE',
    url => "http://$abort->[2]$abort->[1]", body_hex => '', date => $abort->[3],
    region => 'us-east-1', access_key => 'S3RVER', secret => 'S3RVER' });
Test::More::is($abort->[5], $sig->{authorization}, 'signed as botocore signs it');
Test::More::is(::psql("SELECT count(*) FROM attachments.stray_names
                       WHERE upload_id = '$upload'"), 0,
               'nothing of it left for the collector');
Test::More::is(::psql("SELECT count(*) FROM attachments.tus_uploads"), 0, 'no upload');



=== TEST 4: expired after a part: the collector removes the row and aborts the upload in parts
--- init
my $bytes = ::text(12 * $::MB, 'd');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::patch($loc, 0, substr($bytes, 0, 9 * $::MB));
my ($key, $upload) = split /\|/, ::row($id, "store_key, store_upload");
::recorded();
::psql("UPDATE attachments.tus_uploads SET expires_at = now() - interval '1 second'
        WHERE id = '$id'");
my @r;
Test::More::ok(::wait_until(sub { push @r, ::recorded(); grep { $_->[0] eq 'DELETE' } @r }),
               'the collector sent an abort');
my ($abort) = grep { $_->[0] eq 'DELETE' } @r;
Test::More::like($abort->[1], qr{\?uploadId=\Q$upload\E$}, 'of that upload');
Test::More::is(::psql("SELECT count(*) FROM attachments.tus_uploads"), 0, 'the row is gone');
Test::More::is(join(' ', glob("$::Tmp/.tus/*")), '', 'and its bytes');



=== TEST 5: the upload in parts gone at the end (aborted by the store): the file goes whole
--- init
my $bytes = ::text(16 * $::MB, 'e');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::patch($loc, 0, substr($bytes, 0, 8 * $::MB));
::psql("UPDATE attachments.tus_uploads SET store_upload = 'gone' || store_upload,
        parts = parts || parts WHERE id = '$id'");
::recorded();
my ($st, undef, $body) = ::patch($loc, 8 * $::MB, substr($bytes, 8 * $::MB));
Test::More::is($st, 200, '200: the file');
my @r = ::recorded();
Test::More::is(::shape(@r), 'POST?uploadId=ID PUT', 'the completion failed; one PUT');
$id = JSON::PP->new->decode($body)->{files}[0]{id};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$id'");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');
Test::More::is(::psql("SELECT state FROM attachments.files WHERE id = '$id'"), 'ready',
               'ready');



=== TEST 6: a part of an upload in parts the store lost: a new one from the start; the lost one aborted
--- init
my $bytes = ::text(18 * $::MB, 'f');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::patch($loc, 0, substr($bytes, 0, 9 * $::MB));
::psql("UPDATE attachments.tus_uploads SET store_upload = 'nosuch' WHERE id = '$id'");
::recorded();
my ($st, $h) = ::patch($loc, 9 * $::MB, substr($bytes, 9 * $::MB, 8 * $::MB));
Test::More::is("$st $h->{'upload-offset'}", '204 ' . 17 * $::MB, '204, all counted');
my @r = ::recorded();
# (the refused PUT is logged when its body was read: in any order)
Test::More::is(::shape(grep { $_->[0] ne 'DELETE' && $_->[6] == 404 } @r),
    'PUT?partNumber=2&uploadId=ID', 'the part refused (404)');
Test::More::is(::shape(grep { $_->[0] ne 'DELETE' && $_->[6] == 200 } @r),
    'POST?uploads PUT?partNumber=1&uploadId=ID PUT?partNumber=2&uploadId=ID',
    'another upload in parts, its parts from the first');
Test::More::is(::row($id, "cardinality(parts), store_upload <> 'nosuch'"), '2|t',
               'the new one recorded');
($st, undef, my $body) = ::patch($loc, 17 * $::MB, substr($bytes, 17 * $::MB));
Test::More::is($st, 200, 'the end: 200');
push @r, ::recorded();
Test::More::like(::shape(grep { $_->[0] ne 'DELETE' } @r),
    qr/PUT\?partNumber=3&uploadId=ID POST\?uploadId=ID$/, 'the last part, the completion');
my $fid = JSON::PP->new->decode($body)->{files}[0]{id};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$fid'");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');
Test::More::ok(::wait_until(sub { push @r, ::recorded();
                                  grep { $_->[1] =~ /uploadId=nosuch$/ } @r }),
               'the collector aborted the lost one');



=== TEST 7: the end refused over the quota (507) after the completion; raised, the retry makes the file without completing the same upload twice
--- init
my $bytes = ::text(20 * $::MB, 'g');
my $loc = ::create(length $bytes);
my $id = ::id_of($loc);
::patch($loc, 0, substr($bytes, 0, 10 * $::MB));
my $first = ::row($id, 'store_upload');
::psql("INSERT INTO attachments.quotas (organization_id, user_id, max_bytes)
        VALUES ('acme', '', 1)");
::recorded();
my ($st, $h) = ::patch($loc, 10 * $::MB, substr($bytes, 10 * $::MB));
Test::More::is($st, 507, 'over the quota at the end: 507');
my @r = ::recorded();
Test::More::like(::shape(@r), qr/^PUT\?partNumber=2&uploadId=ID PUT\?partNumber=3&uploadId=ID POST\?uploadId=ID DELETE$/,
                 'completed, then its object deleted');
Test::More::is(::row($id, "coalesce(store_upload, 'none')"), 'none',
               'the row forgot the completed upload in parts');
::psql("DELETE FROM attachments.quotas");
($st) = ::tus('PATCH', $loc, { 'Content-Type' => 'application/offset+octet-stream',
                               'Upload-Offset' => 20 * $::MB }, '');
Test::More::is($st, 200, 'room again: the retry makes the file');
@r = ::recorded();
Test::More::unlike(join(' ', map { $_->[1] } @r), qr/uploadId=\Q$first\E/,
                   'without the first upload in parts');
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE state = 'ready'
                  AND size = " . length($bytes) . " ORDER BY created_at DESC LIMIT 1");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');



=== TEST 8: every part lost: one new upload in parts a request, then the bytes wait; at the end the file goes whole
--- init
my $bytes = ::text(20 * $::MB, 'h');
my $loc = ::create(length $bytes, 'lost.txt');
::recorded();
my ($st, $h) = ::patch($loc, 0, substr($bytes, 0, 10 * $::MB));
Test::More::is("$st $h->{'upload-offset'}", '204 ' . 10 * $::MB, '204, counted');
my @r = grep { $_->[0] ne 'DELETE' } ::recorded();
Test::More::is(scalar(grep { $_->[0] eq 'POST' } @r), 2, 'two uploads in parts, no more');
($st, undef, my $body) = ::patch($loc, 10 * $::MB, substr($bytes, 10 * $::MB));
Test::More::is($st, 200, 'the end: 200');
@r = grep { $_->[0] ne 'DELETE' } ::recorded();
Test::More::is($r[-1][0] . ' ' . $r[-1][6], 'PUT 200', 'the file went whole');
my $fid = JSON::PP->new->decode($body)->{files}[0]{id};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$fid'");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');



=== TEST 9: uploads in parts refused for good (403): the PATCH is 204; the end sends the file whole
--- init
my $bytes = ::text(20 * $::MB, 'i');
my $loc = ::create(length $bytes, 'refused.txt');
my ($st) = ::patch($loc, 0, substr($bytes, 0, 10 * $::MB));
Test::More::is($st, 204, 'a PATCH: 204');
::recorded();
($st, undef, my $body) = ::patch($loc, 10 * $::MB, substr($bytes, 10 * $::MB));
Test::More::is($st, 200, 'the end: 200');
my @r = ::recorded();
Test::More::is(::shape(@r), 'POST?uploads PUT', 'refused again, then one PUT');
my $fid = JSON::PP->new->decode($body)->{files}[0]{id};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$fid'");
Test::More::is(::stored_sha($key),
               Digest::SHA::sha256_hex($bytes), 'the object holds the bytes');



=== TEST 10: a completion whose 200 says an error after 5000 blanks is no completion: 503, no file
--- init
my $bytes = ::text(12 * $::MB, 'j');
my $loc = ::create(length $bytes, 'late.txt');
::patch($loc, 0, substr($bytes, 0, 9 * $::MB));
my ($st) = ::patch($loc, 9 * $::MB, substr($bytes, 9 * $::MB));
Test::More::is($st, 503, 'the end: 503');
Test::More::is(::count_rows('files', "file_name = 'late.txt' AND state = 'ready'"), 0,
               'no file');
($st) = ::tus('DELETE', $loc);
Test::More::is($st, 204, 'the upload ended');



=== TEST 11: attachments-fsck finds nothing wrong; the counters agree
--- init
my $out;
::wait_until(sub { ($out = ::fsck(\@::Storages)) eq '' });
Test::More::is($out, '', 'fsck: clean');
Test::More::is(::psql('SELECT count(*) FROM attachments.usage_drift'), 0, 'no drift');
