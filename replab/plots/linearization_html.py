"""A linearizability result as one self-contained, offline HTML page (``replab check
--html``): inline SVG and a few lines of JavaScript, nothing fetched from anywhere.

Per key: a lane per process, each op a bar from invoke to completion, the linearization
points joined in order (the longest partial linearization for a key that is not
linearizable, the op that had to come next marked), and hovering an op shows the register
before and after it. Keys that are not linearizable come first.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from replab.plots.linearization import BLOCKED_COLOR, FAILING_COLOR, OP_COLORS

__all__ = ["linearization_html", "write_linearization_html"]

_WIDTH, _LEFT, _LANE, _TOP = 1100, 110, 30, 24
_ORDER = {"not linearizable": 0, "unknown": 1, "linearizable": 2}

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.verdict-not-linearizable { color: %(fail)s; } .verdict-unknown { color: #8c564b; }
svg { display: block; border: 1px solid #ddd; background: #fff; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
.op:hover { stroke: #000; stroke-width: 1.5; }
#tip { position: fixed; display: none; pointer-events: none; background: #fffff4;
       border: 1px solid #999; padding: 6px 8px; font-size: 12px; max-width: 420px;
       box-shadow: 2px 2px 6px rgba(0,0,0,.2); white-space: pre-line; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 4px; }
"""

_JS = """
const DATA = JSON.parse(document.getElementById("lin-data").textContent);
const tip = document.getElementById("tip");
function show(v) { return v === null ? "null (not found)" : JSON.stringify(v); }
document.querySelectorAll(".op").forEach(el => {
  el.addEventListener("mouseenter", () => {
    const op = DATA[el.dataset.key].ops[el.dataset.op];
    let text = `op ${op.index}` + (op.completed === null ? "" : ` \u2192 ${op.completed}`) +
      `\\nprocess ${op.process}: ${op.f} ${show(op.value)} (${op.type})`;
    if (op.rank !== null) {
      text += `\\nlinearized #${op.rank}\\nstate before: ${show(op.state_before)}` +
        `\\nstate after: ${show(op.state_after)}`;
    } else {
      text += `\\nnot in the linearization (${op.role})`;
    }
    if (op.reason) text += `\\n${op.reason}`;
    tip.textContent = text;
    tip.style.display = "block";
  });
  el.addEventListener("mousemove", e => {
    tip.style.left = (e.clientX + 14) + "px"; tip.style.top = (e.clientY + 10) + "px";
  });
  el.addEventListener("mouseleave", () => { tip.style.display = "none"; });
});
"""


def linearization_html(result: Any, title: str = "linearizability", *,
                       max_keys: int = 50, max_ops: int = 2000) -> str:
    """The page as a string. Keys that are not linearizable come first, then unknown,
    then linearizable ones; at most ``max_keys`` keys and ``max_ops`` ops a key are drawn
    (the page says when it leaves some out)."""
    keys = sorted(result.keys.values(), key=lambda kv: _ORDER[kv.verdict])
    data: dict[str, Any] = {}
    sections = []
    for n, kv in enumerate(keys[:max_keys]):
        svg, ops = _key_svg(kv, n, max_ops)
        data[str(n)] = {"key": kv.key, "ops": ops}
        sections.append(_section(kv, svg, len(ops)))
    counts = result.counts()
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    left_out = len(keys) - max_keys
    more = f"<p>{left_out} more keys not drawn.</p>" if left_out > 0 else ""
    payload = json.dumps(data, default=str).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS % {'fail': FAILING_COLOR}}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        f"<p>Model: {html.escape(result.model)}. Keys: {html.escape(summary)}.</p>"
        f"{_legend()}{''.join(sections)}{more}<div id=\"tip\"></div>"
        f"<script type=\"application/json\" id=\"lin-data\">{payload}</script>"
        f"<script>{_JS}</script></body></html>\n")


def write_linearization_html(result: Any, path: str | Path,
                             title: str = "linearizability") -> Path:
    """Write :func:`linearization_html` to ``path`` (UTF-8); return the path."""
    out = Path(path)
    out.write_text(linearization_html(result, title), encoding="utf-8")
    return out


def _section(kv: Any, svg: str, drawn: int) -> str:
    cls = "verdict-" + kv.verdict.replace(" ", "-")
    name = "the register" if kv.key is None else f"key {kv.key!r}"
    head = (f"<h2 class=\"{cls}\">{html.escape(name)}: {kv.verdict}</h2>"
            f"<p>{len(kv.ops)} operations, {kv.steps} search steps, "
            f"{kv.elapsed_s * 1e3:.1f} ms.")
    if drawn < len(kv.ops):
        head += f" The first {drawn} are drawn."
    head += "</p>"
    if kv.example is not None:
        head += f"<p class=\"witness\">{html.escape(kv.example['message'])}</p>"
    return head + svg


