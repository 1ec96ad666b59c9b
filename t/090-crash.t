# Copyright (C) 2026 The ngx_http_attachments_module authors

# Faults in the middle of uploads: the worker killed with SIGKILL, and
# PostgreSQL stopped.  After a restart and a collector run: no orphan blob,
# no pending row, usage equal to the visible files.  (Plain Test::More: it
# kills and restarts processes between requests, with its own cluster.)

use strict;
use warnings;
use Test::More;
use Attachments::HTTP;
use Time::HiRes qw(sleep);

use Attachments::Own;
use Attachments::Upload;
use Attachments::DB ();

$ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';

my $s = own_stack(name => 'crash', database => 'size=2 timeout=3s',
                  http => <<'_EOC_');
    attachments_allowed_types *;
    attachments_gc_interval 300ms;
    attachments_gc_retention 0;
    attachments_gc_grace 2s;
_EOC_
my ($dir, $port, $conninfo) = @$s{qw(dir port conninfo)};
$ENV{TEST_NGINX_SERVER_PORT} = $port;

sub psql { my $o = `psql -X -q -A -t "$conninfo" -c "$_[0]"`; chomp $o; $o }

my $http = Attachments::HTTP->new(timeout => 5);
my $url = "http://127.0.0.1:$port/api/work_orders/1/files";
my %who = ('X-User' => 'u1', 'X-Org' => 'acme');

sub upload {
    my $r = $http->post($url, { headers => { %who,
        'Content-Type' => 'multipart/form-data; boundary=XbOuNdArY7' },
        content => multipart(['file', $_[0], 'text/plain', $_[1]]) });
    return $r->{status};
}

sub worker { my $w = `pgrep -P \$(cat $dir/logs/nginx.pid)`; chomp $w; $w }

sub settled {
    my $what = shift;
    my $ok = 0;
    for (1 .. 80) {
        $ok = psql("SELECT count(*) FROM attachments.files WHERE state = 'pending'") == 0
              && stored_files("$dir/store/.tmp") eq '';
        last if $ok;
        sleep 0.1;
    }
    ok($ok, "$what: no pending row, no temporary blob");

    my @rows = split /\n/, psql("SELECT storage_key FROM attachments.files
                                  WHERE purged_at IS NULL ORDER BY 1");
    my @blobs = grep { !m{^\.tmp/} } split /\n/, stored_files("$dir/store");
    is(join(',', @blobs), join(',', @rows), "$what: every blob has its row and back");

    my $r = $http->get("http://127.0.0.1:$port/api/usage", { headers => \%who });
    my $sum = psql("SELECT coalesce(sum(size), 0) FROM attachments.files
                     WHERE state = 'ready' AND deleted_at IS NULL") || 0;
    like($r->{content}, qr/^\{"organization":\{"id":"acme","used_bytes":$sum,/,
         "$what: usage is the visible files ($sum bytes)");
}

sleep 0.3;
is(upload('before.txt', "kept\n" x 10), 201, 'an upload before the faults');

# 1. the worker killed while a body streams in

my $pid = post_async('/api/work_orders/1/files',
                     multipart(['file', 'half.txt', 'text/plain', 'x' x 200_000]),
                     'u1', 'acme', 1.5);
sleep 0.5;
my $w = worker();
ok(stored_files("$dir/store/.tmp") ne '', 'the upload is being written')
    or diag `ls -la $dir/store/.tmp; tail -5 $dir/logs/error.log`;
kill 'KILL', $w;
async_status($pid);
sleep 0.5;
isnt(worker(), $w, 'the master started a new worker');
# its temporary has no row; untouched for longer than the grace, it goes
settled('worker killed mid-body');
is(upload('after-kill.txt', "ok\n"), 201, 'uploads work after the kill');

# 2. PostgreSQL stopped while a body streams in

$pid = post_async('/api/work_orders/1/files',
                  multipart(['file', 'dbgone.txt', 'text/plain', 'y' x 200_000]),
                  'u1', 'acme', 0, 1);
sleep 0.3;
db_stop($s);
my $st = async_status($pid);
is($st, 503, 'the upload that met no database: 503');
is(stored_files("$dir/store/.tmp") . (stored_files("$dir/store") =~ /dbgone/ ? 'blob' : ''),
   '', 'and nothing of it stored');
db_start($s);
sleep 0.5;
settled('database stopped mid-upload');

# 3. a row left pending by a crash after the insert, with its blob in place

# the blob first: the collector may claim the row the moment it exists
open my $fh, '>', "$dir/store/org_acme/work_orders/1/crashed.txt";
print $fh "ab\n";
close $fh;
my $id = psql("INSERT INTO attachments.files (lineage_id, organization_id,
    entity_type, entity_id, storage, storage_key, file_name, content_type, size,
    uploaded_by, state, created_at)
    VALUES (gen_random_uuid(), 'acme', 'work_orders', '1', 'main',
            'org_acme/work_orders/1/crashed.txt', 'crashed.txt', 'text/plain',
            3, 'u1', 'pending', now() - interval '1 hour') RETURNING id");
settled('a crash between the insert and finish_upload');
is(psql("SELECT count(*) FROM attachments.audit_log WHERE action = 'purge'
          AND file_id = '$id'"), 1, 'its purge is audited');

is(Attachments::DB::fsck("main=local:$dir/store", conninfo => $conninfo), '',
   'attachments-fsck finds nothing after the faults');

done_testing();
