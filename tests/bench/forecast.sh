#!/bin/sh
# tests/bench/forecast.sh - the forecasting part of 'make bench' (called by
# tests/bench/run.sh; runnable alone from the repository root):
#   1. fit + 96 h forecast of every model for all 123 zones of the 2022
#      Electricity Maps matrix, total seconds (goal: ensemble < 1 s);
#   2. the same 96 h backtest (weekly issue times in autumn 2022) on three
#      zones with our models and with R's forecast package (ets, tbats),
#      accuracy and time side by side.  R gets a 28-day history window
#      (longer windows take minutes per fit); our models are shown both
#      with all history and with the same window.
# R's forecast package is installed here with apt when missing (Debian
# r-cran-forecast; the bench only - the service never needs R).  Every part
# that cannot run says why and is skipped.
set -u
B=${B:-build}
DATA=${CARBONSCHED_SHARED_DATA:-../shared/data}
M="$DATA/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv"
ZONES=${FORECAST_BENCH_ZONES:-DE,US-CAL-CISO,GB}
ISSUES=${FORECAST_BENCH_ISSUES:-2022-10-03,2022-10-10,2022-10-17,2022-10-24}
WINDOW=28

if [ ! -r "$M" ]; then
	echo "forecast: skipped: $M is absent (shared data)"
	exit 0
fi
if [ ! -x "$B/bench/bench_forecast" ]; then
	echo "forecast: skipped: $B/bench/bench_forecast is not built"
	exit 0
fi
"$B/bench/bench_forecast" "$M" || exit 1
"$B/bench/bench_forecast" "$M" --backtest "$ZONES" --issues "$ISSUES" --window $WINDOW || exit 1

have_r() {
	command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressMessages(library(forecast))' >/dev/null 2>&1
}
if ! have_r; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "forecast: installing r-cran-forecast (Debian) for the reference run"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-forecast >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-forecast >/dev/null 2>&1; }
	fi
fi
if ! have_r; then
	echo "forecast: skipped R reference: R's forecast package is not installed and could not be"
	exit 0
fi
Rscript tests/bench/forecast_r.R "$M" "$ZONES" "$ISSUES" $WINDOW
