"""The browser benchmark's bookkeeping, without a browser: a probe's record -> one move's
row, rows -> the per-explorer summary, and the time budget."""

from __future__ import annotations

import math
import time

import pytest

from benchmarks.browser import Stopped, format_summary, summarise, within
from benchmarks.browser_page import outcome


def probe(**kw: object) -> dict[str, object]:
    base = {"input": 1000.0, "figures": [], "content": [], "busyEnd": 0, "sawBusy": False,
            "timedOut": False}
    return {**base, **kw}


def test_a_move_is_timed_from_the_input_to_the_decoded_figures() -> None:
    row = outcome(probe(figures=[1180.0, 1250.5], content=[1100.0], busyEnd=1240.0,
                        sawBusy=True))
    assert row == {"first_ms": 180.0, "done_ms": 250.5, "changed": True, "what": "figure",
                   "busy_ms": 240.0, "timed_out": False}


def test_a_table_only_move_is_timed_from_the_table() -> None:
    row = outcome(probe(content=[1090.0, 1130.0], busyEnd=1120.0, sawBusy=True))
    assert (row["what"], row["first_ms"], row["done_ms"]) == ("content", 90.0, 130.0)


def test_a_move_that_changed_nothing_has_no_time() -> None:
    row = outcome(probe(timedOut=True))
    assert row == {"first_ms": None, "done_ms": None, "changed": False, "what": None,
                   "busy_ms": None, "timed_out": True}
    # The input never reached the explorer: changes seen then are not this move's.
    assert outcome(probe(input=0, figures=[5.0]))["first_ms"] is None


def rows() -> list[dict[str, object]]:
    def row(explorer: str, what: str | None, first: float | None, done: float | None,
            errors: int = 0, timed_out: bool = False) -> dict[str, object]:
        return {"frontend": "lab", "explorer": explorer, "what": what,
                "changed": what is not None, "first_ms": first, "done_ms": done,
                "errors": errors, "timed_out": timed_out, "load1": 1.5}

    return [row("quorum", "figure", 100.0, 150.0), row("quorum", "figure", 300.0, 900.0),
            row("quorum", "content", 50.0, 60.0, errors=1),
            row("quorum", None, None, None, timed_out=True),
            row("lag", "figure", 200.0, 200.0)]


def test_summary_counts_every_kind_of_move_and_ignores_missing_times() -> None:
    summary = summarise(rows()).set_index("explorer")
    quorum = summary.loc["quorum"]
    assert (quorum.moves, quorum.figure, quorum.content_only, quorum.no_change,
            quorum.timed_out, quorum.errors) == (4, 2, 1, 1, 1, 1)
    assert quorum.first_median_ms == 100.0 and quorum.first_max_ms == 300.0
    assert quorum.done_median_ms == 150.0 and quorum.done_max_ms == 900.0
    assert list(summary.index) == ["quorum", "lag"]  # in the order measured
    assert summary.loc["lag"].done_max_ms == 200.0 and summary.loc["lag"].load1 == 1.5


def test_summary_lines_name_the_explorer_and_its_numbers() -> None:
    lines = format_summary(summarise(rows()))
    assert len(lines) == 2
    assert lines[0].startswith("lab   quorum")
    assert "redrawn median   150 max   900 ms" in lines[0]
    assert "no change 1, timed out 1, errors 1 | load 1.50" in lines[0]


def test_an_explorer_with_no_timed_move_summarises_to_nan() -> None:
    only = [r for r in rows() if r["what"] is None]
    assert math.isnan(summarise(only).done_median_ms.iloc[0])


def test_no_explorer_starts_after_the_budget() -> None:
    within(time.monotonic() + 60, "lab", "quorum")
    with pytest.raises(Stopped, match=r"time budget spent, before voila lag"):
        within(time.monotonic() - 1, "voila", "lag")
