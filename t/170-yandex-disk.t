# Copyright (C) 2026 The ngx_http_attachments_module authors

# The yandex_disk storage kind, against the Yandex.Disk emulator
# (t/inc/yadisk.mjs, written from the REST API's reference: no Yandex
# service can be reached from here).  Files go into the folder of their
# record's route (attachments_route, $attachments_record_name from
# attachments.record_label()), made once and cached in
# attachments.folder_cache, made again when a person deleted it; every API
# call carries the OAuth token, the bytes go to the upload address the disk
# gives, without it; the size and SHA-256 the disk reports are held to the
# upload's.  Downloads are 302s to the disk's short-lived link, deletes are
# permanent (and followed when the disk answers 202), the collector deletes
# with the module's own client.  A disk that refuses (429, 503), lies or
# takes the wrong token leaves no row and no file.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::Drive;
use Attachments::HTTP;
use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Digest::SHA qw(sha256_hex);
use POSIX ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
plan tests => 180;

our $Token = 'y0_AgAAAAB-emulated-token';
start_yadisk($Token);

our $Tmp = tempdir('attachments-yadisk.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_YDTMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;
for (['token', "$Token\n"], ['bad.token', "y0_wrong\n"]) {
    open my $fh, '>', "$Tmp/$_->[0]" or die $!;
    print $fh $_->[1];
    close $fh;
}

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage office yandex_disk
        token_file=$TEST_NGINX_YDTMP/token root=disk:/CRM
        endpoint=http://127.0.0.1:$TEST_NGINX_YADISK_PORT
        proxy=/_yadisk/ upload=/_yadisk_upload/ temp=$TEST_NGINX_YDTMP;
    attachments_active_storage office;
    attachments_route work_orders "Work Orders/WO-$attachments_entity_id $attachments_record_name";
    attachments_route default "Other/$attachments_entity_type/$attachments_entity_id";
    attachments_gc_interval 200ms;
    attachments_gc_retention 0;
    attachments_gc_grace 0;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /_yadisk/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_YADISK_PORT/;
    }

    location /_yadisk_upload/ {
        internal;
        proxy_pass $attachments_storage_url;
    }

    location /dl/ {
        attachments_download office;
    }

    location = /health {
        attachments_health;
    }

    location /api2/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
        attachments_route default "x/$http_x_dir";
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

# the record names of work orders, as an application would give them
psql(q{CREATE OR REPLACE FUNCTION attachments.record_label(p_org text, p_entity_type text, p_entity_id text)
       RETURNS text LANGUAGE sql STABLE AS $$
         SELECT CASE WHEN p_org = 'acme' AND p_entity_type = 'work_orders' AND p_entity_id = '31'
                     THEN ' Acme / Boiler: repair 100%. '
                     WHEN p_entity_type = 'work_orders' AND p_entity_id = '32' THEN '..' END
       $$});

our $Folder31 = 'disk:/CRM/Work Orders/WO-31 Acme _ Boiler_ repair 100_';



