"""The computations of the vol-surface inspector (no Panel, no browser).

Every function takes the *file name* of a shipped option chain (``data/options/``, see
:func:`chain_names`) and, where it matters, an expiry label and a flat rate.  The chain is loaded
with :func:`mmlab.data.load_option_chain`, analysed with :func:`mmlab.surface.analyze_chain` and
fitted with :func:`mmlab.surface.fit_surface` (raw SVI per expiry, arbitrage repair) once per
``(chain, rate)``: the result is cached (:func:`fitted_chain`), since a whole CBOE chain takes
seconds to fit.

Conventions
-----------
* **Expiry labels** are ``"<root> <YYYY-MM-DD HH:MM>"`` in UTC, e.g. ``"SPXW 2023-09-15 20:00"``:
  SPX (AM-settled) and SPXW (PM-settled) options of one date are different expiries.  Only the
  expiries the surface fitted are offered (:func:`expiry_labels`).
* **Rate**: a flat, continuously compounded rate (ACT/365F) discounting every expiry.  Default
  (:func:`default_rate`): for the CBOE chains the SOFR fixing of the quote date (or the last
  before it) from the shipped FRED file, converted from simple ACT/360 overnight to continuous
  ACT/365F, ``r = 365 ln(1 + SOFR/360)``; for Deribit 0 (Deribit marks its options undiscounted,
  see :mod:`mmlab.surface._chain`).
* Vols are decimals (0.20 = 20 vol points); ``k = ln(K/F)`` with ``F`` the expiry's forward.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from mmlab._paths import shipped
from mmlab.dashboards._format import MISSING, is_missing
from mmlab.errors import ConfigError

__all__ = [
    "DEFAULT_CHAIN",
    "MIN_DEFAULT_QUOTES",
    "MODELS",
    "arbitrage_table",
    "bound_flags",
    "default_expiry",
    "chain_names",
    "default_rate",
    "density_frame",
    "expiry_labels",
    "fit_report",
    "fit_report_table",
    "fitted_chain",
    "greeks_by_strike",
    "parse_expiry_label",
    "smile_fit_curve",
    "smile_frame",
    "smile_summary",
    "surface_grid",
    "term_structure",
]

#: The inspector's default chain: the small Deribit file (326 contracts) renders fastest.
DEFAULT_CHAIN = "deribit_btc_2020-05-21.csv"

#: Surface models offered (:func:`mmlab.surface.fit_surface`).
MODELS = ("svi", "ssvi")

#: Quotes used by the SVI fit have ``|delta| >= FIT_MIN_ABS_DELTA`` (fit_surface's default).
FIT_MIN_ABS_DELTA = 0.1

#: The inspector opens on the first expiry with at least this many fitted quotes (and a day to go).
MIN_DEFAULT_QUOTES = 10

#: ... and at least this long to expiry (years, ACT/365F: one day), so it never opens on a 0DTE.
MIN_DEFAULT_T = 1.0 / 365.0

#: Raw SVI's edges: ``|rho| <= 1``, ``b >= 0`` and wing slopes ``b (1 +- rho) <= 4`` (Roger Lee's
#: moment bound, enforced by the quasi-explicit fit); a fit within this tolerance sits on one.
BOUND_TOL = 1e-6


def chain_names() -> list[str]:
    """File names of the shipped option chains (``data/options/*.csv``), sorted.

    Examples
    --------
    >>> "cboe_spx_2023-09-14.csv" in chain_names() and DEFAULT_CHAIN in chain_names()
    True
    """
    return sorted(p.name for p in shipped("options").glob("*.csv"))


def _check_chain(chain_name: str) -> str:
    names = chain_names()
    if chain_name not in names:
        raise ConfigError(f"chain_name: no shipped option chain {chain_name!r} (available: {names})")
    return chain_name


@functools.lru_cache(maxsize=1)
def _sofr() -> pd.DataFrame:
    from mmlab.data import load_sofr

    return load_sofr(shipped("rates", "sofr_fixings_2018-2025.csv"))


def default_rate(chain_name: str) -> float:
    """The flat continuously compounded rate used for a chain when none is given (module notes).

    Examples
    --------
    SOFR fixed at 5.30 % on 2023-09-14 (FRED series SOFR, the shipped file):

    >>> round(default_rate("cboe_spx_2023-09-14.csv"), 6)  # 365 ln(1 + 0.053/360)
    0.053732
    >>> default_rate("deribit_btc_2020-05-21.csv")
    0.0
    """
    _check_chain(chain_name)
    if chain_name.startswith("deribit"):
        return 0.0
    day = pd.Timestamp(chain_name.rsplit("_", 1)[1].removesuffix(".csv"))
    s = _sofr()["sofr"]
    s = s[pd.DatetimeIndex(s.index) <= day]
    if s.empty:
        raise ConfigError(f"chain_name: no SOFR fixing on or before {day.date()} for {chain_name!r}")
    from mmlab.rates import sofr_to_continuous

    return sofr_to_continuous(float(s.iloc[-1]))


def _resolve_rate(chain_name: str, rate) -> float:
    if rate is None:
        return default_rate(chain_name)
    r = float(rate)
    if not (math.isfinite(r) and -0.2 < r < 1.0):
        raise ConfigError(f"rate: a flat continuously compounded rate in (-0.2, 1), got {rate!r}")
    return r


@functools.lru_cache(maxsize=8)
def _fit(chain_name: str, rate: float, model: str):
    from mmlab.data import load_option_chain
    from mmlab.surface import analyze_chain, fit_surface

    chain = load_option_chain(shipped("options", chain_name))
    analytics = analyze_chain(chain, discount=rate)
    surface = fit_surface(analytics, model=model, min_abs_delta=FIT_MIN_ABS_DELTA)
    return analytics, surface


def fitted_chain(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi"):
    """``(ChainAnalytics, VolSurface)`` of a shipped chain, computed once per ``(chain, rate, model)``.

    ``model`` is ``'svi'`` (raw SVI per expiry with arbitrage repair, the default) or ``'ssvi'``
    (one global SSVI surface, arbitrage-free by construction but far stiffer: compare their fit
    reports). Every function of this module takes it as a keyword.

    Raises
    ------
    ConfigError
        Unknown chain, bad rate, unknown model.
    """
    _check_chain(chain_name)
    if model not in MODELS:
        raise ConfigError(f"model: expected one of {MODELS}, got {model!r}")
    return _fit(chain_name, _resolve_rate(chain_name, rate), model)


def _label(root: str, expiry: pd.Timestamp) -> str:
    return f"{root} {pd.Timestamp(expiry).tz_convert('UTC'):%Y-%m-%d %H:%M}"


def parse_expiry_label(label: str) -> tuple[str, pd.Timestamp]:
    """``(root, expiry instant)`` of an expiry label.

    Examples
    --------
    >>> parse_expiry_label("SPXW 2023-09-15 20:00")
    ('SPXW', Timestamp('2023-09-15 20:00:00+0000', tz='UTC'))
    """
    parts = str(label).split(" ", 1)
    try:
        if len(parts) != 2:
            raise ValueError
        return parts[0], pd.Timestamp(parts[1], tz="UTC")
    except ValueError:
        raise ConfigError(f"expiry: expected '<root> <YYYY-MM-DD HH:MM>', got {label!r}") from None


def expiry_labels(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> list[str]:
    """Labels of the fitted expiries, shortest first.

    Examples
    --------
    >>> expiry_labels()[:2]
    ['BTC 2020-05-23 08:00', 'BTC 2020-05-29 08:00']
    """
    _, surf = fitted_chain(chain_name, rate, model)
    return [_label(s.root, s.expiry) for s in surf.slices]


def default_expiry(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> str:
    """The expiry the inspector opens on: the shortest fitted one with at least
    :data:`MIN_DEFAULT_QUOTES` quotes in its fit and at least :data:`MIN_DEFAULT_T` to expiry (a
    thin same-day smile is a poor first view); if none qualifies, the one with the most quotes.

    Examples
    --------
    SPX of 2023-09-14: the AM-settled SPX of the 15th (10 quotes, 17 hours) and the SPXW of the
    15th (23.5 hours) are skipped:

    >>> default_expiry("cboe_spx_2023-09-14.csv")
    'SPXW 2023-09-18 20:00'
    >>> default_expiry()  # Deribit: the 23 May weekly, 11 quotes and 33 hours to go
    'BTC 2020-05-23 08:00'
    """
    rep = fit_report(chain_name, rate, model)
    rep = rep[rep["status"] == "fitted"]
    ok = rep[(rep["n"] >= MIN_DEFAULT_QUOTES) & (rep["T"] >= MIN_DEFAULT_T)]
    if len(ok):
        return str(ok["expiry_label"].iloc[0])
    return str(rep.loc[rep["n"].idxmax(), "expiry_label"])


def bound_flags(a: float, b: float, rho: float, m: float, sigma: float) -> str:
    """Which edges of the raw SVI parameter space a fit sits on, as text (``""`` if none).

    A fit at a bound did not find an interior optimum: the optimiser was stopped by the edge
    (``rho = -1``: the smile's left wing is a straight line in total variance and the right wing
    is flat; ``b = 0``: a flat smile; a wing slope of 4: Roger Lee's bound).

    Examples
    --------
    >>> bound_flags(0.0006, 0.0053, -1.0, 0.024, 0.012)
    'rho = -1'
    >>> bound_flags(0.02, 0.15, -0.6, 0.02, 0.12)
    ''
    >>> bound_flags(0.02, 2.5, 0.6, 0.0, 0.1)
    'wing slope b(1 + rho) = 4'
    """
    vals = (a, b, rho, m, sigma)
    if any(v is None or not math.isfinite(float(v)) for v in vals):
        return ""
    out = []
    if abs(rho) >= 1.0 - BOUND_TOL:
        out.append(f"rho = {'-' if rho < 0 else '+'}1")
    if b <= BOUND_TOL * 1e-3:
        out.append("b = 0")
    if b * (1.0 + rho) >= 4.0 - BOUND_TOL:
        out.append("wing slope b(1 + rho) = 4")
    if b * (1.0 - rho) >= 4.0 - BOUND_TOL:
        out.append("wing slope b(1 - rho) = 4")
    return ", ".join(out)


def _slice(chain_name: str, expiry: str | None, rate, model: str = "svi"):
    an, surf = fitted_chain(chain_name, rate, model)
    if expiry is None:
        expiry = default_expiry(chain_name, rate, model)
    root, ts = parse_expiry_label(expiry)
    for s in surf.slices:
        if s.root == root and s.expiry == ts:
            return an, surf, s
    raise ConfigError(f"expiry: {expiry!r} is not a fitted expiry of {chain_name} (see expiry_labels)")


def smile_frame(chain_name: str = DEFAULT_CHAIN, expiry: str | None = None, rate: float | None = None,
                model: str = "svi") -> pd.DataFrame:  # fmt: skip
    """The quotes of one expiry with the fitted SVI vol at each strike.

    The usable out-of-the-money quotes (two-sided, passing the chain filters, both vols solved:
    :meth:`ChainAnalytics.smile`), one row per strike.

    Parameters
    ----------
    chain_name : str
        A shipped chain file name.
    expiry : str, optional
        An expiry label (default: :func:`default_expiry`).
    rate : float, optional
        Flat rate (default :func:`default_rate`).
    model : {'svi', 'ssvi'}
        Surface model (:func:`fitted_chain`).

    Returns
    -------
    pandas.DataFrame
        ``strike, right, k, bid_iv, mid_iv, ask_iv, fit_iv, in_fit, inside, delta, vega, t,
        forward``: ``in_fit`` marks the quotes the fit used (``|delta| >= 0.1``), ``inside``
        whether ``fit_iv`` lies in ``[bid_iv, ask_iv]``.

    Examples
    --------
    >>> s = smile_frame(DEFAULT_CHAIN, "BTC 2020-06-26 08:00")
    >>> bool((s["bid_iv"] <= s["mid_iv"]).all() and (s["mid_iv"] <= s["ask_iv"]).all())
    True
    """
    an, _, sl = _slice(chain_name, expiry, rate, model)
    s = an.smile(sl.root, sl.expiry)
    s["fit_iv"] = np.asarray(sl.params.implied_vol(s["k"].to_numpy(), sl.T), dtype=float)
    s["in_fit"] = s["delta"].abs() >= FIT_MIN_ABS_DELTA
    s["inside"] = (s["fit_iv"] >= s["bid_iv"] - 1e-9) & (s["fit_iv"] <= s["ask_iv"] + 1e-9)
    cols = ["strike", "right", "k", "bid_iv", "mid_iv", "ask_iv", "fit_iv", "in_fit", "inside",
            "delta", "vega", "t", "forward"]  # fmt: skip
    return s[cols]


def smile_fit_curve(chain_name: str = DEFAULT_CHAIN, expiry: str | None = None, rate: float | None = None,
                    n: int = 201, model: str = "svi") -> pd.DataFrame:  # fmt: skip
    """The fitted SVI smile of one expiry on ``n`` points over its checked domain.

    Returns ``k, strike, fit_iv`` (``strike = F e^k``).
    """
    if not (isinstance(n, int) and 2 <= n <= 10_000):
        raise ConfigError(f"n: an int in [2, 10000], got {n!r}")
    _, _, sl = _slice(chain_name, expiry, rate, model)
    k = np.linspace(sl.k_lo, sl.k_hi, n)
    return pd.DataFrame({"k": k, "strike": sl.forward * np.exp(k),
                         "fit_iv": np.asarray(sl.params.implied_vol(k, sl.T), dtype=float)})  # fmt: skip


def density_frame(chain_name: str = DEFAULT_CHAIN, expiry: str | None = None, rate: float | None = None,
                  n: int = 201, model: str = "svi") -> pd.DataFrame:  # fmt: skip
    """Gatheral's butterfly function ``g(k)`` of the fitted slice over its domain (``k, strike, g``).

    ``g >= 0`` everywhere means no butterfly arbitrage (Gatheral & Jacquier 2014, sec. 2).
    """
    from mmlab.surface import svi_density_g

    curve = smile_fit_curve(chain_name, expiry, rate, n, model)
    _, _, sl = _slice(chain_name, expiry, rate, model)
    g = np.asarray(svi_density_g(curve["k"].to_numpy(), *sl.params.as_tuple()), dtype=float)
    return curve[["k", "strike"]].assign(g=g)


def fit_report(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> pd.DataFrame:
    """The surface's per-expiry fit report (:meth:`VolSurface.report`) with an ``expiry_label``
    column first; ``rmse``/``max_abs_err`` in vol units (0.01 = 1 vol point), ``inside`` the
    share of fitted vols inside the bid-ask vol interval."""
    _, surf = fitted_chain(chain_name, rate, model)
    rep = surf.report()
    rep.insert(0, "expiry_label", [_label(r, e) for r, e in zip(rep["root"], rep["expiry"], strict=True)])
    rep["at_bound"] = [bound_flags(*(float(x) for x in row)) if st == "fitted" else ""
                       for st, row in zip(rep["status"], rep[["a", "b", "rho", "m", "sigma"]].to_numpy(), strict=True)]  # fmt: skip
    return rep


def _pct(x, digits: int = 0) -> str:
    return MISSING if is_missing(x) else f"{100 * float(x):.{digits}f} %"


def _vol_pts(x) -> str:
    return MISSING if is_missing(x) else f"{100 * float(x):.2f}"


def _yes_no(x, bad: str) -> str:
    return MISSING if is_missing(x) else ("ok" if bool(x) else bad)


def fit_report_table(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> pd.DataFrame:
    """:func:`fit_report` as a reader sees it: text cells, days to expiry, errors in vol points,
    shares in percent, ``ok`` or the failure, the parameter bound a fit sits on; an em dash where a
    value does not exist (an expiry not fitted has no RMSE), never ``NaN`` or ``<NA>``.

    Examples
    --------
    >>> t = fit_report_table()
    >>> t.iloc[0].tolist()  # the 22 May daily: 3 usable quotes, not fitted
    ['BTC 2020-05-22 08:00', '0.36', 'too few points', '3', '—', '—', '—', '—', '—', '—', '']
    >>> t.iloc[1, :6].tolist()
    ['BTC 2020-05-23 08:00', '1.36', 'fitted', '11', '0.86', '1.99']
    """
    rep = fit_report(chain_name, rate, model)
    out = pd.DataFrame({
        "expiry (UTC)": rep["expiry_label"],
        "days": [MISSING if is_missing(t) else f"{365.0 * float(t):.2f}" for t in rep["T"]],
        "status": rep["status"].astype(str).str.replace("_", " "),
        "quotes": [MISSING if is_missing(n) else f"{int(n):,}" for n in rep["n"]],
        "RMSE (vol pts)": [_vol_pts(x) for x in rep["rmse"]],
        "max error (vol pts)": [_vol_pts(x) for x in rep["max_abs_err"]],
        "inside bid-ask": [_pct(x) for x in rep["inside"]],
        "butterfly": [_yes_no(x, "ARBITRAGE") for x in rep["butterfly_ok"]],
        "calendar": [_yes_no(x, "ARBITRAGE") for x in rep["calendar_ok"]],
        "repaired": [MISSING if is_missing(x) else ("yes" if bool(x) else "no") for x in rep["repaired"]],
        "at a bound": rep["at_bound"],
    })  # fmt: skip
    return out


def arbitrage_table(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> pd.DataFrame:
    """Per fitted expiry: butterfly and calendar flags, ``min_g``, ``min_calendar_gap``, repaired."""
    rep = fit_report(chain_name, rate, model)
    rep = rep[rep["status"] == "fitted"]
    cols = ["expiry_label", "T", "butterfly_ok", "min_g", "calendar_ok", "min_calendar_gap", "repaired"]
    return rep[cols].reset_index(drop=True)


def term_structure(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, model: str = "svi") -> pd.DataFrame:
    """ATM term structure over the fitted expiries.

    Returns
    -------
    pandas.DataFrame
        ``expiry_label, root, expiry, T, forward, atm_iv_market`` (the chain analytics' ATM mid
        vol), ``atm_iv_fit`` (``sqrt(w(0)/T)`` of the fitted slice, ``k = 0`` is ``K = F``),
        ``atm_total_variance`` (``w(0)``; non-decreasing in ``T`` when the surface is free of
        calendar arbitrage), ``n`` quotes fitted.

    Examples
    --------
    >>> ts = term_structure()
    >>> bool((ts["atm_iv_fit"] > 0).all() and ts["atm_total_variance"].is_monotonic_increasing)
    True
    """
    an, surf = fitted_chain(chain_name, rate, model)
    ex = an.expiries.set_index(["root", "expiry"])
    rep = surf.report().set_index(["root", "expiry"])
    rows = []
    for s in surf.slices:
        w0 = float(s.params.total_variance(0.0))
        rows.append({
            "expiry_label": _label(s.root, s.expiry), "root": s.root, "expiry": s.expiry, "T": s.T,
            "forward": s.forward, "atm_iv_market": float(ex.loc[(s.root, s.expiry), "atm_iv"]),
            "atm_iv_fit": math.sqrt(w0 / s.T) if w0 > 0 else float("nan"), "atm_total_variance": w0,
            "n": int(rep.loc[(s.root, s.expiry), "n"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def surface_grid(chain_name: str = DEFAULT_CHAIN, rate: float | None = None, n_k: int = 41,
                 extrapolate: bool = False, model: str = "svi") -> pd.DataFrame:  # fmt: skip
    """Implied vol over log-moneyness and the fitted expiries, long format for a heatmap.

    The ``k`` grid spans ``n_k`` points across the union of the slices' domains.  Cells outside
    a slice's own domain (the fitted range plus its margin) are NaN unless ``extrapolate``: a
    short expiry fitted on a narrow range says nothing about far strikes.

    Returns
    -------
    pandas.DataFrame
        ``expiry_label, T, k, iv`` (``iv = VolSurface.iv_k(k, T)`` where defined).

    Examples
    --------
    >>> g = surface_grid(n_k=11)
    >>> len(g) == 11 * len(expiry_labels()) and bool((g["iv"].dropna() > 0).all())
    True
    """
    if not (isinstance(n_k, int) and 2 <= n_k <= 1000):
        raise ConfigError(f"n_k: an int in [2, 1000], got {n_k!r}")
    _, surf = fitted_chain(chain_name, rate, model)
    lo = min(s.k_lo for s in surf.slices)
    hi = max(s.k_hi for s in surf.slices)
    k = np.linspace(lo, hi, n_k)
    frames = []
    for s in surf.slices:
        iv = np.asarray(surf.iv_k(k, np.full_like(k, s.T)), dtype=float)
        if not extrapolate:
            iv = np.where((k >= s.k_lo - 1e-12) & (k <= s.k_hi + 1e-12), iv, np.nan)
        frames.append(pd.DataFrame({"expiry_label": _label(s.root, s.expiry), "T": s.T, "k": k, "iv": iv}))
    return pd.concat(frames, ignore_index=True)


def greeks_by_strike(chain_name: str = DEFAULT_CHAIN, expiry: str | None = None,
                     rate: float | None = None, model: str = "svi") -> pd.DataFrame:  # fmt: skip
    """Black-76 Greeks at the mid vol of every usable call and put of one expiry.

    Units as in :mod:`mmlab.surface._chain`: ``delta`` (dV/dF), ``gamma``, ``vega`` (per 1.00
    vol), ``theta`` (per year) per unit of underlying in USD; per contract in dollars
    ``dollar_delta`` (USD of underlying), ``dollar_gamma`` (change of dollar delta per 1 % move),
    ``dollar_vega`` (per vol point), ``dollar_theta`` (per calendar day).

    Returns
    -------
    pandas.DataFrame
        ``strike, right, mid_iv, delta, gamma, vega, theta, dollar_delta, dollar_gamma,
        dollar_vega, dollar_theta``, sorted by right then strike.
    """
    an, _, sl = _slice(chain_name, expiry, rate, model)
    q = an.quotes
    sel = (q["root"] == sl.root) & (q["expiry"] == sl.expiry) & (q["reason"] == "ok") & np.isfinite(q["mid_iv"])
    cols = ["strike", "right", "mid_iv", "delta", "gamma", "vega", "theta",
            "dollar_delta", "dollar_gamma", "dollar_vega", "dollar_theta"]  # fmt: skip
    return q.loc[sel, cols].sort_values(["right", "strike"]).reset_index(drop=True)


def smile_summary(chain_name: str = DEFAULT_CHAIN, expiry: str | None = None, rate: float | None = None,
                  model: str = "svi") -> str:
    """A Markdown paragraph on one expiry's fit: forward, ``T``, quotes, RMSE, inside share, flags.

    Examples
    --------
    >>> print(smile_summary(DEFAULT_CHAIN, "BTC 2020-06-26 08:00").splitlines()[0])
    **BTC 2020-06-26 08:00** (deribit_btc_2020-05-21.csv)
    """
    _, _, sl = _slice(chain_name, expiry, rate, model)
    rep = fit_report(chain_name, rate, model)
    r = rep[rep["expiry_label"] == _label(sl.root, sl.expiry)].iloc[0]
    p = sl.params
    bf = "no butterfly arbitrage" if bool(r["butterfly_ok"]) else f"BUTTERFLY ARBITRAGE (min g {r['min_g']:.3g})"
    cal = "no calendar arbitrage" if bool(r["calendar_ok"]) else f"CALENDAR ARBITRAGE (gap {r['min_calendar_gap']:.3g})"
    flags = f"{bf}, {cal}"
    if bool(r["repaired"]):
        flags += " (slice repaired)"
    if r["at_bound"]:
        flags += f"; **AT A PARAMETER BOUND: {r['at_bound']}**"
    return (
        f"**{_label(sl.root, sl.expiry)}** ({chain_name})\n\n"
        f"{model.upper()} fit: T = {sl.T:.5f} y, forward {sl.forward:,.2f}, "
        f"rate {_resolve_rate(chain_name, rate):.4%}; "
        f"{int(r['n'])} quotes fitted, vol RMSE {100 * r['rmse']:.2f} vol pts, max error "
        f"{100 * r['max_abs_err']:.2f}, inside bid-ask {r['inside']:.0%}; {flags}.\n\n"
        f"raw SVI parameters of the slice: a={p.a:.5g}, b={p.b:.5g}, rho={p.rho:.4f}, m={p.m:.4f}, "
        f"sigma={p.sigma:.4f}"
    )
