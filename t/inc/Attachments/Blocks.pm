# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Blocks;

# A suite's defaults: each section given to block_defaults() applies to
# every block that does not set it itself.  In the chunked mode
# (ATTACHMENTS_CHUNKED=1) a block's request bodies are sent chunked, unless
# the block frames its body itself (Content-Length, Transfer-Encoding, a
# raw request) or says --- no_chunked.

use strict;
use warnings;
use Exporter 'import';
use Attachments::HTTP ();

our @EXPORT = qw(block_defaults);

# the suite's own add_block_preprocessor, Test::Nginx's or t/lib's
sub block_defaults {
    my %default = @_;
    my $add = do { no strict 'refs'; \&{ caller() . '::add_block_preprocessor' } };

    $add->(sub {
        my $block = shift;

        for my $name (sort keys %default) {
            $block->set_value($name, $default{$name})
                unless defined $block->$name;
        }
        chunked($block) if $ENV{ATTACHMENTS_CHUNKED};
        $Attachments::HTTP::Block = $block;
    });
}

# the body in chunks of a few kilobytes, so that one spans many
sub encode ($) {
    my $body = shift;
    return join('', map { sprintf("%x\r\n", length) . "$_\r\n" }
                    grep { length } unpack '(a4093)*', $body) . "0\r\n\r\n";
}

sub chunked {
    my $block = shift;
    my $req = $block->request;
    return if !defined $req || defined $block->raw_request
              || defined $block->pipelined_requests
              || defined $block->no_chunked
              || ($block->more_headers // '')
                 =~ /^\s*(Content-Length|Transfer-Encoding)\s*:/mi;

    # one header for every request of the block: those without a body
    # send an empty chunked one
    my @reqs = ref $req ? @$req : ($req);
    return unless grep { !ref && (split /\n/, $_, 2)[1] } @reqs;
    my @out;
    for (@reqs) {
        return if ref $_ || m{\A[^\n]*HTTP/1\.0};
        my ($line, $body) = split /\n/, $_, 2;
        push @out, "$line\n" . encode($body // '');
    }
    $block->set_value('request', ref $req ? \@out : $out[0]);
    $block->set_value('more_headers', ($block->more_headers // '')
                                      . "\nTransfer-Encoding: chunked\n");
}

1;
