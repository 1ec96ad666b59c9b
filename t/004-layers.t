# Copyright (C) 2026 The ngx_http_attachments_module authors

# The layers of docs/architecture.md hold: a source file includes only the
# headers of files in lower layers, or earlier in its own layer; every
# source file is in the table and every file in the table exists.
use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
my (%rank, @order);

open my $doc, '<', "$top/docs/architecture.md" or die "architecture.md: $!";

while (<$doc>) {
    next unless /^\| (\d+)\. [^|]+\| ([^|]+)\|/;
    my ($layer, $files) = ($1, $2);
    my $i = 0;

    for my $name ($files =~ /`(\w+)`/g) {
        $rank{$name} = [$layer, $i++];
        push @order, $name;
    }
}

close $doc;

ok(scalar @order, 'the table names files');

my %seen;

for my $path (sort glob "$top/src/ngx_http_attachments_*.[ch]") {
    my ($name) = $path =~ /ngx_http_attachments_(\w+)\.[ch]$/;
    $seen{$name} = 1;

    ok(exists $rank{$name}, "$name is in the table") or next;

    open my $src, '<', $path or die "$path: $!";

    while (<$src>) {
        next unless /^#include "ngx_http_attachments_(\w+)\.h"/;
        my $inc = $1;
        next if $inc eq $name;

        my ($l, $i) = @{ $rank{$name} };
        my ($il, $ii) = @{ $rank{$inc} || [99, 99] };

        ok($il < $l || ($il == $l && $ii < $i),
           "$name (layer $l) includes $inc (layer $il) from below");
    }

    close $src;
}

ok($seen{$_}, "$_ of the table exists") for @order;

done_testing();
