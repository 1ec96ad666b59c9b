# Copyright (C) 2026 The ngx_http_attachments_module authors

# Uploads over HTTP/2 (what browsers speak behind TLS) and chunked
# HTTP/1.1 bodies, of sizes below and well above HTTP/2's initial window:
# every one is stored whole.  (Plain Test::More: the suite needs a listener
# of its own with http2, and curl as the client.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);

use Attachments::Own;
use Attachments::Upload;
use Attachments::DB ();

$ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';

my $http = <<'_EOC_';
    attachments_allowed_types text/plain;
    attachments_max_file_size 4m;
    client_max_body_size 20m;
_EOC_
my $h2 = own_stack(name => 'http2', listen => 'http2', http => $http);
my $h1 = own_stack(name => 'chunked', listen => '', http => $http);
my $tmp = tempdir('attachments-h2.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# a curl command's -w output; asked again while curl 7.88 drops an answer
# nginx gave before the body was all sent, then reset the stream with
# NO_ERROR (RFC 9113 8.1; curl/curl#22984): exit 92 and a status of 000.
# A request answered that early was not carried out.
sub curl {
    my $cmd = shift;
    my $out;
    for my $try (1 .. 8) {
        select undef, undef, undef, 0.05 * $try if $try > 1;
        $out = `$cmd`;
        last unless $? >> 8 == 92 && $out =~ /^000/;
    }
    return $out;
}

# curl with an upload of n bytes to a stack; the status and the stored sha256
sub upload {
    my ($s, $n, @how) = @_;
    my $file = "$tmp/f$n";
    open my $fh, '>', $file or die $!;
    print $fh join '', map { chr(65 + $_ % 26) } 0 .. $n - 1;
    close $fh;
    my $out = curl("curl -s -o $tmp/out -w '%{http_code} %{http_version}' @how"
                   . " -H 'X-User: u1' -H 'X-Org: acme' -F 'file=\@$file;type=text/plain'"
                   . " http://127.0.0.1:$s->{port}/api/work_orders/1/files");
    open my $in, '<', "$tmp/out" or return ($out, '');
    my $body = do { local $/; <$in> };
    my ($sha) = $body =~ /"sha256":"([0-9a-f]{64})"/;
    open $fh, '<', $file;
    my $want = sha256_hex(do { local $/; <$fh> });
    return ($out, ($sha // '') eq $want ? 'intact' : "not stored: $body");
}

for my $n (60_000, 200_000, 3_000_000) {
    my ($st, $what) = upload($h2, $n, '--http2-prior-knowledge');
    is("$st $what", '201 2 intact', "HTTP/2, $n bytes");
    ($st, $what) = upload($h1, $n, '-H', "'Transfer-Encoding: chunked'");
    is("$st $what", '201 1.1 intact', "chunked HTTP/1.1, $n bytes");
}

# refusals in the middle of the body are the API's JSON, whatever the protocol
for my $how (['--http2-prior-knowledge'], ['-H', "'Transfer-Encoding: chunked'"]) {
    my $s = $how->[0] =~ /http2/ ? $h2 : $h1;
    my ($st, $what) = upload($s, 5_000_000, @$how);
    like("$st $what", qr/^413 .* not stored: .*"code":"file_too_large"/s,
         "@$how: a file over attachments_max_file_size is the JSON 413");
    open my $fh, '>', "$tmp/plain.txt" or die $!;
    print $fh "plain text, not a PNG\n" x 100;
    close $fh;
    my $url = "http://127.0.0.1:$s->{port}/api/work_orders/1/files";
    $st = curl("curl -s -o $tmp/out -w '%{http_code}' @$how -H 'X-User: u1' -H 'X-Org: acme' -F 'file=\@$tmp/plain.txt;type=image/png' $url");
    my $body = `cat $tmp/out`;
    like("$st $body", qr/^415 .*"code":"(type_mismatch|unsupported_type)"/s,
         "@$how: a refused type is the JSON 415");
}

# a resumable upload's PATCH past its length, over HTTP/2 with no
# Content-Length: refused as it comes, in JSON, nothing kept
{
    my $tus = "-H 'X-User: u1' -H 'X-Org: acme' -H 'Tus-Resumable: 1.0.0'";
    my $url = "http://127.0.0.1:$h2->{port}/api/work_orders/1/uploads";
    my $made = `curl -s -D - -o /dev/null --http2-prior-knowledge -X POST $tus \\
                -H 'Upload-Length: 100' -H 'Upload-Metadata: filename YS50eHQ=' $url`;
    my ($loc) = $made =~ /^location: (\S+)/mi;
    open my $fh, '>', "$tmp/long" or die $!;
    print $fh 'a' x 101;
    close $fh;
    my $st = curl("curl -s -o $tmp/out -w '%{http_code}' --http2-prior-knowledge -X PATCH $tus"
                  . " -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0'"
                  . " -H 'Content-Length:' --data-binary \@$tmp/long http://127.0.0.1:$h2->{port}$loc");
    my $body = `cat $tmp/out`;
    like("$st $body", qr/^413 .*"code":"upload_too_long"/s,
         'HTTP/2: a PATCH past the upload\'s length is the JSON 413');
    my $head = `curl -s -I --http2-prior-knowledge $tus http://127.0.0.1:$h2->{port}$loc`;
    like($head, qr/^upload-offset: 0\r?$/mi, 'and none of it is kept');
}

for my $s ($h1, $h2) {
    my $log = `cat $s->{dir}/logs/error.log`;
    unlike($log, qr/\[alert\]|negative window/, 'no alert in the error log');
}

for my $s ($h1, $h2) {
    is(Attachments::DB::fsck("main=local:$s->{dir}/store", conninfo => $s->{conninfo}), '',
       'attachments-fsck finds nothing');
}

done_testing();
