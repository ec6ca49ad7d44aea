"""``replab dashboard``: serve an explorer notebook as a web app (Voilà, 127.0.0.1)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "dashboard",
        help="serve an explorer notebook as a web app with Voila on 127.0.0.1",
        description="Serve a dashboard notebook from notebooks/dashboards/ with Voila on "
        "127.0.0.1 (code hidden, widgets live). Ctrl-C stops it.",
    )
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="dashboard notebook stem (default: quorum_explorer)")
    p.add_argument("--port", type=int, default=8866, help="port (default: %(default)s)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--notebooks", default=None, help="notebooks folder (default: ./notebooks)")
    p.set_defaults(run=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    from replab.dashboard import serve

    return serve(args.name, port=args.port, open_browser=not args.no_browser,
                 notebooks=args.notebooks)
