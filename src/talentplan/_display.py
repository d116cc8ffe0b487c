"""One mixin that renders result objects as text and HTML.

A result class implements ``_summary_tables`` returning a title, a list of
``(key, value)`` header pairs and a list of pandas DataFrames; ``__str__`` and
``_repr_html_`` render them the same way for every result in the package.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class DisplayMixin:
    """Text and HTML rendering shared by every results object."""

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        raise NotImplementedError

    def __str__(self) -> str:
        title, header, tables = self._summary_tables()
        width = max([len(title), *(len(k) + len(v) + 3 for k, v in header)], default=40)
        lines = [title, "=" * width]
        lines += [f"{k}: {v}" for k, v in header]
        for table in tables:
            lines += ["", table.to_string()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        title, header, tables = self._summary_tables()
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in header
        )
        parts = [f"<h4>{html.escape(title)}</h4>", f"<table>{rows}</table>"]
        parts += [t.to_html(float_format=lambda x: f"{x:.6g}") for t in tables]
        return "\n".join(parts)
