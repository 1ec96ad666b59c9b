# Copyright (C) 2026 The ngx_http_attachments_module authors

# The garbage collector: blobs of deleted files after the retention,
# uploads left pending after the grace, audit rows, a blob that cannot be
# deleted keeps its row, two collectors share one database without double
# work.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Attachments::HTTP;
use POSIX ();
use Digest::SHA ();
use Attachments::Upload;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 58;

our $Store = tempdir('attachments-gc.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_gc_interval 200ms;
    attachments_gc_retention 0;
    attachments_gc_grace 0;
_EOC_

our $Config = $ApiLocation;

block_defaults(
    http_config => $Http,
    config => $Config,
    more_headers => $Owner,
);

sub blob {
    my ($key, $content) = @_;
    my ($dir) = "$::Store/$key" =~ m{^(.*)/};
    make_path($dir);
    open my $fh, '>', "$::Store/$key" or die "$key: $!";
    print $fh $content // 'blob';
    close $fh;
}

# one request as owner1 of acme: (status, body)
sub call {
    my ($method, $path, $body) = @_;
    my %h = ('X-User' => 'owner1', 'X-Org' => 'acme');
    $h{'Content-Type'} = "multipart/form-data; boundary=XbOuNdArY7" if defined $body;
    my $r = Attachments::HTTP->new->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    return ($r->{status}, $r->{content});
}

sub slurp {
    open my $fh, '<', shift or return undef;
    local $/;
    return <$fh>;
}

our $SameKey = 'attachments_key k/$attachments_entity_id/$attachments_filename;';

reset_db();
seed_people();

our ($Kept, $Gone, $Pending, $Moved) = map { uuid($_) } 1 .. 4;

# a live file, one to delete, an upload that crashed before and after its
# rename
blob('org_acme/work_orders/1/kept.txt');
add_file(id => $Kept, eid => '1', key => 'org_acme/work_orders/1/kept.txt', size => 4,
         sha256 => Digest::SHA::sha256_hex('blob'));
blob('org_acme/work_orders/1/gone.txt');
add_file(id => $Gone, eid => '1', key => 'org_acme/work_orders/1/gone.txt');
blob(".tmp/$Pending");
add_file(id => $Pending, eid => '1', state => 'pending',
         key => "org_acme/work_orders/1/$Pending-p.txt");
blob("org_acme/work_orders/1/$Moved-m.txt");
add_file(id => $Moved, eid => '1', state => 'pending',
         key => "org_acme/work_orders/1/$Moved-m.txt");

run_tests();

__DATA__

=== TEST 1: delete: the row goes at once, the blob stays until the collector runs
--- http_config eval
$::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 0;/r
--- request eval
["DELETE /api/work_orders/1/files/00000000-0000-4000-8000-000000000002",
 "GET /api/work_orders/1/files/00000000-0000-4000-8000-000000000002"]
--- error_code eval
[204, 404]



=== TEST 1a: with the collector off the deleted file's blob is still there
--- init
Test::More::ok(-e "$::Store/org_acme/work_orders/1/gone.txt", 'the blob stays');
--- http_config eval
$::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 0;/r
--- request
GET /api/work_orders/1/files
--- response_body_like: "next_cursor":null
--- wait: 0.5



=== TEST 2: the collector purged the deleted file's blob, kept the live one, reaped both pending uploads
--- init
Test::More::ok(::wait_until(sub { ! -e "$::Store/org_acme/work_orders/1/gone.txt" }),
               'the deleted blob is gone');
Test::More::ok(-e "$::Store/org_acme/work_orders/1/kept.txt", 'the live blob stays');
Test::More::ok(! -e "$::Store/.tmp/$::Pending", 'the temporary blob of a pending upload is gone');
Test::More::ok(! -e "$::Store/org_acme/work_orders/1/$::Moved-m.txt",
               'so is the renamed blob of one');
Test::More::is(::psql("SELECT purged_at IS NOT NULL FROM attachments.files WHERE id = '$::Gone'"),
               't', 'the deleted row is kept, marked purged');
Test::More::is(::count_rows('files', "id IN ('$::Pending', '$::Moved')"), 0,
               'the pending rows are removed');
Test::More::is(::psql("SELECT string_agg(file_id || ':' || (detail->>'was'), ',' ORDER BY file_id)
                         FROM attachments.audit_log WHERE action = 'purge'"),
               "$::Gone:deleted,$::Pending:pending,$::Moved:pending", 'one purge row each');
--- request
GET /api/work_orders/1/files
--- response_body_like: ^\{"files":\[\{"id":"00000000-0000-4000-8000-000000000001",(?!.*\},\{).*\}\],"next_cursor":null\}$



=== TEST 3: a blob that cannot be deleted keeps its row for the next run
--- init
::blob('org_acme/work_orders/2/stuck/inner.txt');
::add_file(id => ::uuid(5), eid => '2', key => 'org_acme/work_orders/2/stuck',
           deleted => 1);
--- request
GET /api/work_orders/2/files
--- response_body
{"files":[],"next_cursor":null}
--- wait: 1
--- error_log
attachments: unlink() "
stays; the row waits for the next run



=== TEST 4: ...and it is still there, unpurged
--- init
Test::More::is(::psql("SELECT purged_at IS NULL FROM attachments.files WHERE id = '" . ::uuid(5) . "'"),
               't', 'not purged');
::psql("DELETE FROM attachments.files WHERE id = '" . ::uuid(5) . "'");
--- request
GET /api/work_orders/2/files
--- response_body
{"files":[],"next_cursor":null}



=== TEST 5: two collectors on one database: each row purged once
--- init
for my $i (1 .. 250) {
    my $key = "org_acme/work_orders/3/f$i.txt";
    ::blob($key);
}
::psql("INSERT INTO attachments.files (lineage_id, organization_id, entity_type,
            entity_id, storage, storage_key, file_name, content_type, size,
            uploaded_by, state, deleted_at)
        SELECT gen_random_uuid(), 'acme', 'work_orders', '3', 'main',
               'org_acme/work_orders/3/f' || g || '.txt', 'f.txt', 'text/plain',
               4, 'owner1', 'ready', now()
          FROM generate_series(1, 250) g");
# a second nginx on the same database and storage
my $dir = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/logs";
my $port = $ENV{TEST_NGINX_SERVER_PORT} + 1;
open my $c, '>', "$dir/nginx.conf";
print $c "load_module $ENV{TEST_NGINX_LOAD_MODULES};\n"
    . "daemon off; master_process off; error_log $dir/logs/error.log info; pid $dir/logs/nginx.pid;\n"
    . "events {} http { access_log off;\n"
    . "attachments_database \"$ENV{TEST_NGINX_PG_CONNINFO}\";\n"
    . "attachments_storage main local root=$::Store internal=/_s/;\n"
    . "attachments_gc_interval 100ms; attachments_gc_retention 0; attachments_gc_grace 0;\n"
    . "server { listen 127.0.0.1:$port; } }\n";
close $c;
my $pid = fork // die;
if ($pid == 0) {
    exec $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx', '-p', $dir, '-c', "$dir/nginx.conf";
    exit 1;
}
my $done = ::wait_until(sub {
    ::count_rows('files', "entity_id = '3' AND purged_at IS NULL") == 0 });
kill 'QUIT', $pid;
waitpid $pid, 0;
Test::More::ok($done, 'all 250 purged');
Test::More::is(::count_rows('audit_log', "action = 'purge' AND entity_id = '3'"), 250,
               'one purge row each: no row done twice');
Test::More::is(scalar(() = glob("$::Store/org_acme/work_orders/3/*")), 0, "no blob left");
open my $log, '<', "$dir/logs/error.log";
my $text = do { local $/; <$log> };
Test::More::unlike($text, qr/\[(error|alert|crit)\]/, 'the second collector had no error');
--- request
GET /api/work_orders/3/files
--- response_body
{"files":[],"next_cursor":null}
--- no_error_log
[error]



=== TEST 6: a key without $attachments_uuid is not reused while a deleted file keeps it
--- http_config eval
($::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 0;/r) . $::SameKey
--- init
my ($st, $b) = ::call('POST', '/api/work_orders/20/files',
                      ::multipart(['file', 'same.txt', 'text/plain', "first\n"]));
Test::More::is($st, 201, 'same.txt uploaded');
my ($id) = $b =~ /"id":"([^"]+)"/;
($st) = ::call('DELETE', "/api/work_orders/20/files/$id");
Test::More::is($st, 204, 'and deleted');
($st, $b) = ::call('POST', '/api/work_orders/20/files',
                   ::multipart(['file', 'same.txt', 'text/plain', "second\n"]));
