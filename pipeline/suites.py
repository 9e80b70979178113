"""Run named sub-modules' ``main()``: the shared entry of ``pipeline.evaluate`` and ``pipeline.bench``."""
from __future__ import annotations

import importlib
import sys
from typing import Sequence


def run_suites(package: str, suites: Sequence[str], argv: Sequence[str], *, what: str) -> int:
    """Call ``package.NAME.main()`` for each name in ``argv`` (all ``suites`` when empty)."""
    names = list(argv) or list(suites)
    unknown = [n for n in names if n not in suites]
    if unknown:
        print(f"unknown {what} {unknown[0]!r}; choose from {', '.join(suites)}", file=sys.stderr)
        return 2
    for name in names:
        importlib.import_module(f"{package}.{name}").main()
    return 0
