# tests/bench/parse.sh - fragment of 'make bench' (sourced by run.sh): parse
# throughput of each provider's response against jansson's json_loads
# (libxml2's xmlReadMemory for ENTSO-E, split + strtod for the PUE CSV) of
# the same bytes, measured in the same run.
"$B/bench/bench_parse"
