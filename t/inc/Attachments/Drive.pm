# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Drive;

# The drive emulators of the drive suites (no drive service can be reached
# from the test machines): t/inc/yadisk.mjs, written from the Yandex.Disk
# REST API's reference, started with node on a free port of 127.0.0.1 and
# stopped when the suite ends; and what a suite asks of it: its request
# log, its tree of resources, and its controls (failures, background
# deletes, a lying uploader, a person deleting a folder).

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);
use Attachments::HTTP;
use Attachments::S3 qw(free_port);

our @EXPORT = qw(start_yadisk yadisk yadisk_log yadisk_tree);

my @pids;

END { kill 'TERM', @pids if @pids; }

# the port the emulator listens on, also as $TEST_NGINX_YADISK_PORT
sub start_yadisk ($) {
    my $token = shift;
    my $port = free_port();

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        { exec 'node', "$ENV{TEST_NGINX_TOP}/t/inc/yadisk.mjs", $port,
              $token };
        POSIX::_exit(1);
    }
    push @pids, $pid;

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }

    $ENV{TEST_NGINX_YADISK_PORT} = $port;
    return $port;
}

# a control or a call of the emulator: [status, decoded body or text]
sub yadisk ($;$%) {
    my ($path, $method, %headers) = @_;
    my $r = Attachments::HTTP->new(max_redirect => 0)->request(
        $method || 'GET',
        "http://127.0.0.1:$ENV{TEST_NGINX_YADISK_PORT}$path",
        { headers => \%headers });
    my $body = $r->{content};
    $body = eval { JSON::PP->new->decode($body) } // $body
        if ($r->{headers}{'content-type'} // '') =~ /json/;
    return [$r->{status}, $body];
}

# the calls the emulator took since its last reset: [{method, url, ...}]
sub yadisk_log () {
    my $text = yadisk('/_emu/log')->[1];
    return [map { JSON::PP->new->decode($_) } split /\n/, $text];
}

# every resource: { "disk:/a/b" => {type, size, sha256, ...} }
sub yadisk_tree () {
    return yadisk('/_emu/tree')->[1];
}

1;