def _key_svg(kv: Any, n: int, max_ops: int) -> tuple[str, list[dict[str, Any]]]:
    df = kv.frame().iloc[:max_ops]
    reasons = {b["op"]: b["reason"] for b in kv.blocked}
    lanes = int(df["lane"].max()) + 1 if len(df) else 1
    x0 = float(df["start"].min()) if len(df) else 0.0
    x1 = float(df["end"].max()) if len(df) else 1.0
    scale = (_WIDTH - _LEFT - 20) / max(x1 - x0, 1.0)

    def x(pos: float) -> float:
        return round(_LEFT + (pos - x0) * scale, 2)

    def y(lane: int) -> float:
        return _TOP + lane * _LANE

    height = _TOP + lanes * _LANE + 10
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{_WIDTH}\" "
             f"height=\"{height}\" data-key=\"{n}\">"]
    for lane, proc in df.drop_duplicates("lane")[["lane", "process"]].itertuples(index=False):
        parts.append(f"<text x=\"4\" y=\"{y(lane) + 4}\">process {html.escape(str(proc))}"
                     "</text>")
    ops = []
    for row in df.to_dict("records"):
        parts.append(_bar(row, n, x, y))
        rank = None if pd.isna(row["rank"]) else int(row["rank"])
        ops.append({k: row[k] for k in ("index", "completed", "process", "f", "type", "value",
                                        "state_before", "state_after", "role")}
                   | {"rank": rank, "reason": reasons.get(row["op"])})
    placed = df.dropna(subset=["point"]).sort_values("rank")
    pts = " ".join(f"{x(p)},{y(int(lane))}" for p, lane in zip(placed["point"], placed["lane"],
                                                                strict=True))
    if pts:
        parts.append(f"<polyline class=\"order\" points=\"{pts}\" fill=\"none\" "
                     "stroke=\"#000\" stroke-opacity=\"0.55\" stroke-width=\"1\"/>")
    for p, lane, rank in zip(placed["point"], placed["lane"], placed["rank"], strict=True):
        parts.append(f"<circle class=\"point\" cx=\"{x(p)}\" cy=\"{y(int(lane))}\" r=\"3\" "
                     f"fill=\"#000\"><title>#{int(rank)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts), ops


def _bar(row: dict[str, Any], n: int, x: Any, y: Any) -> str:
    info = row["type"] == "info"
    stroke = {"failing": FAILING_COLOR, "blocked": BLOCKED_COLOR}.get(row["role"], "none")
    width = {"failing": 3, "blocked": 2}.get(row["role"], 0)
    dash = " stroke-dasharray=\"4 3\"" if info or row["role"] == "blocked" else ""
    top = y(int(row["lane"])) - _LANE * 0.28
    w = max(x(row["end"]) - x(row["start"]), 2.0)
    mark = ""
    if row["role"] == "failing":
        mark = (f"<text class=\"failing-mark\" x=\"{x(row['end']) + 3}\" "
                f"y=\"{y(int(row['lane'])) + 4}\" fill=\"{FAILING_COLOR}\">\u2716</text>")
    return (f"<rect class=\"op role-{row['role']}\" data-key=\"{n}\" data-op=\"{row['op']}\" "
            f"x=\"{x(row['start'])}\" y=\"{top:.2f}\" width=\"{w:.2f}\" "
            f"height=\"{_LANE * 0.56:.2f}\" fill=\"{OP_COLORS[row['f']]}\" "
            f"fill-opacity=\"{0.25 if info else 0.75}\" stroke=\"{stroke}\" "
            f"stroke-width=\"{width}\"{dash}/>" + mark)


def _legend() -> str:
    items = [f"<span><i class=\"swatch\" style=\"background:{c}\"></i>{f}</span>"
             for f, c in OP_COLORS.items()]
    items += ["<span><i class=\"swatch\" style=\"background:#ccc\"></i>pale, dashed: "
              "outcome unknown (info)</span>",
              "<span>\u25cf joined: linearization points, in order</span>",
              f"<span style=\"color:{FAILING_COLOR}\">\u2716 had to take effect next, could "
              "not</span>",
              f"<span style=\"color:{BLOCKED_COLOR}\">dashed outline: could come next, could "
              "not take effect</span>"]
    return "<p class=\"legend\">" + "".join(items) + "</p>"
