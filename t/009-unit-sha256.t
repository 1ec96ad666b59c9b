# Copyright (C) 2026 The ngx_http_attachments_module authors

# Unit tests of the SHA-256 whose state is saved and loaded (a resumable
# upload's digest): TAP from the binary make builds.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../build/unit-sha256";
die "$bin is missing: run make unit\n" unless -x $bin;
exec $bin or die "exec $bin: $!\n";
