"""The block a report opens with: what was run, on what data, the numbers that matter, the checks.

A report notebook records its checks in a :class:`Checks` as it goes, then displays a
:class:`Headline` in a cell tagged ``headline`` (the renderer moves that cell right under the
title), then calls :meth:`Checks.verify` in its last cell: a failed required check stops the
report (papermill raises, nothing is written); a failed optional check (an acceptance a report was
told not to enforce, e.g. ``strict=False``) is shown as failed in the headline and the index.

The headline also carries a machine-readable record (MIME type :data:`RECORD_MIME`) that the
renderer embeds in the page and the index (``reports/index.html``) lists.

:class:`RatioBasis` states an annualised ratio with its basis: how it was annualised, over how many
observations and how long a window, its standard error, and whether the window is too short for
the figure to mean anything.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from mmlab.errors import ConfigError, MMLabError
from mmlab.reports.tables import fmt_duration, fmt_int, fmt_num

__all__ = [
    "MIN_RATIO_WINDOW_NS",
    "RECORD_MIME",
    "Check",
    "Checks",
    "ChecksFailed",
    "Figure",
    "Headline",
    "RatioBasis",
]

#: MIME type of the headline's record inside the executed notebook.
RECORD_MIME = "application/vnd.mmlab.report+json"

#: A ratio annualised from a window shorter than this (one day) is flagged as too short to mean
#: anything: its standard error is then at least sqrt(365) ~ 19 (see :class:`RatioBasis`).
MIN_RATIO_WINDOW_NS = 86_400 * 10**9

_YEAR_NS = 365 * 86_400 * 10**9


class ChecksFailed(MMLabError, AssertionError):
    """One or more required checks of a report failed (the message lists them)."""


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it held, a detail line, and whether it is required."""

    name: str
    ok: bool
    detail: str = ""
    required: bool = True

    @property
    def status(self) -> str:
        """``pass``, ``FAIL`` (required) or ``fail (not enforced)``."""
        return "pass" if self.ok else ("FAIL" if self.required else "fail (not enforced)")


