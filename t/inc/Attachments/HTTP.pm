# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::HTTP;

# The suites' own requests, in the protocol of the run: HTTP::Tiny as is,
# but when the run is in Test::Nginx's "http2" mode (TEST_NGINX_USE_HTTP2)
# requests to the nginx under test go by curl over HTTP/2, and in the
# chunked mode (ATTACHMENTS_CHUNKED) their bodies go chunked.  Requests to
# anything else (s3rver, a redirect's target) stay plain HTTP/1.1.

use strict;
use warnings;
use parent 'HTTP::Tiny';
use Exporter 'import';
use File::Temp ();

our @EXPORT_OK = qw(mode curl_args);

# 'h2', 'chunked' or ''
sub mode () {
    return $ENV{TEST_NGINX_USE_HTTP2} ? 'h2'
         : $ENV{ATTACHMENTS_CHUNKED} ? 'chunked' : '';
}

# the ports of the nginx under test: Test::Nginx's, and those of suites'
# own stacks that speak the run's protocol
our %Ours;

# the block being run (Attachments::Blocks says): Test::Nginx's server
# speaks HTTP/2 for it only if the harness sends it so
our $Block;

sub ours ($) {
    my ($port) = $_[0] =~ m{^https?://[^/:]+:(\d+)};
    return 0 unless defined $port;
    return 1 if $Ours{$port};
    return 0 unless $port eq ($ENV{TEST_NGINX_SERVER_PORT} // '');
    return 1 unless mode() eq 'h2' && $Block;
    my $use = Test::Nginx::Util->can('use_http2')
              || Test::Nginx::Socket->can('use_http2');
    return $use ? $use->($Block) : 1;
}

# curl's protocol options for the run
sub curl_args () {
    return mode() eq 'h2' ? ('--http2-prior-knowledge') : ();
}

sub request {
    my ($self, $method, $url, $args) = @_;
    $args ||= {};

    unless (ours($url) && mode()) {
        my %a = %$args;
        delete $a{_redirects};
        return $self->SUPER::request($method, $url, \%a);
    }

    if (mode() eq 'chunked') {
        my %a = %$args;
        if (defined $a{content} && !ref $a{content}) {
            # a code reference is what HTTP::Tiny sends chunked, in pieces
            # of at most 4 KB, so that a body spans many chunks
            my @pieces = unpack '(a4093)*', $a{content};
            $a{content} = sub { shift @pieces };
        }
        return $self->SUPER::request($method, $url, \%a);
    }

    return $self->curl($method, $url, $args);
}

sub curl {
    my ($self, $method, $url, $args) = @_;
    my $tmp = File::Temp->newdir;
    my @cmd = ('curl', '-s', curl_args(), '-X', $method,
               '-D', "$tmp/head", '-o', "$tmp/body",
               '--max-time', $self->{timeout} // 60);
    push @cmd, '-I' if $method eq 'HEAD';
    my %h = %{ $args->{headers} || {} };
    push @cmd, map { ('-H', "$_: $h{$_}") } sort keys %h;
    if (defined $args->{content}) {
        open my $out, '>', "$tmp/in" or die $!;
        binmode $out;
        print $out $args->{content};
        close $out;
        push @cmd, '-H', 'Content-Type:' unless grep { lc eq 'content-type' } keys %h;
        push @cmd, '--data-binary', "\@$tmp/in";
    }
    # as t/lib's: an answer curl 7.88 dropped on nginx's NO_ERROR reset
    # after an early answer is asked for again
    my $rc;
    for my $try (1 .. 8) {
        select undef, undef, undef, 0.05 * $try if $try > 1;
        unlink "$tmp/head", "$tmp/body";
        system(@cmd, $url);
        $rc = $? >> 8;
        last unless $rc == 92 && !-s "$tmp/head";
    }

    my $head = do { local $/; open my $in, '<', "$tmp/head" or return fail($url, $rc); <$in> };
    my $body = -e "$tmp/body"
             ? do { local $/; open my $in, '<:raw', "$tmp/body"; <$in> } : '';
    my ($status, @lines) = split /\r\n/, (split /\r\n\r\n/, $head)[-1];
    my ($code) = ($status // '') =~ m{^HTTP/\S+ (\d{3})} or return fail($url, $rc);
    my %headers;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $headers{$k} = exists $headers{$k}
            ? [ref $headers{$k} ? @{ $headers{$k} } : $headers{$k}, $v] : $v;
    }

    # as HTTP::Tiny: an answer cut short is no answer.  A whole one stands
    # however the stream ended: over HTTP/2 nginx may answer before the
    # request's body is all sent, then reset the stream (NO_ERROR), which
    # curl reports as an error
    return fail($url, $rc)
        if $rc && !($method eq 'HEAD' || $code =~ /^(1|204|304)/
                    || (defined $headers{'content-length'}
                        && $headers{'content-length'} == length $body));

    # HTTP::Tiny's redirects, each by the protocol its target speaks
    my $redirects = $args->{_redirects} // 0;
    if ($code =~ /^30[1278]$/ && $method =~ /^(GET|HEAD)$/ && $headers{location}
        && $redirects < ($self->{max_redirect} // 5))
    {
        return $self->request($method, $headers{location},
                              { %$args, _redirects => $redirects + 1 });
    }

    return { url => $url, status => $code, reason => '', headers => \%headers,
             content => $body, success => $code =~ /^2/ ? 1 : '' };
}

sub fail {
    my ($url, $rc) = @_;
    return { url => $url, status => 599, reason => 'Internal Exception',
             headers => {}, content => "curl exited with $rc\n", success => '' };
}

1;
