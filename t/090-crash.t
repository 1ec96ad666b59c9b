# Faults in the middle of uploads: the worker killed with SIGKILL, and
# PostgreSQL stopped.  After a restart and a collector run: no orphan blob,
# no pending row, usage equal to the visible files.  (Plain Test::More: it
# kills and restarts processes between requests, with its own cluster.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Time::HiRes qw(sleep);

use Attachments::Upload;

my $top = $ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $dir = tempdir('attachments-crash.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

sub sh { my $out = `bash -c '. "$top/tools/pg.sh"; $_[0]' 2>&1`; die $out if $?; $out }

my ($conninfo) = sh(qq{pg_start "$dir/pg" "$top/conf/schema.sql" >&2; echo "\$PG_CONNINFO"})
    =~ /^(host=.*)$/m;
my $port = sh('free_port');
chomp $port;
$ENV{TEST_NGINX_SERVER_PORT} = $port;

END { sh(qq{pg_stop "$dir/pg"}) if $dir && -d "$dir/pg" }

sub psql { my $o = `psql -X -q -A -t "$conninfo" -c "$_[0]"`; chomp $o; $o }

psql("INSERT INTO attachments.memberships VALUES ('acme', 'u1', 'owner')");

mkdir "$dir/$_" for qw(logs store);
chmod 0777, "$dir/store";

open my $conf, '>', "$dir/nginx.conf" or die $!;
print $conf <<"_EOC_";
load_module $top/build/ngx_http_attachments_module.so;
worker_processes 1;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    attachments_database "$conninfo" size=2 timeout=3s;
    attachments_signing_key k1 $top/t/data/new.key;
    attachments_storage main local root=$dir/store internal=/_s/;
    attachments_allowed_types *;
    attachments_gc_interval 300ms;
    attachments_gc_retention 0;
    attachments_gc_grace 2s;
    server {
        listen 127.0.0.1:$port;
        location /files/ { attachments_download main; }
        location /api/ {
            attachments_api;
            attachments_user \$http_x_user;
            attachments_org \$http_x_org;
        }
    }
}
_EOC_
close $conf;

system($nginx, '-p', $dir, '-c', "$dir/nginx.conf") == 0 or die 'nginx failed';
END { system("$nginx -p $dir -c $dir/nginx.conf -s stop 2>/dev/null") if $dir }

my $http = HTTP::Tiny->new(timeout => 5);
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
sh(qq{pg_stop "$dir/pg"});
my $st = async_status($pid);
is($st, 503, 'the upload that met no database: 503');
is(stored_files("$dir/store/.tmp") . (stored_files("$dir/store") =~ /dbgone/ ? 'blob' : ''),
   '', 'and nothing of it stored');
sh(qq{pg_start "$dir/pg" "$top/conf/schema.sql"});
sleep 0.5;
settled('database stopped mid-upload');

# 3. a row left pending by a crash after the insert, with its blob in place

my $id = psql("INSERT INTO attachments.files (lineage_id, organization_id,
    entity_type, entity_id, storage, storage_key, file_name, content_type, size,
    uploaded_by, state, created_at)
    VALUES (gen_random_uuid(), 'acme', 'work_orders', '1', 'main',
            'org_acme/work_orders/1/crashed.txt', 'crashed.txt', 'text/plain',
            3, 'u1', 'pending', now() - interval '1 hour') RETURNING id");
open my $fh, '>', "$dir/store/org_acme/work_orders/1/crashed.txt";
print $fh "ab\n";
close $fh;
settled('a crash between the insert and finish_upload');
is(psql("SELECT count(*) FROM attachments.audit_log WHERE action = 'purge'
          AND file_id = '$id'"), 1, 'its purge is audited');

done_testing();