Test::More::is($st, 409, 'a new same.txt is refused while the deleted one keeps its key');
Test::More::is(::slurp("$::Store/k/20/same.txt"), "first\n",
               'the deleted file\'s blob is untouched, so it can be restored');
--- request
GET /api/work_orders/20/files
--- response_body
{"files":[],"next_cursor":null}



=== TEST 7: ...once the collector purged it, the key is free, and the new file stays
--- http_config eval
$::Http . $::SameKey
--- init
Test::More::ok(::wait_until(sub {
    ::psql("SELECT count(*) FROM attachments.files WHERE entity_id = '20' AND purged_at IS NULL") eq '0' }),
    'the deleted same.txt is purged');
my ($st, $b) = ::call('POST', '/api/work_orders/20/files',
                      ::multipart(['file', 'same.txt', 'text/plain', "third\n"]));
Test::More::is($st, 201, 'a new same.txt takes the key');
select undef, undef, undef, 0.6;
Test::More::is(::slurp("$::Store/k/20/same.txt"), "third\n",
               'the collector leaves the live file\'s blob alone');
--- request
GET /api/work_orders/20/files
--- response_body_like: "file_name":"same.txt"



=== TEST 8: an upload kept waiting past the grace is not reaped under it, and is answered as it is
--- http_config eval
$::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 100ms;/r
--- init
# another transaction holds acme's quota lock: finish_upload() waits for it
my $pid = fork // die;
if ($pid == 0) {
    ::psql("SELECT pg_advisory_xact_lock(hashtext('attachments.quota'), hashtext('acme')),"
           . " pg_sleep(1.5)");
    POSIX::_exit(0);
}
select undef, undef, undef, 0.3;
my ($st, $b) = ::call('POST', '/api/work_orders/21/files',
                      ::multipart(['file', 'slow.txt', 'text/plain', "slow\n"]));
