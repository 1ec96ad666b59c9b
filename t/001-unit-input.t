# Copyright (C) 2026 The ngx_http_attachments_module authors

# Unit tests of the input checks (routes, ids, cursors, metadata): TAP
# from the binary make builds.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../build/unit-input";
die "$bin is missing: run make unit\n" unless -x $bin;
exec $bin or die "exec $bin: $!\n";
