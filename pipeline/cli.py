"""Command line: ``python -m pipeline run|figures|orgs``.

``run`` processes files and folders into an output folder; ``figures`` and
``orgs`` read UTF-8 text on stdin and print what they find, for tools and for
checking one sentence by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Callable, NoReturn, Optional, Sequence

from pipeline import __version__


def _iso_date(value: str) -> str:
    from pipeline.extract.dates import is_iso_date
    if not is_iso_date(value):
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD, YYYY-MM or YYYY): {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Figures, organizations and themes from Chinese news.",
        epilog="exit codes of run: 0 done; 1 no article could be read; 2 a bad option, "
               "config or --themes file (nothing run); 3 with --strict, some input not read; "
               "70 the run failed (helper process, Dask engine); 74 the output cannot be "
               "written; 75 another run holds the output; 130 Ctrl-C; 143 SIGTERM")
    p.add_argument("--version", action="version", version=__version__)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="process files and folders into tables and a briefing")
    r.add_argument("--input", nargs="+", required=True, metavar="PATH",
                   help="files or folders (folders are read recursively)")
    r.add_argument("--output", required=True, metavar="DIR")
    r.add_argument("--base-date", type=_iso_date, metavar="YYYY-MM-DD",
                   help="date for documents that carry no date of their own")
    r.add_argument("--workers", type=int, default=0, metavar="N",
                   help="worker processes for per-article work (default: all cores)")
    r.add_argument("--config", metavar="FILE", help="a TOML file overriding the defaults")
    r.add_argument("--themes", metavar="FILE", help="a theme taxonomy (TOML) instead of the default")
    r.add_argument("--strict", action="store_true",
                   help="exit non-zero when any input could not be read")
    r.add_argument("--reviews", default="reviews", metavar="DIR",
                   help="folder of editors' review sheets to apply (default: reviews)")
    r.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="where per-article work runs (default: local processes)")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (default: a LocalCluster)")
    r.add_argument("--cache-dir", metavar="DIR",
                   help="folder of the per-article cache (default: OUTPUT/.cache); it keeps "
                        "the results of the last [run] cache_contexts (3) code/config "
                        "combinations used")
    r.add_argument("--no-cache", action="store_true",
                   help="redo every article's work and leave the cache alone")

    for name, helptext in (("figures", "print the figures in text read from stdin"),
                           ("orgs", "print the organization mentions in text read from stdin")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--json", action="store_true", help="one JSON object a line")
        s.add_argument("--lines", action="store_true",
                       help="every input line is a text of its own (records carry 'line')")
        if name == "figures":
            s.add_argument("--base-date", type=_iso_date, metavar="YYYY-MM-DD")
    return p


def _texts(lines_mode: bool) -> list[tuple[Optional[int], str]]:
    data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    if not lines_mode:
        return [(None, data)]
    return list(enumerate(data.split("\n")))


def _print_spans(records: list[tuple[Optional[int], object]], *, as_json: bool,
                 human: Callable[[object], str]) -> None:
    out = sys.stdout
    for line, span in records:
        row = span.to_dict()
        if line is not None:
            row["line"] = line
        if as_json:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            prefix = f"{line}:" if line is not None else ""
            out.write(prefix + human(span) + "\n")


def _cmd_figures(args) -> int:
    from pipeline.extract.figures import extract_figures
    records = []
    for line, text in _texts(args.lines):
        records.extend((line, f) for f in extract_figures(text, base_date=args.base_date))

    def human(f):
        shown = {"value": f.value, "low": f.low, "high": f.high, "unit": f.unit,
                 "qualifier": f.qualifier, "object": f.object, "date": f.date}
        extra = " ".join(f"{k}={v}" for k, v in shown.items() if v is not None)
        return f"{f.start}-{f.end}\t{f.kind}\t{f.text}\t{extra}"
    _print_spans(records, as_json=args.json, human=human)
    return 0


def _cmd_orgs(args) -> int:
    from pipeline.extract.orgs import extract_orgs
    records = []
    for line, text in _texts(args.lines):
        records.extend((line, m) for m in extract_orgs(text))
    _print_spans(records, as_json=args.json,
                 human=lambda m: f"{m.start}-{m.end}\t{m.type}\t{m.text}\t{m.canonical}")
    return 0


def _stop_on_sigterm(signum, frame):
    # Unwinds like Ctrl-C: the run discards its staging folder, the previous
    # output stays, the process exits 143 (128 + SIGTERM).
    print("stopping: SIGTERM received", file=sys.stderr)
    raise SystemExit(143)


def _cmd_run(args) -> int:
    from pipeline.atomic import OutputBusy
    from pipeline.config import load_config
    from pipeline.runner import InvalidSettings, run, summary_line
    if args.workers < 0:
        print(f"error: --workers must be 0 (all cores) or more, got {args.workers}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"error: config {args.config}: {exc}", file=sys.stderr)
        return 2
    previous_handler = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        result = run(args.input, args.output, base_date=args.base_date, workers=args.workers,
                     themes_path=args.themes, reviews_dir=args.reviews, engine=args.engine,
                     scheduler=args.scheduler, config=config, progress=True,
                     cache_dir=args.cache_dir, use_cache=not args.no_cache)
    except InvalidSettings as exc:
        # Checked before the output folder is touched: the previous output stays.
        where = f"config {args.config}: " if exc.from_config and args.config else ""
        print(f"error: {where}{exc}; nothing was run", file=sys.stderr)
        return 2
    except OutputBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except OSError as exc:
        # The output folder cannot be written (a file in its place, no space,
        # no permission); the previous output, if any, is unchanged.
        where = exc.filename or args.output
        print(f"error: cannot write the output ({where}: {exc.strerror or exc}); "
              "nothing was published", file=sys.stderr)
        return 74  # EX_IOERR
    except RuntimeError as exc:
        # The run could not finish (the table-writing helper process failed,
        # the Dask scheduler is unreachable); nothing was published.
        print(f"error: {exc}; nothing was published, the previous output in {args.output} "
              "is unchanged", file=sys.stderr)
        return 70  # EX_SOFTWARE
    except KeyboardInterrupt:
        print(f"interrupted: stopped before finishing; the previous output in {args.output} "
              "is unchanged", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    problems = [d for d in result.problems if d.status in ("failed", "skipped")]
    for d in problems:
        # Ingest messages name their file already; say it once.
        message = d.message or ""
        said = message if message.startswith(d.path) else f"{d.path}: {message}"
        print(f"warning: {said}", file=sys.stderr)
    for article_id, message in result.failures:
        print(f"warning: article {article_id}: analysis failed ({message}); "
              "kept without figures", file=sys.stderr)
    if result.recovered == "finished":
        print("note: completed the publishing of a previous run that was stopped", file=sys.stderr)
    print(summary_line(result), file=sys.stderr)
    print(f"briefing: {args.output}/briefing.html", file=sys.stderr)
    if result.n_articles == 0:
        print("error: no article could be read from the input", file=sys.stderr)
        return 1
    if args.strict and problems:
        return 3
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"run": _cmd_run, "figures": _cmd_figures, "orgs": _cmd_orgs}
    return handlers[args.command](args)


def main_process(argv: Optional[Sequence[str]] = None) -> NoReturn:
    """:func:`main` as a process of its own (``python -m pipeline``, the console script).

    When :func:`main` returns, every file a command wrote is closed and every
    helper process has ended; what would be left is the interpreter freeing
    the run's objects one by one (the dictionaries, lexicons and fonts: 0.7 s
    after the 6,720-article benchmark run), which nothing needs.  So the
    process ends there, once what it printed is flushed.
    """
    code = main(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass  # the reader went away (``| head``); nothing more can reach it
    os._exit(code)
