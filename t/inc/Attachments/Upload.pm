# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Upload;

# Multipart bodies for the upload suites, sample files whose types libmagic
# knows, a look at what the storage holds, and clients in other processes
# (for races and for hanging up halfway).

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use File::Find ();
use File::Temp ();
use POSIX ();
use Time::HiRes qw(sleep);
use Attachments::HTTP qw(mode curl_args);

our @EXPORT = qw($PNG $PDF $ELF multipart upload_request stored_files
                 post_async async_status);

our $Boundary = 'XbOuNdArY7';

# a 1x1 PNG, a minimal PDF, the start of an ELF executable
our $PNG = pack 'H*', '89504e470d0a1a0a0000000d4948445200000001000000010802'
    . '000000907753de0000000c49444154789c63f8cfc0000003010100c9fe92ef000000'
    . '0049454e44ae426082';
our $PDF = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
    . "endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
our $ELF = "\x7fELF\x02\x01\x01\x00" . ("\x00" x 8) . "\x02\x00\x3e\x00"
    . "\x01\x00\x00\x00" . ("\x00" x 40);

# multipart([name, filename|undef, type|undef, content], …)
sub multipart {
    my $body = '';
    for my $p (@_) {
        my ($name, $file, $type, $content) = @$p;
        $body .= "--$Boundary\r\nContent-Disposition: form-data; name=\"$name\""
               . (defined $file ? "; filename=\"$file\"" : '') . "\r\n"
               . (defined $type ? "Content-Type: $type\r\n" : '') . "\r\n"
               . $content . "\r\n";
    }
    return $body . "--$Boundary--\r\n";
}

# a whole request for Test::Nginx: request line, then the body
sub upload_request {
    my ($path, @parts) = @_;
    return "POST $path\n" . multipart(@parts);
}

# every file under dir, relative, sorted ("" when there is none)
sub stored_files {
    my $dir = shift;
    my @f;
    File::Find::find({ no_chdir => 1, wanted => sub {
        push @f, substr($_, length($dir) + 1) if -f $_;
    } }, $dir) if -d $dir;
    return join "\n", sort @f;
}

my %out;

# POSTs body from another process; with $hangup_after it sends half the
# body, waits that long and hangs up; with $pause it sends half the body,
# waits that long, then the rest
sub post_async {
    my ($path, $body, $user, $org, $hangup_after, $pause) = @_;
    my $out = File::Temp::tmpnam();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        curl_post($out, $path, $body, $user, $org, $hangup_after, $pause)
            if mode() && Attachments::HTTP::ours(
                             "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/");
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
            or POSIX::_exit(1);
        my $head = "POST $path HTTP/1.1\r\nHost: localhost\r\n"
                 . "X-User: $user\r\nX-Org: $org\r\nConnection: close\r\n"
                 . "Content-Type: multipart/form-data; boundary=$Boundary\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n";
        if ($hangup_after || $pause) {
            $s->autoflush(1);
            print $s $head . substr($body, 0, length($body) / 2);
            sleep($hangup_after || $pause);
            if ($hangup_after) {
                close $s;
                POSIX::_exit(0);
            }
            print $s substr($body, length($body) / 2);
        } else {
            print $s $head . $body;
        }
        my $resp = join '', <$s>;
        my ($status) = $resp =~ m{^HTTP/1\.1 (\d+)};
        open my $fh, '>', $out;
        print $fh $status // 'none';
        close $fh;
        POSIX::_exit(0);
    }
    $out{$pid} = $out;
    return $pid;
}

# post_async's child in the run's protocol: curl sends the body as it is
# given on its standard input (over HTTP/2, or chunked over HTTP/1.1) and
# is killed to hang up.  A whole HTTP/2 body goes with its length: sent as
# it comes, its end may follow an early answer, whose stream nginx then
# resets (NO_ERROR), which curl takes for an empty reply.
sub curl_post {
    my ($out, $path, $body, $user, $org, $hangup_after, $pause) = @_;
    my @how = mode() eq 'h2' && !$hangup_after && !$pause
            ? ('--data-binary', '@-') : ('-T', '-');
    pipe my $r, my $w or POSIX::_exit(1);
    my $curl = fork // POSIX::_exit(1);
    if ($curl == 0) {
        close $w;
        open STDIN, '<&', $r or POSIX::_exit(1);
        open STDOUT, '>', $out or POSIX::_exit(1);
        exec('curl', '-sS', curl_args(), '-o', '/dev/null', '-w', '%{http_code}',
             '-X', 'POST', @how, '-H', 'Expect:',
             '-H', "X-User: $user", '-H', "X-Org: $org",
             '-H', "Content-Type: multipart/form-data; boundary=$Boundary",
             "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path") or POSIX::_exit(1);
        POSIX::_exit(1);
    }
    close $r;
    $w->autoflush(1);
    if ($hangup_after || $pause) {
        print $w substr($body, 0, length($body) / 2);
        sleep($hangup_after || $pause);
        if ($hangup_after) {
            kill 'KILL', $curl;
            waitpid $curl, 0;
            unlink $out;
            POSIX::_exit(0);
        }
        print $w substr($body, length($body) / 2);
    } else {
        print $w $body;
    }
    close $w;
    waitpid $curl, 0;
    open my $fh, '<', $out;
    my $st = <$fh> // '';
    close $fh;
    if ($st !~ /^[1-5]\d\d$/) {
        open $fh, '>', $out;
        print $fh 'none';
        close $fh;
    }
    POSIX::_exit(0);
}

sub async_status {
    my $pid = shift;
    waitpid $pid, 0;
    open my $fh, '<', $out{$pid} or return 'none';
    my $s = <$fh>;
    unlink $out{$pid};
    return $s;
}

1;
