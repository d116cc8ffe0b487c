"""Paper-ready output: the one column vocabulary, summaries and multi-model tables.

Every result's :meth:`~talentplan.calibrate.EstimationResults.tidy` has the columns of
:data:`TIDY_COLUMNS`: ``term``, ``estimate``, ``std_error``, ``statistic`` (estimate over
standard error), ``p_value`` (two-sided) and ``ci_lower``/``ci_upper`` (95%).

:class:`Summary` holds a result's title, header lines and tables and renders them as text,
HTML or LaTeX. :func:`compare` lays several results side by side: each coefficient's
estimate with significance stars (``*`` for ``p < 0.1``, ``**`` for ``p < 0.05``, ``***``
for ``p < 0.01`` by default, so a cell gets the stars of every threshold its p-value is
below), its standard error in parentheses beneath, then the number of observations, the
R-squared where the estimator defines one, the Hansen, Sargan and AR(2) p-values of GMM
estimators, which fixed effects each model has, the estimator's name and the dependent
variable. A statistic that cannot be computed is printed as ``n/a`` with the reason in a
note under the table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan.errors import CalibrationError

__all__ = ["TIDY_COLUMNS", "Comparison", "Summary", "compare", "latex_escape"]

#: Columns of every ``tidy()`` frame, in order.
TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    r"""Escape the characters LaTeX treats specially (``_ % & $ # { } ~ ^ \``)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _latex_tabular(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\hline"]
    lines.append(" & ".join(header) + " \\\\")
    lines.append("\\hline")
    lines += [" & ".join(r) + " \\\\" for r in rows]
    lines += ["\\hline", "\\end{tabular}"]
    return lines


@dataclass(frozen=True)
class Summary(DisplayMixin):
    """A result's summary: title, ``(key, value)`` header lines and tables.

    ``str()`` (and ``print``) give the text the results always printed; :meth:`as_html`
    and :meth:`as_latex` give the same content for a notebook or a paper.
    """

    title: str
    header: tuple[tuple[str, str], ...]
    tables: tuple[pd.DataFrame, ...] = field(repr=False)

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        return self.title, list(self.header), list(self.tables)

    def __repr__(self) -> str:
        """Return the text of the summary."""
        return str(self)

    def __contains__(self, text: object) -> bool:
        """Whether ``text`` occurs in the summary's text (``"AR(2)" in res.summary``)."""
        return isinstance(text, str) and text in str(self)

    def as_text(self) -> str:
        """Return the summary as plain text."""
        return str(self)

    def as_html(self) -> str:
        """Return the summary as an HTML fragment."""
        return self._repr_html_()

    def as_latex(self, digits: int = 4) -> str:
        """Return the summary as LaTeX: a header tabular, then one tabular per table.

        Plain ``tabular`` environments, so the text compiles in a bare ``article``.
        """
        out = [f"% {latex_escape(self.title)}"]
        if self.header:
            rows = [[latex_escape(k), latex_escape(v)] for k, v in self.header]
            out += _latex_tabular([latex_escape(self.title), ""], rows, "ll")
        for table in self.tables:
            flat = table.reset_index()
            names = [n for n in table.index.names]
            head = [
                "" if (c == "index" and names == [None]) else latex_escape(str(c))
                for c in flat.columns
            ]
            rows = [
                [
                    f"{v:.{digits}f}"
                    if isinstance(v, float | np.floating)
                    else latex_escape(str(v))
                    for v in rec
                ]
                for rec in flat.itertuples(index=False)
            ]
            out += ["", *_latex_tabular(head, rows, "l" + "r" * (len(head) - 1))]
        return "\n".join(out) + "\n"


def tidy_frame(result: Any, level: float = 0.95) -> pd.DataFrame:
    """Return one row per coefficient of ``result`` with the columns of :data:`TIDY_COLUMNS`.

    ``result`` is an :class:`~talentplan.calibrate.EstimationResults` (anything with
    ``params``, ``std_errors``, ``tstats``, ``pvalues`` and ``conf_int``).
    """
    params = result.params
    ci = result.conf_int(level)
    return pd.DataFrame(
        {
            "term": [str(p) for p in params.index],
            "estimate": np.asarray(params, dtype=float),
            "std_error": np.asarray(result.std_errors, dtype=float),
            "statistic": np.asarray(result.tstats, dtype=float),
            "p_value": np.asarray(result.pvalues, dtype=float),
            "ci_lower": np.asarray(ci.iloc[:, 0], dtype=float),
            "ci_upper": np.asarray(ci.iloc[:, 1], dtype=float),
        }
    )


def _stars(p: float, thresholds: Sequence[float]) -> str:
    if not math.isfinite(p):
        return ""
    return "*" * sum(p < t for t in thresholds)


def _label(result: Any, i: int) -> str:
    name = getattr(result, "name", None)
    return name if isinstance(name, str) and name else f"({i + 1})"


def _dependent(result: Any) -> str:
    for attr in ("dependent", "outcome"):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _estimator_name(result: Any) -> str:
    name = getattr(result, "name", None)
    return name if isinstance(name, str) and name else type(result).__name__


@dataclass(frozen=True)
class Comparison:
    """Several results side by side (made by :func:`compare`).

    Attributes
    ----------
    table
        Text cells: one column per model; a MultiIndex ``(row, line)`` where ``line`` is
        ``"estimate"`` or ``"std_error"`` for a coefficient and ``""`` for the statistics
        rows (N, R-squared, GMM tests, fixed effects, estimator).
    n_coef_rows
        How many rows of :attr:`table` are coefficient lines (the rest are statistics).
    stars
        The p-value thresholds of one, two, three... stars.
    reasons
        Why a cell reads ``n/a``, one line each.
    """

    table: pd.DataFrame
    n_coef_rows: int
    stars: tuple[float, ...]
    reasons: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """Lines printed under the table: the stars' meaning and the ``n/a`` reasons."""
        legend = ", ".join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(self.stars))
        return (f"Standard errors in parentheses. {legend}", *self.reasons)

    def _labels(self) -> list[str]:
        return [row if line != "std_error" else "" for row, line in self.table.index]

    def _blocks(self) -> tuple[list[list[str]], list[list[str]]]:
        labels = self._labels()
        rows = [
            [lab, *map(str, vals)] for lab, vals in zip(labels, self.table.to_numpy(), strict=True)
        ]
        return rows[: self.n_coef_rows], rows[self.n_coef_rows :]

    def as_text(self) -> str:
        """Return the table as aligned plain text."""
        coef, stats = self._blocks()
        head = ["", *map(str, self.table.columns)]
        widths = [max(len(r[j]) for r in [head, *coef, *stats]) for j in range(len(head))]

        def fmt(r: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        lines = [rule, fmt(head), rule, *map(fmt, coef), rule, *map(fmt, stats), rule]
        return "\n".join([*lines, *self.notes])

    def __str__(self) -> str:
        """Return the table as plain text."""
        return self.as_text()

    def __repr__(self) -> str:
        """Return the table as plain text."""
        return self.as_text()

    def as_markdown(self) -> str:
        """Return the table as a GitHub-flavoured Markdown pipe table, notes below."""
        coef, stats = self._blocks()
        head = ["", *map(str, self.table.columns)]

        def fmt(r: list[str]) -> str:
            cells = (c.replace("|", "\\|").replace("*", "\\*") for c in r)
            return "| " + " | ".join(cells) + " |"

        lines = [fmt(head), "|" + "|".join([":---"] + [":---:"] * (len(head) - 1)) + "|"]
        lines += [fmt(r) for r in [*coef, *stats]]
        notes = [n.replace("*", "\\*") for n in self.notes]
        return "\n".join([*lines, "", *(f"{n}  " for n in notes)]).rstrip() + "\n"

    def as_html(self) -> str:
        """Return the table as an HTML fragment (rules between the blocks, notes below)."""
        coef, stats = self._blocks()
        esc = html.escape

        def row(r: list[str], tag: str = "td", style: str = "") -> str:
            cells = "".join(
                f"<{tag} style='text-align:{'left' if j == 0 else 'center'}'>{esc(c)}</{tag}>"
                for j, c in enumerate(r)
            )
            return f"<tr{style}>{cells}</tr>"

        top = " style='border-top:1px solid black'"
        body = [row(r) for r in coef]
        body += [row(r, style=top if i == 0 else "") for i, r in enumerate(stats)]
        head = row(["", *map(str, self.table.columns)], "th")
        notes = "".join(f"<p><small>{esc(n)}</small></p>" for n in self.notes)
        return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>{notes}"

    def _repr_html_(self) -> str:
        return self.as_html()

    def as_latex(self) -> str:
        r"""Return a plain ``tabular`` that compiles in a bare ``\documentclass{article}``.

        Stars become ``$^{***}$``, ``R²`` becomes ``$R^2$``; other text is escaped.
        """

        def cell(c: str) -> str:
            body = c.rstrip("*")
            n = len(c) - len(body)
            out = latex_escape(body)
            return out + (f"$^{{{'*' * n}}}$" if n else "")

        def label(c: str) -> str:
            return "$R^2$" if c == "R²" else latex_escape(c)

        coef, stats = self._blocks()
        k = len(self.table.columns)
        lines = [f"\\begin{{tabular}}{{l{'c' * k}}}", "\\hline"]
        lines.append(" & ".join(["", *map(latex_escape, map(str, self.table.columns))]) + " \\\\")
        lines.append("\\hline")
        lines += [" & ".join([label(r[0]), *map(cell, r[1:])]) + " \\\\" for r in coef]
        lines.append("\\hline")
        lines += [" & ".join([label(r[0]), *map(cell, r[1:])]) + " \\\\" for r in stats]
        lines.append("\\hline")
        legend = ", ".join(f"$^{{{'*' * (i + 1)}}}p<{t:g}$" for i, t in enumerate(self.stars))
        notes = [f"Standard errors in parentheses. {legend}", *map(latex_escape, self.reasons)]
        lines += [f"\\multicolumn{{{k + 1}}}{{l}}{{\\footnotesize {n}}} \\\\" for n in notes]
        lines.append("\\end{tabular}")
        return "\n".join(lines) + "\n"


def _gmm_rows(result: Any) -> dict[str, tuple[float, str]]:
    """GMM specification tests as ``{row: (p-value, reason if not finite)}``."""
    out: dict[str, tuple[float, str]] = {}
    for row, attr in (("Hansen J (p)", "hansen"), ("Sargan (p)", "sargan"), ("AR(2) (p)", "ar2")):
        test = getattr(result, attr, None)
        if test is None or not hasattr(test, "pvalue"):
            continue
        p = float(test.pvalue)
        reason = ""
        if not math.isfinite(p):
            why = getattr(test, "reason", "")
            if not (isinstance(why, str) and why):
                df = getattr(test, "df", None)
                why = (
                    "no overidentifying restrictions" if df == 0 else "the statistic is not finite"
                )
            reason = f"{row[:-4]}: {why}"
        out[row] = (p, reason)
    return out


def compare(
    *results: Any,
    names: Sequence[str] | None = None,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    digits: int = 3,
) -> Comparison:
    """Make a multi-model regression table.

    Parameters
    ----------
    *results
        The results, one per column: several results, one sequence of them, or one
        mapping from column label to result. Each needs ``params``, ``std_errors`` and
        ``nobs``; ``pvalues`` (for the stars), ``rsquared``, GMM tests (``hansen``,
        ``sargan``, ``ar2``), ``fixed_effects`` and ``dependent`` (or ``outcome``) are
        used where present.
    names
        Column labels (default: the mapping's keys, or each result's ``name``).
    stars
        p-value thresholds; a coefficient gets one star for each it is below.
    digits
        Decimals of estimates, standard errors, R-squared and p-values.

    Returns
    -------
    Comparison
        With ``table``, ``as_text()``, ``as_markdown()``, ``as_html()``, ``as_latex()``.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> a = SimpleNamespace(params=pd.Series({"x": 1.0}), std_errors=pd.Series({"x": 0.5}),
    ...                     pvalues=pd.Series({"x": 0.045}), nobs=10, name="OLS")
    >>> print(compare({"A": a}).as_text())
    --------------
                 A
    --------------
    x      1.000**
           (0.500)
    --------------
    N           10
    Model      OLS
    --------------
    Standard errors in parentheses. * p<0.1, ** p<0.05, *** p<0.01
    """
    if len(results) == 1 and isinstance(results[0], Mapping):
        mapping = results[0]
        items = list(mapping.values())
        labels = [str(k) for k in mapping]
    else:
        if len(results) == 1 and isinstance(results[0], list | tuple):
            items = list(results[0])
        else:
            items = list(results)
        labels = [_label(r, i) for i, r in enumerate(items)]
    if names is not None:
        labels = list(names)
        if len(labels) != len(items):
            raise CalibrationError(f"{len(labels)} names given for {len(items)} results.")
    if not items:
        raise CalibrationError("compare() needs at least one result.")
    for i, r in enumerate(items):
        for attr in ("params", "std_errors", "nobs"):
            if not hasattr(r, attr):
                raise CalibrationError(
                    f"Result {i + 1} ({type(r).__name__}) has no '{attr}'; compare() needs "
                    "params, std_errors and nobs."
                )
    if len(set(labels)) != len(labels):
        labels = [f"({i + 1}) {lab}" for i, lab in enumerate(labels)]
    thresholds = sorted((float(t) for t in stars), reverse=True)
    if any(not 0.0 < t < 1.0 for t in thresholds):
        raise CalibrationError(f"stars must be p-value thresholds in (0, 1), got {list(stars)}.")

    order: list[str] = []
    for r in items:
        order += [str(p) for p in r.params.index if str(p) not in order]
    cells: dict[tuple[str, str], list[str]] = {}
    for term in order:
        cells[(term, "estimate")] = []
        cells[(term, "std_error")] = []
    notes_na: list[str] = []
    deps = [_dependent(r) for r in items]
    stat_rows: dict[str, list[str]] = {"N": []}
    has_r2 = any(math.isfinite(float(getattr(r, "rsquared", math.nan))) for r in items)
    gmm = [_gmm_rows(r) for r in items]
    gmm_names = [k for k in ("Hansen J (p)", "Sargan (p)", "AR(2) (p)") if any(k in g for g in gmm)]
    fe = [dict(getattr(r, "fixed_effects", {}) or {}) for r in items]
    fe_names = [k for k in ("Entity", "Time") if any(k in f for f in fe)]
    fe_names += sorted({k for f in fe for k in f} - set(fe_names))
    if has_r2:
        stat_rows["R²"] = []
    for k in gmm_names:
        stat_rows[k] = []
    for k in fe_names:
        stat_rows[f"{k} effects"] = []
    stat_rows["Model"] = []
    if any(deps):
        stat_rows["Dependent variable"] = deps

    for r, g, f in zip(items, gmm, fe, strict=True):
        est = {str(k): float(v) for k, v in r.params.items()}
        se = {str(k): float(v) for k, v in r.std_errors.items()}
        pv_src = getattr(r, "pvalues", None)
        pv = {str(k): float(v) for k, v in pv_src.items()} if pv_src is not None else {}
        for term in order:
            if term not in est:
                cells[(term, "estimate")].append("")
                cells[(term, "std_error")].append("")
                continue
            cells[(term, "estimate")].append(
                f"{est[term]:.{digits}f}{_stars(pv.get(term, math.nan), thresholds)}"
            )
            if math.isfinite(se[term]):
                cells[(term, "std_error")].append(f"({se[term]:.{digits}f})")
            else:
                cells[(term, "std_error")].append("(n/a)")
                note = "(n/a): standard error not identified (a singular covariance)"
                if note not in notes_na:
                    notes_na.append(note)
        stat_rows["N"].append(str(int(r.nobs)))
        if has_r2:
            r2 = float(getattr(r, "rsquared", math.nan))
            stat_rows["R²"].append(f"{r2:.{digits}f}" if math.isfinite(r2) else "")
        for k in gmm_names:
            if k not in g:
                stat_rows[k].append("")
                continue
            p, reason = g[k]
            if math.isfinite(p):
                stat_rows[k].append(f"{p:.{digits}f}")
            else:
                stat_rows[k].append("n/a")
                if f"n/a: {reason}" not in notes_na:
                    notes_na.append(f"n/a: {reason}")
        for k in fe_names:
            stat_rows[f"{k} effects"].append("Yes" if f.get(k) else "No")
        stat_rows["Model"].append(_estimator_name(r))

    rows = {**cells, **{(k, ""): v for k, v in stat_rows.items()}}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=labels)
    table.index = pd.MultiIndex.from_tuples(list(rows), names=["row", "line"])
    return Comparison(
        table=table, n_coef_rows=2 * len(order), stars=tuple(thresholds), reasons=tuple(notes_na)
    )
