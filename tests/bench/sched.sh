# tests/bench/sched.sh - fragment of 'make bench' (sourced by run.sh, which
# sets B, DATA, MATRIX and tmp): the placement engine and 'simulate'.
#  - bench_sched: the 123-zone temporal protocol, single placements and a
#    job array, each against a direct method measured in the same run;
#  - simulate streaming a million jobs over the matrix, against awk reading
#    the same file (the cost of the placements over the cost of the I/O).
"$B/bench/bench_sched"
if [ -f "$MATRIX" ]; then
	jobs="$tmp/sched-million.csv"
	awk 'BEGIN {
		print "id,region,submit,earliest_start,deadline,duration_min,power_kw,interruptible,allowed_regions"
		split("DE FR GB ES IT-NO PL SE-SE3 NL", z, " ")
		t0 = 1640995200 # 2022-01-01T00:00:00Z
		srand(1)
		for (i = 0; i < 1000000; i++) {
			a = t0 + int(rand() * 8600) * 3600
			printf "j%d,%s,%s,,%s,%d,1,%s,%s\n", i, z[1 + i % 8], strftime("%Y-%m-%dT%H:%M:%SZ", a, 1),
				strftime("%Y-%m-%dT%H:%M:%SZ", a + 48 * 3600, 1), 60 * (1 + i % 12),
				(i % 3 ? "false" : "true"), (i % 4 ? "" : "DE;FR;ES;SE-SE3")
		}
	}' >"$jobs"
	now_ms() { date +%s%3N; }
	t0=$(now_ms)
	awk -F, '{ n += $7 } END { if (n < 0) print n }' "$jobs"
	ref=$(($(now_ms) - t0))
	t0=$(now_ms)
	out=$("$B/carbonsched" simulate --signals "$MATRIX" --jobs "$jobs" --json) || out=""
	ours=$(($(now_ms) - t0))
	if [ -n "$out" ]; then
		awk -v o="$ours" -v r="$ref" -v out="$out" 'BEGIN {
			match(out, /"saving_pct":[-0-9.e]+/); s = substr(out, RSTART + 13, RLENGTH - 13)
			printf "sched: simulate 1,000,000 jobs (1-12 h, 48 h windows, a quarter relocatable) on the 123-zone matrix: %.2f s = %.0f jobs/s, saving %.2f %%\n", o/1000, 1e6/(o/1000), s
			printf "sched:   reference awk reading the same jobs file: %.2f s; ratio simulate/awk = %.1f\n", r/1000, o/r }'
	else
		echo "sched: simulate of a million jobs FAILED"
	fi
	rm -f "$jobs"
else
	echo "sched: simulate bench skipped: $MATRIX absent"
fi
