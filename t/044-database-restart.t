# Copyright (C) 2026 The ngx_http_attachments_module authors

# PostgreSQL goes away and comes back under a running nginx: 503 with
# Retry-After meanwhile, then 200 again from the same processes.  (Plain
# Test::More: the database is stopped between two requests of one nginx,
# which the block format cannot express.  The suite runs its own cluster so
# the others' stays up.)

use strict;
use warnings;
use Test::More;
use Attachments::HTTP;

use Attachments::Own;

$ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';

my $s = own_stack(name => 'pgfault', database => 'size=2 timeout=2s');
my ($dir, $port) = @$s{qw(dir port)};

my $http = Attachments::HTTP->new(timeout => 5);
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

db_stop($s);

for my $i (1 .. 2) {
    $r = $http->get($url, \%h);
    is($r->{status}, 503, "database down: 503 ($i)");
    is($r->{headers}{'retry-after'}, '2', 'with Retry-After');
    is($r->{content},
       qq{{"error":{"code":"unavailable","message":"the service is unavailable, retry later"}}\n},
       'and a JSON error');
}

db_start($s);

$r = $http->get($url, \%h);
is($r->{status}, 200, 'database back: 200 at the first request');
is($r->{content}, qq{{"files":[],"next_cursor":null}\n}, 'with the answer');

# the connection made now is the one the next request reuses
$r = $http->get($url, \%h);
is($r->{status}, 200, 'and the next');

is(pids(), $pids, 'served by the same master and worker');

open my $log, '<', "$dir/logs/error.log" or die $!;
my $text = do { local $/; <$log> };
like($text, qr/attachments: cannot connect to PostgreSQL: connection to server on socket "[^"]+" failed: No such file or directory Is the server running locally and accepting connections on that socket\?, client: 127\.0\.0\.1, server: , request: "GET \/api\/work_orders\/1\/files HTTP\/(1\.1|2\.0)"/,
     'the outage is in the error log with its reason');
unlike($text, qr/\[(alert|crit|emerg)\]/, 'nothing worse than an error');

done_testing();
