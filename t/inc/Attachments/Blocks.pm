# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Blocks;

# A suite's defaults: each section given to block_defaults() applies to
# every block that does not set it itself.

use strict;
use warnings;
use Exporter 'import';

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
    });
}

1;
