"""Rich displays of result objects in notebooks (``_repr_html_``): small escaped HTML tables."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["html_block"]

_STYLE = ("font-family: system-ui, sans-serif; font-size: 13px; border-collapse: collapse; "
          "margin: 4px 0")


def html_block(title: str, rows: Iterable[tuple[str, Any]] = (), *, lines: Sequence[str] = (),
               table: tuple[Sequence[str], Sequence[Sequence[Any]]] | None = None) -> str:
    """A titled block: key/value rows, then text lines, then an optional table (all text escaped).

    Examples
    --------
    >>> html_block("<x>", [("runs", 3)], lines=["a & b"]).count("&lt;x&gt;"), "a &amp; b" in html_block("t", lines=["a & b"])
    (1, True)
    """
    esc = html.escape
    out = [f'<div style="{_STYLE}"><div style="font-weight: 600; margin-bottom: 4px">{esc(str(title))}</div>']
    body = list(rows)
    if body:
        out.append(f'<table style="{_STYLE}">')
        for k, v in body:
            out.append(f'<tr><td style="padding: 1px 12px 1px 0; color: #555">{esc(str(k))}</td>'
                       f'<td style="padding: 1px 0">{esc(str(v))}</td></tr>')
        out.append("</table>")
    for line in lines:
        out.append(f'<div style="margin: 2px 0">{esc(str(line))}</div>')
    if table is not None:
        head, data = table
        out.append(f'<table style="{_STYLE}"><tr>' + "".join(
            f'<th style="text-align: right; padding: 2px 8px; border-bottom: 1px solid #ccc">{esc(str(h))}</th>'
            for h in head) + "</tr>")
        for row in data:
            out.append("<tr>" + "".join(f'<td style="text-align: right; padding: 1px 8px">{esc(str(c))}</td>'
                                        for c in row) + "</tr>")
        out.append("</table>")
    out.append("</div>")
    return "".join(out)
