# tests/bench/metrics.sh - fragment of 'make bench' (sourced by run.sh): the
# cost of recording an HTTP request's metrics against one shared atomic
# increment, measured in the same run.
"$B/bench/bench_metrics"
