# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Sign;

# An independent Perl implementation of the signed-URL scheme (Digest::SHA),
# so that suites can forge, tamper with and check URLs without the module's
# own code.

use strict;
use warnings;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Exporter 'import';

our @EXPORT = qw(secret signature signed_url unescape escape_arg);

my $Top = $ENV{TEST_NGINX_TOP} // '.';

sub secret ($) {
    my $kid = shift;
    open my $in, '<', "$Top/t/data/$kid.key" or die "$kid.key: $!";
    local $/;
    my $s = <$in>;
    $s =~ s/\s+$//;
    return $s;
}

sub unescape ($) {
    my $s = shift;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub escape_arg ($) {
    my $s = shift;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# signature(path => decoded path, expires =>, kid =>, filename =>, type =>)
sub signature (%) {
    my %a = @_;
    my $msg = join "\n", 'AH1', $a{method} // 'GET', $a{path}, $a{expires},
                   $a{kid}, $a{filename} // '', $a{type} // '';
    return encode_base64url(hmac_sha256($msg, $a{secret} // secret $a{kid}));
}

# signed_url(raw => '/files/a%20b.txt', kid => 'new', ttl|expires, filename,
# type, tamper => sub { my $args = shift; … })
sub signed_url (%) {
    my %a = @_;
    $a{expires} //= time + ($a{ttl} // 3600);
    $a{path} //= unescape $a{raw};
    my %q = (
        'X-Expires' => $a{expires},
        'X-Key-Id' => $a{kid},
        'X-Signature' => signature(%a),
    );
    $q{'X-Filename'} = $a{filename} if defined $a{filename};
    $q{'X-Type'} = $a{type} if defined $a{type};
    $a{tamper}->(\%q) if $a{tamper};

    my @order = ('X-Expires', 'X-Key-Id', 'X-Filename', 'X-Type',
                 'X-Signature');
    return "$a{raw}?" . join '&', map { "$_=" . escape_arg($q{$_}) }
                                  grep { defined $q{$_} } @order;
}

1;
