#!/usr/bin/python3
"""Generate the ad-hoc ML-training job list of Let's Wait Awhile, scenario II.

The protocol (../shared/reference/evaluation.md §2.2): 3,387 jobs in 2020,
submitted on weekdays between 09:00 and 16:30 UTC on a 30-min grid, with
durations of 4 h .. 89.5 h in 30-min steps, drawn from numpy's
default_rng(0) in this order:

  1. a multinomial split of the jobs over the 262 weekdays of 2020;
  2. for every calendar day in order (weekends draw zero jobs), that day's
     start minutes, chosen with replacement from {540, 570, ..., 990} and
     sorted;
  3. all durations at once, chosen from {240, 270, ..., 5370} minutes.

The output (ml_jobs.csv next to this script) is committed as a fixture so
that the C tests need no numpy; the tests derive deadlines from it.

    apt-get install -y python3-numpy && /usr/bin/python3 gen_ml_jobs.py
"""
import datetime as dt
import os

import numpy as np

N_JOBS = 3387
STARTS = np.arange(9 * 60, 17 * 60, 30)      # 540 .. 990
DURATIONS = np.arange(4 * 60, 90 * 60, 30)   # 240 .. 5370


def main():
    rng = np.random.default_rng(0)
    day0 = dt.datetime(2020, 1, 1)
    days = [day0 + dt.timedelta(days=i) for i in range(366)]
    weekdays = [d for d in days if d.weekday() < 5]
    per_weekday = rng.multinomial(N_JOBS, [1 / len(weekdays)] * len(weekdays))
    count = dict(zip(weekdays, per_weekday))
    arrivals = []
    for d in days:
        k = int(count.get(d, 0))
        for minute in np.sort(rng.choice(STARTS, size=k)):
            arrivals.append(d + dt.timedelta(minutes=int(minute)))
    durations = rng.choice(DURATIONS, size=N_JOBS)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml_jobs.csv")
    with open(out, "w") as f:
        f.write("arrival,duration_min\n")
        for a, d in zip(arrivals, durations):
            f.write(f"{a:%Y-%m-%dT%H:%M:%SZ},{int(d)}\n")
    print(f"{out}: {len(arrivals)} jobs, numpy {np.__version__}")


if __name__ == "__main__":
    main()
