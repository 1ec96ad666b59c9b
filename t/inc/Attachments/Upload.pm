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

sub async_status {
    my $pid = shift;
    waitpid $pid, 0;
    open my $fh, '<', $out{$pid} or return 'none';
    my $s = <$fh>;
    unlink $out{$pid};
    return $s;
}

1;
