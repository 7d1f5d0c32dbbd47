# tests/bench/forecast.sh - fragment of 'make bench' (sourced by run.sh, so
# it never exits; runnable alone too: sh tests/bench/forecast.sh):
#   1. fit + 96 h forecast of every model for all 123 zones of the 2022
#      Electricity Maps matrix, seconds (goal: ensemble < 1 s on one core);
#   2. the same 96 h backtest (weekly issue times in October 2022) on three
#      zones with our models and with R's forecast package (ets, tbats),
#      accuracy and time side by side.  R gets a 28-day history window
#      (longer windows take minutes per fit); our models are shown both
#      with all history and with the same window.
# R's forecast package is installed here with apt when missing (Debian
# r-cran-forecast; the bench only - the service never needs R).  A part
# that cannot run says why and is skipped.
fc_b=${B:-build}
fc_m="${CARBONSCHED_SHARED_DATA:-../shared/data}/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv"
fc_zones=${FORECAST_BENCH_ZONES:-DE,US-CAL-CISO,GB}
fc_issues=${FORECAST_BENCH_ISSUES:-2022-10-03,2022-10-10,2022-10-17,2022-10-24}
fc_window=28

fc_have_r() {
	command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressMessages(library(forecast))' >/dev/null 2>&1
}

if [ ! -r "$fc_m" ]; then
	echo "forecast: skipped: $fc_m is absent (shared data)"
elif [ ! -x "$fc_b/bench/bench_forecast" ]; then
	echo "forecast: skipped: $fc_b/bench/bench_forecast is not built"
else
	"$fc_b/bench/bench_forecast" "$fc_m"
	"$fc_b/bench/bench_forecast" "$fc_m" --backtest "$fc_zones" --issues "$fc_issues" --window $fc_window
	if ! fc_have_r && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "forecast: installing r-cran-forecast (Debian) for the reference run"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-forecast >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-forecast >/dev/null 2>&1; }
	fi
	if fc_have_r; then
		Rscript tests/bench/forecast_r.R "$fc_m" "$fc_zones" "$fc_issues" $fc_window
	else
		echo "forecast: skipped the R reference: R's forecast package is not installed and could not be"
	fi
fi
