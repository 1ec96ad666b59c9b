# Copyright (C) 2026 The ngx_http_attachments_module authors

# The google_drive storage kind, against the Google Drive emulator
# (t/inc/gdrive.mjs, written from Drive API v3's and Google's OAuth 2.0
# references: no Google service can be reached from here).  Tokens come
# from a service account's RS256 JWT assertion (the emulator verifies it
# with the account's public key, made here by openssl) or from an OAuth
# client's refresh token, are kept for the workers and renewed once on a
# 401.  Files go into their record's folder (found by name or made, once,
# whoever races), as resumable uploads whose size and SHA-256 are checked;
# downloads stream through nginx with Range; the collector finds a file by
# its name and deletes it with the module's own client.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::Drive;
use Attachments::S3;
use Attachments::HTTP;
use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Digest::SHA qw(sha256_hex);
use POSIX ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
plan tests => 136;

our $Tmp = tempdir('attachments-gdrive.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_GDTMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;
start_gdrive($Tmp);
start_s3rver();

# another account's key: its assertions do not verify
system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $Tmp/other.key 2>/dev/null") == 0 or die;
{
    open my $in, '<', "$Tmp/sa.json" or die $!;
    my $sa = JSON::PP->new->decode(do { local $/; <$in> });
    open my $k, '<', "$Tmp/other.key" or die $!;
    $sa->{private_key} = do { local $/; <$k> };
    open my $out, '>', "$Tmp/other.json" or die $!;
    print $out JSON::PP->new->encode($sa);
    close $out;
}

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage office google_drive
        credentials=$TEST_NGINX_GDTMP/sa.json
        endpoint=http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT
        proxy=/_gdrive/ token=/_gtoken/ temp=$TEST_NGINX_GDTMP;
    attachments_storage team google_drive
        client_id=client-1.apps.googleusercontent.com
        client_secret_file=$TEST_NGINX_GDTMP/client.secret
        refresh_token_file=$TEST_NGINX_GDTMP/refresh.token
        token_uri=http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT/token
        endpoint=http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT
        proxy=/_gdrive/ token=/_gtoken/ temp=$TEST_NGINX_GDTMP;
    attachments_storage bucket s3
        endpoint=http://127.0.0.1:$TEST_NGINX_S3_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/ temp=$TEST_NGINX_GDTMP;
    attachments_active_storage office;
    attachments_route work_orders "Work Orders/WO-$attachments_entity_id $attachments_record_name";
    attachments_gc_interval 200ms;
    attachments_gc_retention 0;
    attachments_gc_grace 0;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /_gdrive/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT/;
    }

    location /_gtoken/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT/;
    }

    location /_s3/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT/;
    }

    location /dl/ {
        attachments_download office;
    }

    location /dlt/ {
        attachments_download team;
    }

    location = /health {
        attachments_health;
    }

    location /plain {
        return 200 "plain\n";
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
    request => 'GET /plain',
    response_body => "plain\n",
);

reset_db();
seed_people();

our $Url = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}";



