"""Run the evaluations named on the command line (all when none is named)."""
import importlib
import sys

SUITES = ("figures", "orgs")


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    for name in names:
        if name not in SUITES:
            print(f"unknown evaluation {name!r}; choose from {', '.join(SUITES)}", file=sys.stderr)
            return 2
    for name in names:
        importlib.import_module(f"pipeline.evaluate.{name}").main()
    return 0


raise SystemExit(main(sys.argv[1:]))
