# tests/bench/files.sh - fragment of 'make bench' (sourced by run.sh):
# parse speed of connectors/files.c on the 123-zone matrix against a plain
# split + strtod of the same file, measured in the same run.
"$B/bench/bench_files"
