#!/bin/sh
# Regenerate the bundled demo data (data/demo/*.csv.gz) from the DACF data
# set; see data/demo/README.md for what is derived and why.
#
#   data/demo/generate.sh [SHARED_DATA_DIR]     (default ../shared/data)
#
# Needs a C compiler, zlib and gzip; the output is byte-for-byte
# reproducible (gzip -n stores no name or time).
set -eu
cd "$(dirname "$0")/../.."
src=${1:-../shared/data}/dacf
out=data/demo
tmp=$(mktemp "${TMPDIR:-/tmp}/mkdemo.XXXXXX")
trap 'rm -f "$tmp"' EXIT

make --no-print-directory build/libcarbonsched.a
cc -std=gnu11 -O2 -I. -D_GNU_SOURCE -o build/mkdemo data/demo/mkdemo.c build/libcarbonsched.a \
	$(pkg-config --libs zlib) -lm

for r in CISO PJM ERCO ISNE SE; do
	build/mkdemo trim "$src/${r}_direct_emissions.csv" >"$tmp"
	gzip -9n <"$tmp" >"$out/${r}_direct_emissions.csv.gz"
done
build/mkdemo de "$src/DE_2019_clean.csv" "$src/DE_coal_2019_clean.csv" >"$tmp"
gzip -9n <"$tmp" >"$out/DE_direct_emissions.csv.gz"
cp "$src/LICENSE.md" "$out/LICENSE"

ls -l "$out"/*.csv.gz
du -cb "$out"/*.csv.gz | tail -1
