# Unit tests of the pure C code (signing, encodings, key safety): TAP from
# the binary make builds.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../build/unit-tests";
die "$bin is missing: run make unit\n" unless -x $bin;
exec $bin or die "exec $bin: $!\n";
