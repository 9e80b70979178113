"""Run the evaluations named on the command line (all when none is named)."""
import sys

from pipeline.suites import run_suites

raise SystemExit(run_suites("pipeline.evaluate", ("figures", "orgs"), sys.argv[1:], what="evaluation"))
