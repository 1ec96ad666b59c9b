# Copyright (C) 2026 The ngx_http_attachments_module authors

# Unit tests of SigV4 presigning: TAP from the binary make builds.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../build/unit-sigv4";
die "$bin is missing: run make unit\n" unless -x $bin;
exec $bin or die "exec $bin: $!\n";