# the emulator's calls since the last mark, as "METHOD path?query" lines
# with "+auth" when they carried the token
sub calls {
    my $log = yadisk_log();
    my $from = $::Mark // 0;
    $::Mark = scalar @$log;
    return [map { my $u = $_->{url};
                  $u =~ s/upload-target\/\w+\?.*/upload-target/;
                  "$_->{method} $u $_->{status}" . ($_->{auth} eq "OAuth $Token" ? ' +auth' : '') }
            @$log[$from .. $#$log]];
}

sub disk_files { my $t = yadisk_tree(); [sort grep { $t->{$_}{type} eq 'file' } keys %$t] }
sub e { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

run_tests();

__DATA__

=== TEST 1: nginx starts with a yandex_disk storage active



=== TEST 2: an upload goes into its route's folder, made on the disk, with the token; the bytes go without it
--- init
$::Mark = 0;
my ($st, $j) = ::upload('/api/work_orders/31/files', 'report.pdf', 'application/pdf', $::PDF);
Test::More::is($st, 201, '201');
my $f = $j->{files}[0];
Test::More::like($f->{download_url}, qr{^/dl/Work%20Orders/WO-31%20Acme%20_%20Boiler_%20repair%20100_/[0-9a-f-]{36}-report\.pdf\?X-Expires=}, 'a signed URL of nginx, the key under the route');
my $key = ::psql("SELECT storage || ' ' || storage_key FROM attachments.files WHERE id = '$f->{id}'");
Test::More::is($key, "office Work Orders/WO-31 Acme _ Boiler_ repair 100_/$f->{id}-report.pdf", 'the row: the storage, the key');
my $t = ::yadisk_tree();
my $path = "$::Folder31/$f->{id}-report.pdf";
Test::More::is($t->{$path}{sha256}, Digest::SHA::sha256_hex($::PDF), 'the disk holds the bytes');
Test::More::is($t->{$::Folder31}{type}, 'dir', 'in the folder the route names');
Test::More::is_deeply(::calls(), [
    'PUT /v1/disk/resources?path=' . ::e('disk:/CRM') . ' 201 +auth',
    'PUT /v1/disk/resources?path=' . ::e('disk:/CRM/Work Orders') . ' 201 +auth',
    'PUT /v1/disk/resources?path=' . ::e($::Folder31) . ' 201 +auth',
    'GET /v1/disk/resources/upload?path=' . ::e($path) . '&overwrite=false 200 +auth',
    'PUT /upload-target 201',
    'GET /v1/disk/resources?path=' . ::e($path) . '&fields=size%2Csha256 200 +auth',
], 'every folder of the path made, the address asked, the bytes put, then checked');
Test::More::is(::psql("SELECT path || ' ' || folder_id FROM attachments.folder_cache ORDER BY path"),
               "Work Orders disk:/CRM/Work Orders\nWork Orders/WO-31 Acme _ Boiler_ repair 100_ $::Folder31",
               'each folder of the path cached');
Test::More::is(::stored_files($::Tmp), 'bad.token' . "\n" . 'token', 'no temporary file left');



=== TEST 3: the next file of the record costs no folder request
--- init
my ($st, $j) = ::upload('/api/work_orders/31/files', 'notes.txt', 'text/plain', "site notes\n");
Test::More::is($st, 201, '201');
my @calls = @{ ::calls() };
Test::More::is(scalar(grep { /^PUT \/v1\/disk\/resources/ } @calls), 0, 'no folder made');
Test::More::is(scalar @calls, 3, 'three calls: address, bytes, check');
Test::More::is(::file_rows(31), 2, 'two files of the record');



=== TEST 4: a download is a 302 to the disk's link, which serves the bytes (Range too); /content too
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/31/files');
my ($pdf) = grep { $_->{file_name} eq 'report.pdf' } @{ $j->{files} };
my (undef, undef, $r) = ::api('GET', $pdf->{download_url});
Test::More::is($r->{status}, 302, 'the signed URL: 302');
Test::More::like($r->{headers}{location}, qr{^http://127\.0\.0\.1:\d+/download/\w+\?filename=}, 'to the disk\'s link');
my $h = Attachments::HTTP->new;
Test::More::is($h->get($r->{headers}{location})->{content}, $::PDF, 'which serves the bytes');
my $part = $h->get($r->{headers}{location}, { headers => { Range => 'bytes=0-3' } });
Test::More::is("$part->{status} $part->{content}", '206 %PDF', 'and ranges');
(undef, undef, $r) = ::api('GET', "/api/work_orders/31/files/$pdf->{id}/content");
Test::More::is($r->{status}, 302, '/content: 302');
Test::More::is($h->get($r->{headers}{location})->{content}, $::PDF, 'to a link that works');
my $bad = $pdf->{download_url};
$bad =~ s/X-Signature=.{4}/X-Signature=AAAA/;
(undef, undef, $r) = ::api('GET', $bad);
Test::More::is($r->{status}, 403, 'a tampered URL: 403, the disk not asked');
Test::More::is(scalar(grep { /resources\/download/ } @{ ::calls() }), 2, 'two links asked of the disk');



=== TEST 5: a folder a person deleted is made again, once, and the file goes in
--- init
my ($st, $j) = ::upload('/api/work_orders/38/files', 'first.txt', 'text/plain', "first\n");
Test::More::is($st, 201, 'the first file: 201');
::calls();
::yadisk("/_emu/rm?path=" . ::e('disk:/CRM/Work Orders/WO-38 38'), 'POST');
($st, $j) = ::upload('/api/work_orders/38/files', 'photo.png', 'image/png', $::PNG);
Test::More::is($st, 201, 'the next: 201');
my @calls = @{ ::calls() };
Test::More::is_deeply([map { (split / /)[0] . ' ' . ((split / /)[1] =~ /resources\/upload/ ? 'upload' : (split / /)[1] =~ /^\/v1\/disk\/resources\?/ ? 'folder' : 'other') . ' ' . (split / /)[2] } @calls],
    ['GET upload 409', 'PUT folder 409', 'PUT folder 409', 'PUT folder 201', 'GET upload 200', 'PUT other 201', 'GET folder 200'],
    'the address refused (no folder), the folder made, the address given');
Test::More::is(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-38 38/$j->{files}[0]{id}-photo.png"}{size}, length($::PNG), 'the file is in the new folder');
Test::More::is(::psql("SELECT count(*) FROM attachments.folder_cache WHERE path = 'Work Orders/WO-38 38'"), 1, 'cached once');



=== TEST 6: the default route; a record name that is only dots is the record's id
--- init
my ($st, $j) = ::upload('/api/leads/7/files', 'lead.txt', 'text/plain', "lead\n");
Test::More::is($st, 201, 'a lead: 201');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Other/leads/7/$j->{files}[0]{id}-lead.txt"}, 'under the default route');
($st, $j) = ::upload('/api/work_orders/32/files', 'x.txt', 'text/plain', "x\n");
Test::More::is($st, 201, 'work order 32: 201');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-32 32/$j->{files}[0]{id}-x.txt"}, 'named by its id');
::calls();



=== TEST 7: two uploads at once into a new record's folder: both land in one folder, cached once
--- init
my @pids;
for my $n (1, 2) {
    my $pid = fork // die;
    if ($pid == 0) {
        my ($st) = ::upload('/api/work_orders/33/files', "part$n.txt", 'text/plain', "part $n\n");
        POSIX::_exit($st == 201 ? 0 : 1);
    }
    push @pids, $pid;
}
my $ok = 0;
for (@pids) { waitpid($_, 0); $ok++ if $? == 0 }
Test::More::is($ok, 2, 'both 201') or Test::More::diag(join "\n", @{ ::calls() });
my $t = ::yadisk_tree();
my @dirs = grep { m{^disk:/CRM/Work Orders/WO-33} && $t->{$_}{type} eq 'dir' } keys %$t;
Test::More::is(scalar @dirs, 1, 'one folder');
Test::More::is(scalar(grep { m{^disk:/CRM/Work Orders/WO-33 33/} } keys %$t), 2, 'both files in it');
Test::More::is(::psql("SELECT count(*) FROM attachments.folder_cache WHERE path LIKE 'Work Orders/WO-33%'"), 1, 'cached once');
Test::More::is(scalar(grep { m{^PUT /v1/disk/resources\?path=[^&]*WO-33} } @{ ::calls() }), 1,
               'made once: the second upload waited for the first one\'s claim');



=== TEST 8: the disk answering 429 or 503: 503 with Retry-After, no row, no file, no temporary file
--- init
for my $case (['429', '/resources/upload'], ['503', '/v1/disk/resources']) {
    ::yadisk("/_emu/fail?status=$case->[0]&count=1&match=$case->[1]&retry=7", 'POST');
    my ($st, $j, $r) = ::upload('/api/work_orders/34/files', 'a.txt', 'text/plain', "a\n");
    Test::More::is($st, 503, "$case->[0] on $case->[1]: 503");
    Test::More::ok($r->{headers}{'retry-after'}, 'with Retry-After');
    Test::More::is($j->{error}{code}, 'unavailable', 'in JSON');
    Test::More::is(::file_rows(34), 0, 'no row');
}
Test::More::is_deeply([grep { m{WO-34 34/} } @{ ::disk_files() }], [], 'no file on the disk');
Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file');
::calls();



=== TEST 9: a disk that keeps other bytes than were sent: 503, and what it kept is deleted
--- init
::yadisk('/_emu/lie?on=1', 'POST');
my ($st, $j) = ::upload('/api/work_orders/35/files', 'a.txt', 'text/plain', "true bytes\n");
::yadisk('/_emu/lie?on=0', 'POST');
Test::More::is($st, 503, '503');
Test::More::is(::file_rows(35), 0, 'no row');
Test::More::is_deeply([grep { m{WO-35 35/} } @{ ::disk_files() }], [], 'the file deleted from the disk');
my @calls = @{ ::calls() };
Test::More::ok((grep { /^DELETE \/v1\/disk\/resources\?path=.*&permanently=true 204 \+auth$/ } @calls), 'deleted permanently');



=== TEST 10: publishing is refused (a drive has no public area), and so are public uploads
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/31/files');
my $id = $j->{files}[0]{id};
($st, $j) = ::api('POST', "/api/work_orders/31/files/$id/publish");
Test::More::is("$st $j->{error}{code}", '409 no_public_area', 'publish: 409');
($st, $j) = ::api('POST', '/api/work_orders/36/files',
    ::multipart(['file', 'a.txt', 'text/plain', "a\n"], ['visibility', undef, undef, 'public']),
    'Content-Type' => 'multipart/form-data; boundary=XbOuNdArY7');
Test::More::is($st, 422, 'a public upload: 422');
Test::More::is(::file_rows(36), 0, 'no row');



=== TEST 11: a new version goes into the same folder
--- init
my ($st, $j) = ::api('GET', '/api/work_orders/31/files');
my ($notes) = grep { $_->{file_name} eq 'notes.txt' } @{ $j->{files} };
($st, $j) = ::upload("/api/work_orders/31/files/$notes->{id}/versions", 'notes.txt', 'text/plain', "site notes, v2\n");
Test::More::is($st, 201, '201');
Test::More::is($j->{files}[0]{doc_version}, 1, 'a new version');
Test::More::is(::yadisk_tree()->{"$::Folder31/$j->{files}[0]{id}-notes.txt"}{size}, 15, 'on the disk, in the folder') or Test::More::diag(JSON::PP->new->encode([$j, ::yadisk_tree()]));
::calls();



=== TEST 12: deleted files go from the disk: the collector deletes permanently, and follows a 202
--- init
my ($st, $j) = ::api('GET', '/api/leads/7/files');
my $lead = $j->{files}[0]{id};
($st) = ::api('DELETE', "/api/leads/7/files/$lead");
Test::More::is($st, 204, 'deleted: 204');
Test::More::ok(::wait_until(sub { ::psql("SELECT purged_at IS NOT NULL FROM attachments.files WHERE id = '$lead'") eq 't' }), 'purged');
Test::More::is_deeply([grep { m{/leads/7/} } @{ ::disk_files() }], [], 'not on the disk');
::yadisk('/_emu/async?on=1', 'POST');
($st, $j) = ::api('GET', '/api/work_orders/32/files');
my $x = $j->{files}[0]{id};
($st) = ::api('DELETE', "/api/work_orders/32/files/$x");
Test::More::ok(::wait_until(sub { ::psql("SELECT purged_at IS NOT NULL FROM attachments.files WHERE id = '$x'") eq 't' }), 'a delete the disk does later: purged');
::yadisk('/_emu/async?on=0', 'POST');
Test::More::is_deeply([grep { m{WO-32 32/} } @{ ::disk_files() }], [], 'not on the disk');
my @calls = @{ ::calls() };
Test::More::ok((grep { /^DELETE .*%2Fleads%2F7%2F.*&permanently=true 204 \+auth$/ } @calls), 'the DELETE, with the token');
Test::More::ok((grep { /^DELETE .*WO-32.*&permanently=true 202 \+auth$/ } @calls), '202 for the other');
Test::More::ok((grep { /^GET \/v1\/disk\/resources\?path=.*WO-32.*&fields=path (200|404) \+auth$/ } @calls), 'followed by a look') or Test::More::diag(join "\n", @calls);



=== TEST 13: a disk that takes the bytes "later" (202): the file looked for until it is there
--- init
::yadisk('/_emu/accept?ms=700', 'POST');
my ($st, $j) = ::upload('/api/work_orders/39/files', 'big.txt', 'text/plain', "big file\n");
::yadisk('/_emu/accept?ms=0', 'POST');
Test::More::is($st, 201, '201');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-39 39/$j->{files}[0]{id}-big.txt"}, 'on the disk');
my @calls = grep { !/^PUT \/v1\/disk\/resources\?/ } @{ ::calls() };
Test::More::is($calls[1], 'PUT /upload-target 202', 'the bytes: 202');
Test::More::ok((grep { / 404 \+auth$/ } @calls) && $calls[-1] =~ /^GET .*fields=size%2Csha256 200 \+auth$/,
               'looked for, not there yet, then there');



=== TEST 14: the collector runs (every 200 ms, grace 0) while an upload waits on the disk: the upload's file stays
--- init
::yadisk('/_emu/accept?ms=2500', 'POST');
my ($st, $j) = ::upload('/api/work_orders/39/files', 'slow.txt', 'text/plain', "slow file\n");
::yadisk('/_emu/accept?ms=0', 'POST');
Test::More::is($st, 201, '201 after the wait');
sleep 1;
my $id = $j->{files}[0]{id};
Test::More::is(::psql("SELECT state || ' ' || (purged_at IS NULL)::text FROM attachments.files WHERE id = '$id'"), 'ready true',
               'its row ready, not reaped');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-39 39/$id-slow.txt"}, 'its file on the disk');
Test::More::ok(!(grep { /^DELETE / } @{ ::calls() }), 'nothing deleted on the disk');



=== TEST 15: the folder deleted as the bytes come: made again, the file in it
--- init
::yadisk('/_emu/rmonput?path=' . ::e('disk:/CRM/Work Orders/WO-39 39'), 'POST');
my ($st, $j) = ::upload('/api/work_orders/39/files', 'late.txt', 'text/plain', "late\n");
Test::More::is($st, 201, '201, not 409');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-39 39/$j->{files}[0]{id}-late.txt"}, 'in the folder made again');
::calls();



=== TEST 16: addresses the disk gives that are none: 503, no header made of them, nothing stored
--- init
::yadisk('/_emu/href?kind=upload&value=' . ::e("http://127.0.0.1:1/x\r\nX-Evil: 1"), 'POST');
my ($st, $j) = ::upload('/api/work_orders/40/files', 'a.txt', 'text/plain', "a\n");
::yadisk('/_emu/href?kind=upload', 'POST');
Test::More::is($st, 503, 'an upload address with CRLF: 503');
Test::More::is(::file_rows(40), 0, 'no row');
($st, $j) = ::api('GET', '/api/work_orders/39/files');
::yadisk('/_emu/href?kind=download&value=' . ::e("https://evil.example/x\r\nSet-Cookie: a=b"), 'POST');
my (undef, undef, $r) = ::api('GET', $j->{files}[0]{download_url});
::yadisk('/_emu/href?kind=download', 'POST');
Test::More::is($r->{status}, 503, 'a download address with CRLF: 503');
Test::More::ok(!$r->{headers}{'set-cookie'} && !$r->{headers}{location}, 'no header of it');
::calls();



=== TEST 17: a long name is cut for the disk (255 characters a name), its extension kept
--- init
my ($st, $j) = ::upload('/api/work_orders/39/files', ('a' x 240) . '.txt', 'text/plain', "long\n");
Test::More::is($st, 201, '201');
my ($name) = grep { m{WO-39 39/$j->{files}[0]{id}-} } keys %{ ::yadisk_tree() };
$name =~ s{.*/}{};
Test::More::is(length $name, 237, '237 characters: the id, "-", 200 of the name');
Test::More::like($name, qr/a\.txt$/, 'the extension kept');
Test::More::is($j->{files}[0]{file_name}, ('a' x 240) . '.txt', 'the file keeps its name');
($st, $j) = ::upload('/api/work_orders/39/files', ('x' x 230) . '.abcdefghijklmnop', 'text/plain', "long\n");
($name) = grep { m{WO-39 39/$j->{files}[0]{id}-} } keys %{ ::yadisk_tree() };
Test::More::like($name, qr/x\.abcdefghijklmnop$/, 'a long extension kept too');
::calls();



=== TEST 18: a route that makes an unsafe key: 500 in JSON, logged, nothing stored
--- init
my ($st, $j) = ::upload('/api2/work_orders/49/files', 'a.txt', 'text/plain', "a\n", 'X-Dir' => '..');
Test::More::is("$st $j->{error}{code}", '500 internal_error', '500 in JSON');
Test::More::is(::file_rows(49), 0, 'no row');
::calls();
--- error_log
attachments_route made an unsafe key "x/../



=== TEST 19: record names are an organization's: another one's record of the same id is named by its id
--- init
my ($st, $j) = ::api('POST', '/api/work_orders/31/files', ::multipart(['file', 'g.txt', 'text/plain', "g\n"]),
    'Content-Type' => 'multipart/form-data; boundary=XbOuNdArY7', 'X-User' => 'gowner', 'X-Org' => 'globex');
Test::More::is($st, 201, 'globex: 201');
Test::More::ok(::yadisk_tree()->{"disk:/CRM/Work Orders/WO-31 31/$j->{files}[0]{id}-g.txt"}, 'not in acme\'s named folder');
::calls();



=== TEST 20: a parent folder deleted, then uploads at once into its records: each folder made again, every upload 201
--- init
my ($st) = ::upload('/api/leads/61/files', 'w.txt', 'text/plain', "w\n");
Test::More::is($st, 201, 'a first upload: 201');
::yadisk('/_emu/rm?path=' . ::e('disk:/CRM/Other'), 'POST');
my @pids;
for my $n (1 .. 6) {
    my $pid = fork // die;
    if ($pid == 0) {
        my ($st) = ::upload('/api/leads/' . (60 + $n % 2) . '/files', "c$n.txt", 'text/plain', "part $n\n");
        POSIX::_exit($st == 201 ? 0 : 1);
    }
    push @pids, $pid;
}
my $ok = 0;
for (@pids) { waitpid($_, 0); $ok++ if $? == 0 }
Test::More::is($ok, 6, 'six 201s');
Test::More::is(scalar(grep { m{^disk:/CRM/Other/leads/6[01]/[0-9a-f-]{36}-c\d\.txt$} } keys %{ ::yadisk_tree() }), 6,
               'the six files on the disk');
Test::More::is(::psql("SELECT count(*) FROM attachments.folder_cache WHERE folder_id = ''"), 0, 'no claim left');
::calls();



=== TEST 21: the disk's links expire; the signed URL of nginx asks for a fresh one each time
--- init
::yadisk('/_emu/ttl?seconds=1', 'POST');
my ($st, $j) = ::api('GET', '/api/work_orders/39/files');
my (undef, undef, $r) = ::api('GET', $j->{files}[0]{download_url});
my $first = $r->{headers}{location};
sleep 2;
my $h = Attachments::HTTP->new;
Test::More::is($h->get($first)->{status}, 410, 'the disk\'s link, expired: 410 from the disk');
(undef, undef, $r) = ::api('GET', $j->{files}[0]{download_url});
Test::More::isnt($r->{headers}{location}, $first, 'the same signed URL: another link');
Test::More::is($h->get($r->{headers}{location})->{status}, 200, 'which works');
::yadisk('/_emu/ttl?seconds=60', 'POST');
::calls();



=== TEST 22: health asks the disk for the root folder
--- request
GET /health
--- error_code: 200
--- response_body
{"status":"ok","database":"ok","storages":{"main":"ok","office":"ok"}}



=== TEST 23: resumable uploads end on the disk too; direct uploads are refused
--- init
my %tus = ('Tus-Resumable' => '1.0.0');
my ($st, $j, $r) = ::api('POST', '/api/work_orders/31/uploads', undef, %tus,
    'Upload-Length' => 11,
    'Upload-Metadata' => 'filename ' . MIME::Base64::encode_base64('tus.txt', ''));
Test::More::is($st, 201, 'tus: created');
my $loc = $r->{headers}{location};
$loc =~ s{^https?://[^/]+}{};
($st, $j, $r) = ::api('PATCH', $loc, "tus bytes\n!", %tus,
    'Content-Type' => 'application/offset+octet-stream', 'Upload-Offset' => 0);
Test::More::is($st, 200, 'tus: the last PATCH 200, with the file');
my $row = ::psql("SELECT id FROM attachments.files WHERE file_name = 'tus.txt' AND state = 'ready'");
Test::More::is(::yadisk_tree()->{"$::Folder31/$row-tus.txt"}{sha256}, Digest::SHA::sha256_hex("tus bytes\n!"), 'the file on the disk');
($st, $j) = ::api('POST', '/api/work_orders/31/uploads',
    JSON::PP->new->encode({ direct => JSON::PP::true, file_name => 'd.txt', size => 3, sha256 => Digest::SHA::sha256_hex('abc') }),
    'Content-Type' => 'application/json');
Test::More::is("$st $j->{error}{code}", '409 direct_unavailable', 'direct: 409');
::calls();



=== TEST 24: with the wrong token: health 503, an upload 503 and nothing stored
--- http_config eval
$::Http =~ s/token_file=\S+\/token/token_file=\$TEST_NGINX_YDTMP\/bad.token/r
--- request
GET /health
--- error_code: 503
--- response_body
{"status":"unavailable","database":"ok","storages":{"main":"ok","office":"unavailable"}}



=== TEST 25: (checks of TEST 24) the disk said 401 to every call
--- http_config eval
$::Http =~ s/token_file=\S+\/token/token_file=\$TEST_NGINX_YDTMP\/bad.token/r
--- init
my ($st) = ::upload('/api/work_orders/37/files', 'a.txt', 'text/plain', "a\n");
Test::More::is($st, 503, 'an upload: 503');
Test::More::is(::file_rows(37), 0, 'no row');
my @calls = @{ ::calls() };
Test::More::ok(@calls && !(grep { !/ 401$/ } @calls), 'every call 401');



=== TEST 26: the active storage switched to local
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage main;/r



=== TEST 27: after the switch, new files are local, and the disk's are still served
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage main;/r
--- init
my ($st, $j) = ::upload('/api/work_orders/31/files', 'local.txt', 'text/plain', "local\n");
Test::More::is($st, 201, 'a new file: 201');
Test::More::is(::psql("SELECT storage FROM attachments.files WHERE id = '$j->{files}[0]{id}'"), 'main', 'stored locally');
($st, $j) = ::api('GET', '/api/work_orders/31/files');
my ($pdf) = grep { $_->{file_name} eq 'report.pdf' } @{ $j->{files} };
Test::More::diag(JSON::PP->new->encode($j)) unless $pdf->{download_url};
my (undef, undef, $r) = ::api('GET', $pdf->{download_url});
Test::More::is(Attachments::HTTP->new->get($r->{headers}{location})->{content}, $::PDF, 'the disk\'s file still served');



=== TEST 27a: attachments-fsck lists the disk: each row's file, a file of the module's without a row, other bytes; not the people's files
--- http_config eval
$::Http =~ s/attachments_active_storage office;/attachments_active_storage main;/r
--- init
my @storages = ("main=local:$::Store",
                "office=yandex_disk:token_file=$::Tmp/token,root=disk:/CRM,"
                . "endpoint=http://127.0.0.1:$ENV{TEST_NGINX_YADISK_PORT},temp=$::Tmp");
# the files a person deleted with their folders (TESTs 5, 15, 20) are
# missing; what the emulator holds says which
my $missing = sub {
    my $tree = ::yadisk_tree();
    join '', sort map { my ($id, $key) = split /\|/; $tree->{"disk:/CRM/$key"} ? () : "missing office $key: row $id\n" }
        split /\n/, ::psql("SELECT id, storage_key FROM attachments.files WHERE storage = 'office'"
                           . " AND state = 'ready' AND purged_at IS NULL");
};
my $sorted = sub { join '', sort split /^/, shift };
Test::More::ok($missing->() ne '', 'some files were deleted on the disk by a person');
Test::More::is($sorted->(::fsck(\@storages)), $missing->(), 'every other row has its file on the disk, and back');
my $put = sub {
    my ($path, $bytes) = @_;
    my $h = Attachments::HTTP->new;
    my $r = $h->get("http://127.0.0.1:$ENV{TEST_NGINX_YADISK_PORT}/v1/disk/resources/upload?path="
                    . ::e($path) . '&overwrite=true', { headers => { Authorization => "OAuth $::Token" } });
    $h->request('PUT', JSON::PP->new->decode($r->{content})->{href}, { content => $bytes })->{status};
};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE storage = 'office'"
                 . " AND file_name = 'report.pdf' AND purged_at IS NULL LIMIT 1");
my $stray = 'Work Orders/WO-31 Acme _ Boiler_ repair 100_/00000000-0000-4000-8000-00000000cafe-stray.txt';
Test::More::is(join(' ', $put->("disk:/CRM/$stray", 'stray'), $put->('disk:/CRM/notes.txt', 'a person\'s'),
                    $put->("disk:/CRM/$key", 'X' . substr($::PDF, 1))), '201 201 201', 'three files put on the disk');
my $out = ::fsck(\@storages);
Test::More::like($out, qr{^orphan office \Q$stray\E$}m, 'a file of the module\'s without a row: an orphan');
Test::More::like($out, qr{^size office \Q$key\E: SHA-256 [0-9a-f]{64}, row}m, 'other bytes of the same size: found by their SHA-256');
Test::More::is(scalar(grep { !/^missing / } split /^/, $out), 2, 'and nothing else: the people\'s file is theirs');
$put->("disk:/CRM/$key", $::PDF);
::yadisk('/_emu/rm?path=' . ::e("disk:/CRM/$stray"), 'POST');
Test::More::is($sorted->(::fsck(\@storages)), $missing->(), 'put back: those findings only');
(my $typo = $storages[1]) =~ s/root=disk:\/CRM/root=disk:\/CMR/;
Test::More::like(::fsck([$typo]), qr/^attachments-fsck failed/,
                 'a root that is not there while rows are in it: an error, not missing files');



=== TEST 28: the disk unreachable
--- config eval
$::Config =~ s/proxy_pass http:\/\/127\.0\.0\.1:\$TEST_NGINX_YADISK_PORT\//proxy_pass http:\/\/127.0.0.1:1\//r



=== TEST 29: (checks of TEST 28) an upload: 503 in JSON, nothing stored
--- config eval
$::Config =~ s/proxy_pass http:\/\/127\.0\.0\.1:\$TEST_NGINX_YADISK_PORT\//proxy_pass http:\/\/127.0.0.1:1\//r
--- init
my ($st, $j, $r) = ::upload('/api/work_orders/48/files', 'a.txt', 'text/plain', "a\n");
Test::More::is("$st $j->{error}{code}", '503 unavailable', '503 in JSON');
Test::More::ok($r->{headers}{'retry-after'}, 'with Retry-After');
Test::More::is(::file_rows(48), 0, 'no row');
Test::More::is(::stored_files("$::Tmp/.tmp"), '', 'no temporary file');
Test::More::is(::psql("SELECT count(*) FROM attachments.folder_cache WHERE folder_id = ''"), 0, 'no claim left');



=== TEST 30: a yandex_disk storage needs its token, and as the active one, both locations
--- http_config eval
$::Http =~ s/token_file=\S+/proxy=\/_yadisk\//r
--- must_die
--- error_log
yandex_disk storage "office" needs "token_file="



=== TEST 31: active without upload=
--- http_config eval
$::Http =~ s/ upload=\S+//r
--- must_die
--- error_log
the yandex_disk storage "office" receives uploads and needs "proxy="
