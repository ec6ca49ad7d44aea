"""``replab reproduce``: regenerate every figure and table of the notebooks, headless."""

from __future__ import annotations

import argparse
import sys

from replab.cli._common import add_format, emit_frame


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "reproduce",
        help="run the notebooks headless; write their figures (PNG, SVG) and tables (CSV)",
        description="Execute notebooks in fresh kernels and write every figure (PNG and "
        "SVG), table (CSV) and widget image they display to OUT/<notebook>/, with a "
        "manifest.csv; prints the manifest. --html adds one HTML page per notebook and "
        "OUT/index.html.",
    )
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="notebook stems or number prefixes, e.g. 01 or 02_reproduce_pbs "
                        "(default: all)")
    p.add_argument("--out", default="out/reproduce", help="output folder (default: %(default)s)")
    p.add_argument("--small", action="store_true",
                   help="quick run: the sizes in each notebook's metadata replab.small")
    p.add_argument("--notebooks", default=None, help="notebooks folder (default: ./notebooks)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    p.add_argument("--html", action="store_true",
                   help="also write each executed notebook as an HTML page (figures inline, "
                        "offline) and OUT/index.html linking them")
    p.add_argument("--lint", action="store_true",
                   help="check every figure drawn (explorers included) with "
                        "replab.plots.lint_figure; problems go to OUT/<notebook>/lint.csv")
    add_format(p)
    p.set_defaults(run=run_reproduce)


def run_reproduce(args: argparse.Namespace) -> int:
    from replab.reproduce import reproduce

    def log(line: str) -> None:
        print(f"replab reproduce: {line}", file=sys.stderr, flush=True)

    manifest = reproduce(args.names, out=args.out, small=args.small,
                         notebooks=args.notebooks, timeout=args.timeout, log=log,
                         html=args.html, lint=args.lint)
    emit_frame(manifest, args.format, title=f"{len(manifest)} files written:")
    return 0
