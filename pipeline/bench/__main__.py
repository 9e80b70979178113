"""Run the benchmarks named on the command line (all when none is named)."""
import sys

from pipeline.suites import run_suites

raise SystemExit(run_suites("pipeline.bench", ("extract", "scale", "report"), sys.argv[1:], what="benchmark"))
