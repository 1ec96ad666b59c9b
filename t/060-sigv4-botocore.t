# Copyright (C) 2026 The ngx_http_attachments_module authors

# SigV4 presigned GET and PUT URLs: the module's code (build/attachments-presign)
# against Debian's botocore, byte for byte, for the same inputs and clock.
# (Plain Test::More: no nginx is involved.)

use strict;
use warnings;
use Test::More;
use JSON::PP;
use Encode ();
use File::Temp ();

my $top = $ENV{TEST_NGINX_TOP} || '.';
my $tool = "$top/build/attachments-presign";
-x $tool or BAIL_OUT("$tool is missing: run make unit");

my %aws = (access_key => 'AKIAIOSFODNN7EXAMPLE',
           secret => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');

my @cases = (
    { endpoint => 'http://127.0.0.1:4569', style => 'path', region => 'us-east-1',
      bucket => 'files', key => 'org_acme/work_orders/123/contract.pdf',
      now => 1769941800, expires => 3600 },
    { endpoint => 'http://127.0.0.1:4569', style => 'path', region => 'us-east-1',
      bucket => 'files', key => "org_acme/a b/r\x{e9}sum\x{e9}+1~_.-*'().pdf",
      disposition => q{attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf},
      type => 'application/pdf', now => 1769941800, expires => 604800 },
    # what the module's downloads carry: no shared cache, no encoding
    { endpoint => 'http://127.0.0.1:4569', style => 'path', region => 'us-east-1',
      bucket => 'files', key => 'org_acme/leads/7/a.pdf', cache_control => 'private',
      disposition => 'attachment; filename="a.pdf"', encoding => 'identity',
      type => 'application/pdf', now => 1769941800, expires => 3600 },
    { endpoint => 'https://storage.yandexcloud.net', style => 'virtual',
      region => 'ru-central1', bucket => 'bkt', key => 'k', cache_control => 'private',
      encoding => 'identity', now => 1767225600, expires => 60 },
    { endpoint => 'https://s3.eu-west-1.amazonaws.com', style => 'virtual',
      region => 'eu-west-1', bucket => 'acme-attachments',
      key => 'org_acme/leads/77/0190f6b4-5a5c-7c3e-9f6e-2b1f4f0a9c11-q1.xlsx',
      type => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      now => 1798761599, expires => 1 },
    { endpoint => 'https://minio.internal:9000', style => 'path', region => 'us-east-1',
      bucket => 'b', key => 'k/with%percent and #hash?', now => 1700000000,
      expires => 900, disposition => 'attachment' },
    { endpoint => 'https://storage.yandexcloud.net', style => 'virtual',
      region => 'ru-central1', bucket => 'bkt', key => "\x{442}\x{435}\x{441}\x{442}.txt",
      now => 1767225600, expires => 86400 },
    # direct uploads: a PUT bound to its length and SHA-256
    { endpoint => 'http://127.0.0.1:4569', style => 'path', region => 'us-east-1',
      bucket => 'files', key => 'org_acme/leads/7/0190f6b4-q1 report.pdf',
      checksum => 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=', length => 5,
      now => 1769941800, expires => 3600 },
    { endpoint => 'https://storage.yandexcloud.net', style => 'virtual',
      region => 'ru-central1', bucket => 'bkt', key => "a/\x{442}.bin",
      checksum => '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      length => 1073741824, now => 1798761599, expires => 900 },
);

my $json = JSON::PP->new->utf8->canonical;
my ($in, $in_name) = File::Temp::tempfile(UNLINK => 1);
print $in map { $json->encode({ %aws, %$_ }) . "\n" } @cases;
close $in;

open my $py, '-|', "/usr/bin/python3 $top/t/inc/botocore_presign.py < $in_name"
    or die "python3: $!";
my @want = <$py>;
close $py or die "botocore failed\n";
chomp @want;
is(scalar @want, scalar @cases, 'botocore signed every case');

for my $i (0 .. $#cases) {
    my $c = $cases[$i];
    my ($scheme, $host) = $c->{endpoint} =~ m{^(https?)://(.+)$};
    my $path = "/$c->{bucket}/$c->{key}";

    if ($c->{style} eq 'virtual') {
        $host = "$c->{bucket}.$host";
        $path = "/$c->{key}";
    }

    # botocore omits the default port from Host; so does the module's caller
    $host =~ s/:(80|443)$//;

    my @args = ('-a', $aws{access_key}, '-s', $aws{secret}, '-r', $c->{region},
                '-H', $host, '-p', Encode::encode('UTF-8', $path),
                '-t', $c->{now}, '-e', $c->{expires});
    push @args, '-C', $c->{cache_control} if $c->{cache_control};
    push @args, '-d', $c->{disposition} if $c->{disposition};
    push @args, '-E', $c->{encoding} if $c->{encoding};
    push @args, '-c', $c->{type} if $c->{type};
    push @args, '-k', $c->{checksum}, '-l', $c->{length} if $c->{checksum};

    open my $t, '-|', $tool, @args or die "$tool: $!";
    my $got = <$t>;
    close $t;
    chomp $got;

    is("$scheme://$host$got", $want[$i], "case $i: $c->{style}-style, $c->{region}");
}

done_testing();
