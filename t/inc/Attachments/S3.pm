# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::S3;

# A real S3-compatible server for the cloud suites: s3rver (installed by
# make deps), started on a free port of 127.0.0.1 with the bucket "files",
# stopped when the suite ends; a slow link to put in front of it; and
# botocore, to put and get objects as any S3 client would and to recompute
# the signatures the module sends.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);

our @EXPORT = qw(start_s3rver slow_link free_port botocore s3_object);

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

# a port whose connections reach port $to over a slow link: what a client
# sends arrives $delay seconds late, and so does each answer; with $cut,
# a connection breaks once that many bytes of answer went through
sub slow_link ($$;$) {
    my ($to, $delay, $cut) = @_;
    my $l = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                  ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            my $c = $l->accept or next;
            my $k = fork;
            if (!defined $k || $k) {
                close $c;
                next;
            }
            close $l;
            sleep $delay;
            my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$to")
                or POSIX::_exit(1);
            relay($c, $s, $delay, $cut);
            POSIX::_exit(0);
        }
    }
    push @pids, $pid;
    my $port = $l->sockport;
    close $l;
    return $port;
}

# both ways until either side closes; an answer after a request waits
sub relay {
    my ($c, $s, $delay, $cut) = @_;
    my $sel = IO::Select->new($c, $s);
    my $asked = 1;
    my $answered = 0;
    while (my @ready = $sel->can_read) {
        for my $from (@ready) {
            my $to = $from == $c ? $s : $c;
            my $n = sysread $from, my $buf, 65536;
            return unless $n;
            if ($from == $c) {
                $asked = 1;
            } else {
                if ($asked) {
                    sleep $delay;
                    $asked = 0;
                }
                if (defined $cut && ($answered += $n) > $cut) {
                    syswrite $to, $buf, $n - ($answered - $cut);
                    return;
                }
            }
            for (my $off = 0; $off < $n; ) {
                my $w = syswrite $to, $buf, $n - $off, $off;
                return unless defined $w;
                $off += $w;
            }
        }
    }
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

# the object under a key of s3rver's bucket "files", read by botocore:
# {status, body_hex}
sub s3_object ($) {
    return (botocore({ op => 'get', port => $ENV{TEST_NGINX_S3_PORT},
                       key => shift }))[0];
}

1;
