# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::S3;

# A real S3-compatible server for the cloud suites: s3rver (installed by
# make deps), started on a free port of 127.0.0.1 with the bucket "files",
# stopped when the suite ends; and botocore, to put and get objects as any
# S3 client would and to recompute the signatures the module sends.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);

our @EXPORT = qw(start_s3rver free_port botocore);

my @pids;

END { kill 'TERM', @pids if @pids; }

sub free_port () {
    return IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1')
        ->sockport;
}

# the port s3rver listens on, also as $TEST_NGINX_S3_PORT
sub start_s3rver () {
    my $s3rver = "$ENV{TEST_NGINX_TOP}/node_modules/.bin/s3rver";
    -x $s3rver or die "$s3rver is missing: run make deps\n";

    my $data = tempdir('attachments-s3rver.XXXXXX', TMPDIR => 1,
                       CLEANUP => 1);
    my $port = free_port();

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>&', \*STDOUT;
        { exec $s3rver, '-d', $data, '-p', $port, '-a', '127.0.0.1',
              '--configure-bucket', 'files' };
        POSIX::_exit(1);
    }
    push @pids, $pid;

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }

    $ENV{TEST_NGINX_S3_PORT} = $port;
    $ENV{S3_SECRET} = 'S3RVER';
    return $port;
}

# runs t/inc/botocore_s3.py on the requests given (hashes), returns its
# answers (decoded JSON, one per request)
sub botocore (@) {
    my $json = JSON::PP->new->utf8->canonical;
    my ($in, $name) = File::Temp::tempfile(UNLINK => 1);
    print $in map { $json->encode($_) . "\n" } @_;
    close $in;
    open my $py, '-|',
        "/usr/bin/python3 $ENV{TEST_NGINX_TOP}/t/inc/botocore_s3.py < $name"
        or die "python3: $!";
    my @out = map { $json->decode($_) } <$py>;
    close $py or die "botocore failed\n";
    return @out;
}

1;
