# PostgreSQL goes away and comes back under a running nginx: 503 with
# Retry-After meanwhile, then 200 again from the same processes.  (Plain
# Test::More: the database is stopped between two requests of one nginx,
# which the block format cannot express.  The suite runs its own cluster so
# the others' stays up.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;

my $top = $ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $dir = tempdir("attachments-pgfault.XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
chmod 0755, $dir;

sub sh { my $out = `bash -c '. "$top/tools/pg.sh"; $_[0]' 2>&1`; die $out if $?; $out }

my $conninfo = sh(qq{pg_start "$dir/pg" "$top/conf/schema.sql" >&2; echo "\$PG_CONNINFO"});
($conninfo) = $conninfo =~ /^(host=.*)$/m;
my $port = sh('free_port');
chomp $port;

END { sh(qq{pg_stop "$dir/pg"}) if $dir && -d "$dir/pg" }

system('psql', '-X', '-q', $conninfo, '-c',
       "INSERT INTO attachments.memberships VALUES ('acme', 'u1', 'owner')") == 0
    or die 'seed failed';

mkdir "$dir/logs";
open my $conf, '>', "$dir/nginx.conf" or die $!;
print $conf <<"_EOC_";
load_module $top/build/ngx_http_attachments_module.so;
worker_processes 1;
master_process on;
daemon on;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    attachments_database "$conninfo" size=2 timeout=2s;
    attachments_signing_key k1 $top/t/data/new.key;
    attachments_storage main local root=$dir/store internal=/_store/;
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
my %h = (headers => { 'X-User' => 'u1', 'X-Org' => 'acme' });
my $url = "http://127.0.0.1:$port/api/work_orders/1/files";

sub pids {
    my $master = `cat $dir/logs/nginx.pid`;
    chomp $master;
    my $workers = `pgrep -P $master`;
    $workers =~ s/\s+/ /g;
    return "$master:$workers";
}

select undef, undef, undef, 0.3;
my $pids = pids();

my $r = $http->get($url, \%h);
is($r->{status}, 200, 'database up: 200');

sh(qq{pg_stop "$dir/pg"});

for my $i (1 .. 2) {
    $r = $http->get($url, \%h);
    is($r->{status}, 503, "database down: 503 ($i)");
    is($r->{headers}{'retry-after'}, '2', 'with Retry-After');
    is($r->{content},
       qq{{"error":{"code":"unavailable","message":"the service is unavailable, retry later"}}\n},
       'and a JSON error');
}

sh(qq{pg_start "$dir/pg" "$top/conf/schema.sql"});

$r = $http->get($url, \%h);
is($r->{status}, 200, 'database back: 200 at the first request');
is($r->{content}, qq{{"files":[],"next_cursor":null}\n}, 'with the answer');

# the connection made now is the one the next request reuses
$r = $http->get($url, \%h);
is($r->{status}, 200, 'and the next');

is(pids(), $pids, 'served by the same master and worker');

open my $log, '<', "$dir/logs/error.log" or die $!;
my $text = do { local $/; <$log> };
like($text, qr/attachments: cannot connect to PostgreSQL: connection to server on socket "[^"]+" failed: No such file or directory Is the server running locally and accepting connections on that socket\?, client: 127\.0\.0\.1, server: , request: "GET \/api\/work_orders\/1\/files HTTP\/1\.1"/,
     'the outage is in the error log with its reason');
unlike($text, qr/\[(alert|crit|emerg)\]/, 'nothing worse than an error');

done_testing();
