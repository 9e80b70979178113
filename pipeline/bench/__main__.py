"""Run the benchmarks named on the command line (all when none is named)."""
import importlib
import sys

SUITES = ("extract", "scale", "report")


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    for name in names:
        if name not in SUITES:
            print(f"unknown benchmark {name!r}; choose from {', '.join(SUITES)}", file=sys.stderr)
            return 2
    for name in names:
        importlib.import_module(f"pipeline.bench.{name}").main()
    return 0


raise SystemExit(main(sys.argv[1:]))
