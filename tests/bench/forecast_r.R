# forecast_r.R - the reference side of the forecasting bench: R's forecast
# package (ets and tbats) on the same issue times as bench_forecast.c.
#   Rscript forecast_r.R FILE ZONES ISSUES WINDOW_DAYS
# Prints "forecast: backtest ZONE R <model> history window MAPE96 x % t s".
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
zones <- strsplit(args[2], ",")[[1]]
issues <- strsplit(args[3], ",")[[1]]
window <- as.integer(args[4]) * 24
times <- as.POSIXct(d[[1]], tz = "UTC", format = "%Y-%m-%d %H:%M:%S")
mape96 <- function(f, a) {
  m <- 0
  for (day in 0:3) {
    i <- (day * 24 + 1):(day * 24 + 24)
    m <- m + mean(abs(f[i] - a[i]) / a[i]) * 100
  }
  m / 4
}
for (z in zones) {
  y <- d[[z]]
  for (model in c("ets", "tbats")) {
    total <- 0
    secs <- 0
    n <- 0
    for (day in issues) {
      o <- which(times == as.POSIXct(paste(day, "00:00:00"), tz = "UTC"))
      if (length(o) != 1 || o + 95 > length(y) || o <= window) next
      h <- y[(o - window):(o - 1)]
      t0 <- proc.time()[["elapsed"]]
      f <- if (model == "ets") {
        forecast(ets(ts(h, frequency = 24)), h = 96)$mean
      } else {
        forecast(tbats(msts(h, seasonal.periods = c(24, 168)), use.parallel = FALSE), h = 96)$mean
      }
      secs <- secs + proc.time()[["elapsed"]] - t0
      total <- total + mape96(as.numeric(f), y[o:(o + 95)])
      n <- n + 1
    }
    if (n > 0) {
      cat(sprintf("forecast: backtest %-12s R   %-10s history %-8s MAPE96 %6.2f %% %8.3f s\n",
                  z, model, "window", total / n, secs))
    }
  }
}