waitpid $pid, 0;
my ($id) = $b =~ /"id":"([^"]+)"/;
$id //= '';
Test::More::is($st, 201, 'the upload waited for the lock and was stored');
Test::More::is(::psql("SELECT state || ' ' || (purged_at IS NULL) FROM attachments.files"
                      . " WHERE id = '$id'"), 'ready true', 'its row is ready');
Test::More::ok(-e "$::Store/org_acme/work_orders/21/$id-slow.txt", 'its blob is there');
--- request
GET /api/work_orders/21/files
--- response_body_like: "file_name":"slow.txt"



=== TEST 8b: an upload whose pending row a collector claimed meanwhile is refused, and leaves nothing
A collector claims a row only once its lease has lapsed (a worker that
could not renew it); the blob it is deleting must not become a ready file.
--- init
my $pid = fork // die;
if ($pid == 0) {
    ::psql("SELECT pg_advisory_xact_lock(hashtext('attachments.quota'), hashtext('acme')),"
           . " pg_sleep(1.5)");
    POSIX::_exit(0);
}
select undef, undef, undef, 0.3;
my $up = ::post_async('/api/work_orders/23/files',
                      ::multipart(['file', 'claimed.txt', 'text/plain', "claimed\n"]),
                      'owner1', 'acme');
Test::More::ok(::wait_until(sub {
    ::psql("UPDATE attachments.files SET gc_claimed_at = now()"
           . " WHERE entity_id = '23' AND state = 'pending' RETURNING 1") eq '1' }),
    'a collector claims the pending row while finish_upload() waits');
Test::More::is(::async_status($up), 503, 'the upload is refused as unavailable');
waitpid $pid, 0;
Test::More::is(::psql("SELECT count(*) FROM attachments.files WHERE entity_id = '23'"
                      . " AND state = 'ready'"), '0', 'no ready row');
Test::More::ok(::wait_until(sub { !-e "$::Store/org_acme/work_orders/23"
                                  || ::stored_files("$::Store/org_acme/work_orders/23") eq '' }),
               'no blob');
--- request
GET /api/work_orders/23/files
--- response_body
{"files":[],"next_cursor":null}



=== TEST 9: the first file of an upload whose second file comes slowly keeps its temporary
--- http_config eval
$::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 100ms;/r
--- init
my $body = ::multipart(['file', 'one.txt', 'text/plain', "one\n"],
                       ['file', 'two.txt', 'text/plain', 'two ' x 5000]);
my $pid = ::post_async('/api/work_orders/22/files', $body, 'owner1', 'acme', 0, 2.5);
Test::More::is(::async_status($pid), 201, 'both files stored');
--- request
GET /api/work_orders/22/files
--- response_body_like: "file_name":"(one|two).txt".*"file_name":"(one|two).txt"



=== TEST 9a: with grace 0 a temporary is still left its first seconds: its upload makes it, then locks it
--- http_config eval
$::Http =~ s/attachments_gc_interval 200ms;/attachments_gc_interval 100ms;/r
--- init
my $tmp = "$::Store/.tmp/" . ::uuid(99);
::blob('.tmp/' . ::uuid(99));
select undef, undef, undef, 1.2;
Test::More::ok(-e $tmp, 'a fresh temporary nobody locked yet outlives a second of sweeps');
Test::More::ok(::wait_until(sub { !-e $tmp }), 'and goes once it is old enough');
--- request
GET /api/work_orders/1/files
--- error_code: 200



=== TEST 10: attachments-fsck finds every row with its blob and every blob with its row
--- init
# the blob TEST 3 made undeletable goes, and its row with the next run
File::Path::remove_tree("$::Store/org_acme/work_orders/2/stuck");
::wait_until(sub { ::count_rows('files', "id = '" . ::uuid(5) . "' AND purged_at IS NULL") == 0 });
Test::More::is(::fsck("main=local:$::Store"), '', 'no finding');
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