# the emulator's calls since the last mark, as "METHOD what status [+auth]"
sub calls {
    my $log = gdrive_log();
    my $from = $::Mark // 0;
    $::Mark = scalar @$log;
    return [map {
        my $u = $_->{url};
        my $what = $u =~ m{^/token} ? 'token'
                 : $u =~ m{^/upload/drive/v3/files\?uploadType=resumable&upload_id=} ? 'bytes'
                 : $u =~ m{^/upload/} ? 'session'
                 : $u =~ m{^/drive/v3/files\?q=} ? 'find'
                 : $u =~ m{^/drive/v3/files\?} ? 'folder'
                 : $u =~ m{^/drive/v3/files/[\w-]+\?alt=media} ? 'media'
                 : $u =~ m{^/drive/v3/files/} ? 'file' : $u;
        "$_->{method} $what $_->{status}" . ($_->{auth} =~ /^Bearer ya29\./ ? ' +auth' : '')
    } @$log[$from .. $#$log]];
}

# after nginx started again (a new block), a token kept first: health asks
# the drive for its root folder
sub warm {
    Attachments::HTTP->new->get("$Url/health");
    calls();
}

sub on_drive { my $t = gdrive_tree(); [sort grep { $_[0] ? index($_, $_[0]) == 0 : 1 } keys %$t] }

run_tests();

__DATA__

=== TEST 1: nginx starts with a google_drive storage active



=== TEST 2: the first upload: a token by assertion, the folders found or made, a resumable upload, checked
--- init
$::Mark = 0;
my ($st, $j) = ::upload('/api/work_orders/41/files', 'report.pdf', 'application/pdf', $::PDF);
Test::More::is($st, 201, 'the upload: 201');
my $f = $j->{files}[0];
my $t = ::gdrive_tree();
my $path = "/Work Orders/WO-41 41/$f->{id}-report.pdf";
Test::More::is($t->{$path}{sha256Checksum}, Digest::SHA::sha256_hex($::PDF), 'on the drive, in the route\'s folder')
    or Test::More::diag(JSON::PP->new->encode($t));
Test::More::is($t->{'/Work Orders'}{mimeType}, 'application/vnd.google-apps.folder', 'folders are folders');
Test::More::is_deeply(::calls(), [
    'POST token 200',
    'GET find 200 +auth', 'POST folder 200 +auth',
    'GET find 200 +auth', 'POST folder 200 +auth',
    'POST session 200 +auth', 'PUT bytes 200 +auth',
], 'a token, each folder looked for and made, the session, the bytes');
Test::More::is(::psql("SELECT path || ' ' || folder_id FROM attachments.folder_cache ORDER BY path"),
               "Work Orders $t->{'/Work Orders'}{id}\nWork Orders/WO-41 41 $t->{'/Work Orders/WO-41 41'}{id}",
               'the folders\' ids cached');
Test::More::is(::psql("SELECT storage_key FROM attachments.files WHERE id = '$f->{id}'"),
               "Work Orders/WO-41 41/$f->{id}-report.pdf", 'the key: its route, its name');



=== TEST 3: the next uploads: the token kept (for the workers), the folder cached
--- init
my ($st) = ::upload('/api/work_orders/41/files', 'first.txt', 'text/plain', "first\n");
Test::More::is($st, 201, 'a first upload: 201');
::calls();
($st) = ::upload('/api/work_orders/41/files', 'notes.txt', 'text/plain', "site notes\n");
Test::More::is($st, 201, 'the next: 201');
Test::More::is_deeply(::calls(), ['POST session 200 +auth', 'PUT bytes 200 +auth'], 'two calls');



=== TEST 4: downloads stream through nginx, as an attachment, with Range; /content too
--- init
::warm();
my ($st, $j) = ::api('GET', '/api/work_orders/41/files');
my ($pdf) = grep { $_->{file_name} eq 'report.pdf' } @{ $j->{files} };
Test::More::like($pdf->{download_url}, qr{^/dl/Work%20Orders/WO-41%2041/[0-9a-f-]{36}-report\.pdf\?X-Expires=}, 'a signed URL of nginx');
my (undef, undef, $r) = ::api('GET', $pdf->{download_url});
Test::More::is("$r->{status} $r->{content}", "200 $::PDF", 'the bytes, through nginx');
Test::More::like($r->{headers}{'content-disposition'}, qr/^attachment; filename="report\.pdf"/, 'as an attachment');
Test::More::is($r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff');
(undef, undef, $r) = ::api('GET', $pdf->{download_url}, undef, Range => 'bytes=1-3');
Test::More::is("$r->{status} $r->{content}", '206 PDF', 'a range');
(undef, undef, $r) = ::api('GET', "/api/work_orders/41/files/$pdf->{id}/content");
Test::More::is("$r->{status} $r->{content}", "200 $::PDF", '/content');
my $bad = $pdf->{download_url};
$bad =~ s/X-Expires=\d+/X-Expires=1/;
(undef, undef, $r) = ::api('GET', $bad);
Test::More::is($r->{status}, 403, 'a tampered URL: 403');
Test::More::is_deeply(::calls(), ['GET find 200 +auth', 'GET media 200 +auth',
    'GET find 200 +auth', 'GET media 206 +auth', 'GET find 200 +auth', 'GET media 200 +auth'],
    'found by name, then its bytes with the token');



=== TEST 5: a download carries none of the client's headers but Range; a refusal of Drive is JSON
--- init
::warm();
my ($st, $j) = ::api('GET', '/api/work_orders/41/files');
my ($pdf) = grep { $_->{file_name} eq 'report.pdf' } @{ $j->{files} };
my (undef, undef, $r) = ::api('GET', $pdf->{download_url}, undef,
    Authorization => 'Basic dXNlcjpwYXNz', Cookie => 'session=SECRET', Range => 'bytes=0-3');
Test::More::is("$r->{status} $r->{content}", '206 %PDF', 'the client\'s Authorization did not get in the way');
my ($media) = grep { $_->{url} =~ /alt=media/ } @{ ::gdrive_log() }[-1];
Test::More::like($media->{auth}, qr/^Bearer ya29\./, 'the token went');
Test::More::is($media->{cookie}, '', 'no cookie went');
Test::More::is(join(',', sort grep { !/^(Host|Connection|Range|Authorization)$/i } split /,/, $media->{headers}), '',
               'nothing else of the client\'s');
(undef, undef, $r) = ::api('GET', $pdf->{download_url}, undef, Range => 'bytes=5000-6000');
Test::More::is($r->{status}, 416, 'a range past the end: 416');
Test::More::is(eval { JSON::PP->new->decode($r->{content})->{error}{code} }, 'range_not_satisfiable', 'in JSON');
::gdrive('/_emu/fail?status=403&count=1&match=/drive/v3/files/', 'POST');
(undef, undef, $r) = ::api('GET', $pdf->{download_url});
Test::More::is($r->{status}, 503, 'Drive refusing the bytes: 503');
Test::More::is(eval { JSON::PP->new->decode($r->{content})->{error}{code} }, 'unavailable', 'in JSON, not Drive\'s');
Test::More::ok(!$r->{headers}{'set-cookie'} && !$r->{headers}{'www-authenticate'}, 'none of Drive\'s headers');
::calls();



=== TEST 6: a token with a line break in it is refused, not kept, nothing stored
--- init
::gdrive('/_emu/revoke', 'POST');
::gdrive('/_emu/badtoken?on=1', 'POST');
my ($st) = ::upload('/api/work_orders/47/files', 'a.txt', 'text/plain', "a\n");
::gdrive('/_emu/badtoken?on=0', 'POST');
Test::More::is($st, 503, '503');
Test::More::is(::file_rows(47), 0, 'no row');
my @calls = @{ ::calls() };
Test::More::ok((grep { $_ eq 'POST token 200' } @calls) && !(grep { /session|bytes/ } @calls),
               'the token asked for, nothing sent with it');



=== TEST 7: a token the drive refuses is renewed once, and the upload goes on
--- init
::warm();
::gdrive('/_emu/revoke', 'POST');
my ($st) = ::upload('/api/work_orders/41/files', 'photo.png', 'image/png', $::PNG);
Test::More::is($st, 201, '201');
Test::More::is_deeply(::calls(), ['POST session 401 +auth', 'POST token 200', 'POST session 200 +auth', 'PUT bytes 200 +auth'],
                      '401, a new token, the same step again');



=== TEST 8: a folder a person deleted is found gone and made again
--- init
::warm();
my $t = ::gdrive_tree();
::gdrive("/_emu/rm?id=$t->{'/Work Orders/WO-41 41'}{id}", 'POST');
my ($st, $j) = ::upload('/api/work_orders/41/files', 'again.txt', 'text/plain', "again\n");
Test::More::is($st, 201, '201');
Test::More::ok(::gdrive_tree()->{"/Work Orders/WO-41 41/$j->{files}[0]{id}-again.txt"}, 'in the folder made again');
Test::More::is_deeply(::calls(), ['POST session 404 +auth', 'GET find 200 +auth', 'GET find 200 +auth',
    'POST folder 200 +auth', 'POST session 200 +auth', 'PUT bytes 200 +auth'],
    'the session refused (no folder), "Work Orders" found, the record\'s folder made');



=== TEST 9: two uploads at once into a new record: one folder, made once
--- init
my @pids;
for my $n (1, 2, 3) {
    my $pid = fork // die;
    if ($pid == 0) {
        my ($st) = ::upload('/api/work_orders/43/files', "part$n.txt", 'text/plain', "part $n\n");
        POSIX::_exit($st == 201 ? 0 : 1);
    }
    push @pids, $pid;
}
my $ok = 0;
for (@pids) { waitpid($_, 0); $ok++ if $? == 0 }
Test::More::is($ok, 3, 'three 201s');
my $t = ::gdrive_tree();
Test::More::is(ref $t->{'/Work Orders/WO-43 43'}, 'HASH', 'one folder of that name');
Test::More::is(scalar(grep { m{^/Work Orders/WO-43 43/} } keys %$t), 3, 'the three files in it');
Test::More::is(scalar(grep { $_ eq 'POST folder 200 +auth' } @{ ::calls() }), 1, 'made once');



=== TEST 10: the drive answering 429 or 500: 503 with Retry-After, nothing stored
--- init
for my $case (['429', '/upload/'], ['500', '/upload/']) {
    ::gdrive("/_emu/fail?status=$case->[0]&count=1&match=$case->[1]", 'POST');
    my ($st, $j, $r) = ::upload('/api/work_orders/44/files', 'a.txt', 'text/plain', "a\n");
    Test::More::is($st, 503, "$case->[0]: 503");
    Test::More::ok($r->{headers}{'retry-after'}, 'with Retry-After');
    Test::More::is(::file_rows(44), 0, 'no row');
}
Test::More::is_deeply([grep { /^\/Work Orders\/WO-44 44\/./ } @{ ::on_drive() }], [], 'no file on the drive');
Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file');
::calls();



=== TEST 11: a drive that keeps other bytes: 503, and its file found and deleted
--- init
::warm();
::gdrive('/_emu/lie?on=1', 'POST');
my ($st) = ::upload('/api/work_orders/45/files', 'a.txt', 'text/plain', "true bytes\n");
::gdrive('/_emu/lie?on=0', 'POST');
Test::More::is($st, 503, '503');
Test::More::is(::file_rows(45), 0, 'no row');
Test::More::is_deeply([grep { /^\/Work Orders\/WO-45 45\/./ } @{ ::on_drive() }], [], 'the file deleted');
my @calls = @{ ::calls() };
Test::More::is_deeply([@calls[-2, -1]], ['GET find 200 +auth', 'DELETE file 204 +auth'], 'found by its name, deleted');



=== TEST 12: publishing and direct uploads are refused
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/41/files');
($st, $j) = ::api('POST', "/api/work_orders/41/files/$j->{files}[0]{id}/publish");
Test::More::is("$st $j->{error}{code}", '409 no_public_area', 'publish: 409');
($st, $j) = ::api('POST', '/api/work_orders/41/uploads',
    JSON::PP->new->encode({ direct => JSON::PP::true, file_name => 'd.txt', size => 3, sha256 => Digest::SHA::sha256_hex('abc') }),
    'Content-Type' => 'application/json');
Test::More::is("$st $j->{error}{code}", '409 direct_unavailable', 'direct: 409');



=== TEST 13: the collector deletes a drive's file, and asks for a token itself when it must
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/41/files');
my ($notes) = grep { $_->{file_name} eq 'again.txt' } @{ $j->{files} };
::warm();
::gdrive('/_emu/revoke', 'POST');
($st) = ::api('DELETE', "/api/work_orders/41/files/$notes->{id}");
Test::More::is($st, 204, 'deleted: 204');
Test::More::ok(::wait_until(sub { ::psql("SELECT purged_at IS NOT NULL FROM attachments.files WHERE id = '$notes->{id}'") eq 't' }), 'purged');
Test::More::is_deeply([grep { /again\.txt$/ } @{ ::on_drive() }], [], 'not on the drive');
Test::More::is_deeply(::calls(), ['GET find 401 +auth', 'POST token 200', 'GET find 200 +auth', 'DELETE file 204 +auth'],
                      'by its own client: refused, a token, found, deleted');



=== TEST 14: a resumable upload ends on the drive
--- init
my %tus = ('Tus-Resumable' => '1.0.0');
my ($st, $j, $r) = ::api('POST', '/api/work_orders/41/uploads', undef, %tus,
    'Upload-Length' => 11,
    'Upload-Metadata' => 'filename ' . MIME::Base64::encode_base64('tus.txt', ''));
Test::More::is($st, 201, 'created');
my $loc = $r->{headers}{location};
$loc =~ s{^https?://[^/]+}{};
($st) = ::api('PATCH', $loc, "tus bytes\n!", %tus,
    'Content-Type' => 'application/offset+octet-stream', 'Upload-Offset' => 0);
Test::More::is($st, 200, 'the last PATCH: 200');
my $id = ::psql("SELECT id FROM attachments.files WHERE file_name = 'tus.txt' AND state = 'ready'");
Test::More::is(::gdrive_tree()->{"/Work Orders/WO-41 41/$id-tus.txt"}{sha256Checksum},
               Digest::SHA::sha256_hex("tus bytes\n!"), 'on the drive');
::calls();



=== TEST 15: a new version goes into the same folder on the drive
--- init
::warm();
my ($st, $j) = ::api('GET', '/api/work_orders/41/files');
my ($f) = grep { $_->{file_name} eq 'photo.png' } @{ $j->{files} };
($st, $j) = ::upload("/api/work_orders/41/files/$f->{id}/versions", 'photo.png', 'image/png', $::PNG);
Test::More::is("$st $j->{files}[0]{doc_version}", '201 1', 'a new version: 201');
Test::More::ok(::gdrive_tree()->{"/Work Orders/WO-41 41/$j->{files}[0]{id}-photo.png"}, 'in the record\'s folder');
my (undef, undef, $r) = ::api('GET', $j->{files}[0]{download_url});
Test::More::is("$r->{status} $r->{content}", "200 $::PNG", 'downloaded');
::calls();



=== TEST 16: the active storage switched to s3
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage bucket;/r



=== TEST 17: (the switch to s3) new files go to the bucket; the drive's and the local ones are still served
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage bucket;/r
--- init
::add_file(id => ::uuid(9), storage => 'main', eid => '41', name => 'old.txt',
           ext => 'txt', size => 4, key => 'org_acme/work_orders/41/old.txt',
           sha256 => Digest::SHA::sha256_hex("old\n"));
mkdir "$::Store/org_acme"; mkdir "$::Store/org_acme/work_orders"; mkdir "$::Store/org_acme/work_orders/41";
open my $fh, '>', "$::Store/org_acme/work_orders/41/old.txt" or die $!;
print $fh "old\n"; close $fh;
my ($st, $j) = ::upload('/api/work_orders/41/files', 'bucket.txt', 'text/plain', "in the bucket\n");
Test::More::is($st, 201, 'an upload: 201');
Test::More::is(::psql("SELECT storage FROM attachments.files WHERE id = '$j->{files}[0]{id}'"), 'bucket', 'into the bucket');
Test::More::is(Attachments::HTTP->new->get($j->{files}[0]{download_url})->{content}, "in the bucket\n", 'its presigned URL works');
($st, $j) = ::api('GET', '/api/work_orders/41/files?limit=100');
my %by = map { $_->{file_name} => $_ } @{ $j->{files} };
my (undef, undef, $r) = ::api('GET', $by{'tus.txt'}{download_url});
Test::More::is("$r->{status} $r->{content}", "200 tus bytes\n!", 'the drive\'s file still served');
(undef, undef, $r) = ::api('GET', "/api/work_orders/41/files/$by{'old.txt'}{id}/content");
Test::More::is("$r->{status} $r->{content}", "200 old\n", 'and the local one');



=== TEST 18: back to the drive: the bucket's file still served
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/41/files?limit=100');
my %by = map { $_->{file_name} => $_ } @{ $j->{files} };
Test::More::is(Attachments::HTTP->new->get($by{'bucket.txt'}{download_url})->{content}, "in the bucket\n", 'the bucket\'s file');
($st, $j) = ::upload('/api/work_orders/41/files', 'back.txt', 'text/plain', "back\n");
Test::More::is(::psql("SELECT storage FROM attachments.files WHERE id = '$j->{files}[0]{id}'"), 'office', 'new files: the drive again');



=== TEST 19: health asks for the root folder
--- request
GET /health
--- error_code: 200
--- response_body
{"status":"ok","database":"ok","storages":{"main":"ok","office":"ok","team":"ok","bucket":"ok"}}



=== TEST 20: an OAuth client with a refresh token
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage team;/r



=== TEST 21: (the client's) uploads and downloads with tokens by refresh
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage team;/r
--- init
::gdrive('/_emu/revoke', 'POST');
my ($st, $j) = ::upload('/api/leads/9/files', 'lead.txt', 'text/plain', "lead\n");
Test::More::is($st, 201, 'a lead: 201');
Test::More::ok(::gdrive_tree()->{"/org_acme/leads/9/$j->{files}[0]{id}-lead.txt"}, 'no route: attachments_key\'s folders');
my (undef, undef, $r) = ::api('GET', $j->{files}[0]{download_url});
Test::More::is("$r->{status} $r->{content}", "200 lead\n", 'downloaded through /dlt/');
Test::More::is((::calls())->[0], 'POST token 200', 'a token by the refresh token (the emulator checks the client too)');



=== TEST 21a: attachments-fsck lists the drive (tokens of its own): each row's file, a file of the module's without a row; not the people's files
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage team;/r
--- init
my $drive = "endpoint=http://127.0.0.1:$ENV{TEST_NGINX_GDRIVE_PORT},temp=$::Tmp";
my @storages = ("main=local:$::Store", "office=google_drive:credentials=$::Tmp/sa.json,$drive",
                "team=google_drive:client_id=client-1.apps.googleusercontent.com,"
                . "client_secret_file=$::Tmp/client.secret,refresh_token_file=$::Tmp/refresh.token,"
                . "token_uri=http://127.0.0.1:$ENV{TEST_NGINX_GDRIVE_PORT}/token,$drive");
# the files a person deleted with their folder (TEST 8) are missing; what
# the emulator holds says which
my $missing = sub {
    my $tree = ::gdrive_tree();
    join '', sort map { my ($id, $st, $key) = split /\|/; $tree->{"/$key"} ? () : "missing $st $key: row $id\n" }
        split /\n/, ::psql("SELECT id, storage, storage_key FROM attachments.files WHERE storage IN ('office', 'team')"
                           . " AND state = 'ready' AND purged_at IS NULL");
};
my $sorted = sub { join '', sort split /^/, shift };
Test::More::is($sorted->(::fsck(\@storages)), $missing->(), 'every other row has its file on the drive, and back');
my $h = Attachments::HTTP->new;
my $token = JSON::PP->new->decode($h->post_form("http://127.0.0.1:$ENV{TEST_NGINX_GDRIVE_PORT}/token",
    { grant_type => 'refresh_token', client_id => 'client-1.apps.googleusercontent.com',
      client_secret => 'GOCSPX-emulated-secret', refresh_token => '1//0emulated-refresh-token' })->{content})->{access_token};
my $put = sub {
    my ($name, $parent) = @_;
    my $r = $h->post("http://127.0.0.1:$ENV{TEST_NGINX_GDRIVE_PORT}/upload/drive/v3/files?uploadType=resumable",
        { headers => { Authorization => "Bearer $token", 'Content-Type' => 'application/json',
                       'X-Upload-Content-Length' => 5 },
          content => JSON::PP->new->encode({ name => $name, parents => [$parent] }) });
    $h->request('PUT', $r->{headers}{location}, { headers => { Authorization => "Bearer $token" },
                                                  content => 'stray' })->{status};
};
my $folder = ::gdrive_tree()->{'/Work Orders'}{id};
my $stray = '00000000-0000-4000-8000-00000000cafe-stray.txt';
Test::More::is(join(' ', $put->($stray, $folder), $put->('notes.txt', $folder)), '200 200', 'two files put on the drive');
Test::More::is($sorted->(::fsck(\@storages)), $sorted->($missing->() . "orphan office Work Orders/$stray\norphan team Work Orders/$stray\n"),
               'a file of the module\'s without a row: an orphan (of both storages of the drive); the people\'s file is theirs');
::gdrive('/_emu/rm?id=' . ::gdrive_tree()->{"/Work Orders/$stray"}{id}, 'POST');
Test::More::is($sorted->(::fsck(\@storages)), $missing->(), 'removed: those findings only');
# a name no file of the module's has (a line break; Drive allows it) is
# never a line of the output: it could forge one
my $forged = "00000000-0000-4000-8000-00000000beef-x.txt\norphan office Work Orders/forged.txt";
Test::More::is($put->($forged, $folder), 200, 'a file named with a line break');
Test::More::is($sorted->(::fsck(\@storages)), $missing->(), 'is not listed, and forges no finding');
Test::More::like(::fsck(["office=google_drive:credentials=$::Tmp/sa.json,folder=nowhere,$drive"]),
                 qr/^attachments-fsck failed/, 'a folder= that is not there: an error, not missing files');



=== TEST 22: another account's key: no token, health 503
--- http_config eval
$::Http =~ s/sa\.json/other.json/r
--- request
GET /health
--- error_code: 503
--- response_body
{"status":"unavailable","database":"ok","storages":{"main":"ok","office":"unavailable","team":"ok","bucket":"ok"}}



=== TEST 23: (checks of TEST 22) the assertion was refused, nothing stored
--- http_config eval
$::Http =~ s/sa\.json/other.json/r
--- init
::gdrive('/_emu/revoke', 'POST');
my ($st) = ::upload('/api/work_orders/46/files', 'a.txt', 'text/plain', "a\n");
Test::More::is($st, 503, 'an upload: 503');
Test::More::is(::file_rows(46), 0, 'no row');
Test::More::is((::calls())[0][-1], 'POST token 400', 'the token endpoint said no');
--- error_log
got no token: 400



=== TEST 24: a google_drive storage needs credentials
--- http_config eval
$::Http =~ s/credentials=\S+//r
--- must_die
--- error_log
google_drive storage "office" needs either "credentials=" or "client_id=", "client_secret_file=" and "refresh_token_file="



=== TEST 25: credentials that are no service account's
--- http_config eval
$::Http =~ s/credentials=\S+/credentials=\$TEST_NGINX_GDTMP\/refresh.token/r
--- must_die
--- error_log
cannot read the credentials