class Checks:
    """The checks of one report, in order.

    Examples
    --------
    >>> c = Checks()
    >>> c.check("parts add up", abs(1.0 + 2.0 - 3.0) < 1e-12)
    True
    >>> c.check("inside >= 80 %", False, "73.8 % on SPY 2023-12-15", required=False)
    False
    >>> c.passed, c.total, [x.name for x in c.failed], c.summary()
    (1, 2, [], '1 of 2 checks passed; 1 not enforced failed')
    >>> c.verify()
    """

    def __init__(self) -> None:
        self.items: list[Check] = []

    def check(self, name: str, ok: Any, detail: str = "", required: bool = True) -> bool:
        """Record a check; ``ok`` is anything with a truth value (numpy bools included)."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"name: a check needs a name, got {name!r}")
        if any(c.name == name for c in self.items):
            raise ConfigError(f"name: check {name!r} recorded twice")
        flag = bool(ok)
        self.items.append(Check(name, flag, str(detail), bool(required)))
        return flag

    @property
    def passed(self) -> int:
        return sum(c.ok for c in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def failed(self) -> list[Check]:
        """Required checks that failed."""
        return [c for c in self.items if not c.ok and c.required]

    @property
    def not_enforced(self) -> list[Check]:
        """Optional checks that failed."""
        return [c for c in self.items if not c.ok and not c.required]

    def summary(self) -> str:
        s = f"{self.passed} of {self.total} checks passed"
        if self.failed:
            s += f"; FAILED: {', '.join(c.name for c in self.failed)}"
        if self.not_enforced:
            s += f"; {len(self.not_enforced)} not enforced failed"
        return s

    def verify(self) -> None:
        """Raise :class:`ChecksFailed` naming every failed required check."""
        if not self.items:
            raise ChecksFailed("no checks were recorded")
        if self.failed:
            lines = "; ".join(f"{c.name}" + (f" ({c.detail})" if c.detail else "") for c in self.failed)
            raise ChecksFailed(f"{len(self.failed)} of {self.total} checks failed: {lines}")

    def to_list(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "ok": c.ok, "detail": c.detail, "required": c.required} for c in self.items]

    def _repr_html_(self) -> str:
        return _checks_html(self.items)


@dataclass(frozen=True)
class Figure:
    """One number of the headline: a label, its formatted value, a note (its basis, a flag)."""

    label: str
    value: str
    note: str = ""
    flag: bool = False  # shown as a warning (e.g. a ratio over too short a window)


@dataclass(frozen=True)
class RatioBasis:
    """An annualised ratio with its basis.

    Parameters
    ----------
    name : str
        ``Sharpe`` or ``Sortino``.
    value : float
        The annualised ratio.
    observations : int
        Returns (PnL changes) it was computed from.
    period_ns : float
        Length of one period (the strategy step), ns.
    window_ns : float
        Time the observations cover, ns.
    year_ns : float
        The year it is annualised to (365 days by default, the backtest's convention).

    Notes
    -----
    The ratio is the per-period one times ``sqrt(year / period)``. Its standard error, for
    independent returns, is ``sqrt((1 + SR_p**2 / 2) / N) * sqrt(year / period)`` with ``SR_p`` the
    per-period ratio and ``N`` the observations (Lo, "The Statistics of Sharpe Ratios", Financial
    Analysts Journal 58(4), 2002); with ``N * period = window`` it is about
    ``sqrt(year / window)``: about 19 for one day, 296 for six minutes, whatever the step. A window
    shorter than :data:`MIN_RATIO_WINDOW_NS` (one day) is flagged as too short to mean anything.

    Examples
    --------
    >>> b = RatioBasis("Sharpe", 293.0, observations=3600, period_ns=1e8, window_ns=3.6e11)
    >>> round(b.annualisation), round(b.stderr), b.too_short  # sqrt(31,536,000 s / 0.1 s) = 17,758
    (17758, 296, True)
    >>> b.text()
    'annualised ×√(365 d / 100 ms) = ×17,758 from 3,600 steps of 100 ms over 6 min 0 s; s.e. ≈ 296 (iid); window too short to mean anything (< 1 day)'
    """

    name: str
    value: float
    observations: int
    period_ns: float
    window_ns: float
    year_ns: float = float(_YEAR_NS)

    def __post_init__(self) -> None:
        if not (self.period_ns > 0 and math.isfinite(self.period_ns)):
            raise ConfigError(f"period_ns: expected a positive step length, got {self.period_ns!r}")
        if self.observations < 0 or self.window_ns < 0:
            raise ConfigError("observations and window_ns must be >= 0")

    @property
    def annualisation(self) -> float:
        return math.sqrt(self.year_ns / self.period_ns)

    @property
    def stderr(self) -> float:
        """Standard error of the annualised ratio (iid returns); inf below 2 observations."""
        if self.observations < 2 or not math.isfinite(self.value):
            return math.inf
        sr_p = self.value / self.annualisation
        return math.sqrt((1 + sr_p**2 / 2) / self.observations) * self.annualisation

    @property
    def too_short(self) -> bool:
        return self.window_ns < MIN_RATIO_WINDOW_NS or self.observations < 30

    def text(self) -> str:
        year = "365 d" if self.year_ns == _YEAR_NS else fmt_duration(self.year_ns)
        s = (f"annualised \u00d7\u221a({year} / {fmt_duration(self.period_ns)}) = \u00d7{fmt_num(self.annualisation)} "
             f"from {fmt_int(self.observations)} steps of {fmt_duration(self.period_ns)} over "
             f"{fmt_duration(self.window_ns)}; s.e. \u2248 {fmt_num(self.stderr, 3)} (iid)")
        if self.too_short:
            s += "; window too short to mean anything (< 1 day)"
        return s

    def figure(self, label: str | None = None) -> Figure:
        """This ratio as a headline :class:`Figure` (flagged when too short)."""
        return Figure(label or f"{self.name} (annualised)", fmt_num(self.value, 3), self.text(), self.too_short)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": _json_num(self.value), "observations": self.observations,
                "period_ns": self.period_ns, "window_ns": self.window_ns, "stderr": _json_num(self.stderr),
                "too_short": self.too_short, "basis": self.text()}

    @classmethod
    def of_backtest(cls, result: Any, name: str = "Sharpe") -> RatioBasis:
        """The basis of a :class:`mmlab.backtest.BacktestResult`'s Sharpe (or Sortino): per-step
        PnL changes at the strategy interval, over every strategy step."""
        summary = result.summary()
        value = float(summary["sharpe" if name == "Sharpe" else "sortino"])
        steps = int(summary["steps"])
        ts = result.steps["ts"].to_numpy()
        period = float(result.params.get("interval") or 0)
        if period <= 0 and ts.size > 1:
            period = float((ts[-1] - ts[0]) / (ts.size - 1))
        window = float(ts[-1] - ts[0]) + period if ts.size else 0.0
        return cls(name, value, max(steps - 1, 0), period if period > 0 else 1.0, window)


def _json_num(x: float) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


_OK = "#1a7f37"
_BAD = "#cf222e"
_WARN = "#9a6700"


def _checks_html(items: Sequence[Check]) -> str:
    rows = []
    for c in items:
        color = _OK if c.ok else (_BAD if c.required else _WARN)
        mark = "\u2713" if c.ok else "\u2717"
        detail = f' <span style="color:#57606a">({html.escape(c.detail)})</span>' if c.detail else ""
        rows.append(f'<li style="list-style:none;margin:0.1em 0"><span style="color:{color};font-weight:bold">'
                    f"{mark} {html.escape(c.status)}</span> {html.escape(c.name)}{detail}</li>")
    return f'<ul class="mmlab-checks" style="padding-left:0.2em;margin:0.3em 0">{"".join(rows)}</ul>'


@dataclass(frozen=True)
class Headline:
    """The headline block of a report (display it in a cell tagged ``headline``).

    Parameters
    ----------
    title : str
        One line: what this report is about (``grid on binance-usdm-btcusdt-20240808``).
    ran : str
        What was run (one or two sentences).
    data : str
        On what data: names, sizes, time span.
    figures : sequence of Figure or (label, value[, note]) tuples
        The three to five numbers that matter.
    checks : Checks
        The report's checks (the headline lists them with pass / fail).
    data_hashes : mapping, optional
        Data item -> sha256 (shown shortened; the index lists them).
    notes : iterable of str
        Extra warnings shown under the figures.
    """

    title: str
    ran: str
    data: str
    figures: Sequence[Figure | tuple] = ()
    checks: Checks = field(default_factory=Checks)
    data_hashes: Mapping[str, str] = field(default_factory=dict)
    notes: Iterable[str] = ()

    def __post_init__(self) -> None:
        figs = tuple(f if isinstance(f, Figure) else Figure(*f) for f in self.figures)
        if not 1 <= len(figs) <= 6:
            raise ConfigError(f"figures: a headline shows 1 to 6 numbers, got {len(figs)}")
        object.__setattr__(self, "figures", figs)
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "data_hashes", dict(self.data_hashes))

    @property
    def figs(self) -> tuple[Figure, ...]:
        """The figures, each a :class:`Figure` (tuples are converted on construction)."""
        return cast(tuple[Figure, ...], self.figures)

    def record(self) -> dict[str, Any]:
        """The machine-readable record the renderer embeds and the index lists."""
        c = self.checks
        return {
            "title": self.title, "ran": self.ran, "data": self.data,
            "figures": [{"label": f.label, "value": f.value, "note": f.note, "flag": f.flag} for f in self.figs],
            "checks": c.to_list(), "checks_passed": c.passed, "checks_total": c.total,
            "checks_failed": len(c.failed), "checks_not_enforced": len(c.not_enforced),
            "data_hashes": dict(self.data_hashes), "notes": list(self.notes),
        }

    def _html(self) -> str:
        c = self.checks
        state = (_BAD, "checks FAILED") if c.failed else ((_WARN, "checks passed, some not enforced failed")
                                                          if c.not_enforced else (_OK, "all checks passed"))
        figs = "".join(
            '<div style="flex:1 1 180px;padding:0.4em 0.8em;border-left:3px solid '
            f'{_WARN if f.flag else "#d0d7de"}">'
            f'<div style="font-size:85%;color:#57606a">{html.escape(f.label)}</div>'
            f'<div style="font-size:150%;font-weight:600">{html.escape(f.value)}</div>'
            + (f'<div style="font-size:80%;color:{_WARN if f.flag else "#57606a"}">{html.escape(f.note)}</div>'
               if f.note else "")
            + "</div>"
            for f in self.figs
        )
        hashes = "".join(f"<li><code>{html.escape(k)}</code> sha256 <code title=\"{html.escape(v)}\">"
                         f"{html.escape(v[:12])}\u2026</code></li>" for k, v in self.data_hashes.items())
        notes = "".join(f'<li style="color:{_WARN}">{html.escape(n)}</li>' for n in self.notes)
        return (
            '<div class="mmlab-headline" style="border:1px solid #d0d7de;border-radius:6px;padding:0.8em 1em;'
            'margin:0.5em 0 1.5em 0;background:#f6f8fa">'
            f'<div style="font-size:130%;font-weight:600;margin-bottom:0.3em">{html.escape(self.title)}</div>'
            f'<div><b>Run:</b> {html.escape(self.ran)}</div>'
            f'<div><b>Data:</b> {html.escape(self.data)}</div>'
            + (f'<ul style="margin:0.2em 0;font-size:85%">{hashes}</ul>' if hashes else "")
            + f'<div style="display:flex;flex-wrap:wrap;gap:0.4em;margin:0.7em 0">{figs}</div>'
            + (f'<ul style="margin:0.2em 0">{notes}</ul>' if notes else "")
            + f'<div style="margin-top:0.4em"><b style="color:{state[0]}">{html.escape(state[1])}</b>: '
            f"{html.escape(c.summary())}</div>"
            + _checks_html(c.items)
            + "</div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/html": self._html(), "text/plain": f"{self.title}\n{self.checks.summary()}",
                RECORD_MIME: self.record()}
