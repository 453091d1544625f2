"""Chain analytics: parity forwards, bid/mid/ask implied vols, Greeks, ATM and quote filters.

:func:`analyze_chain` takes a table from :func:`mmlab.data.load_option_chain` and returns a
:class:`ChainAnalytics` with one row per contract (``quotes``) and one per expiry
(``expiries``).  An *expiry* is the pair ``(root, expiry instant)``: SPX (AM-settled) and SPXW
(PM-settled) options of the same date are different expiries.

Forward from put-call parity
----------------------------
European parity ``C - P = D (F - K)`` gives one forward estimate per strike with a two-sided
call and put, ``F_K = K + (C_mid - P_mid)/D``, with ``D`` the discount factor to expiry. The
estimate uses the ``n_parity`` strikes (default 8) with the smallest ``|C_mid - P_mid|`` (the
ones closest to the money, where both spreads are tightest in vol terms), drops estimates more
than 3 median absolute deviations from their median, and averages the rest with weights
``1/(spread_C + spread_P)^2``.  ``D`` comes from the ``discount`` argument; as a diagnostic, the
regression of ``C - P`` on ``K`` over the same strikes gives the market's own discount factor
(``parity_df``; ill-conditioned for short expiries, informative only).  The forward needs no
dividend assumption, which is why the CBOE files of 2022-02-04 (exported on a Saturday, no
usable underlying price) are fully usable.  With a spot ``S`` known, the carry
``ln(F/S)/t`` and the implied dividend yield ``q = r - ln(F/S)/t`` are reported.

Deribit (inverse) options
-------------------------
Premiums are in BTC.  Deribit marks its options as ``Black-76 USD price / F`` with ``F`` the
expiry's future (the file's ``underlying_price``) and no discounting, so the USD premium is
``price_BTC x F`` with that per-expiry future, and the Black-76 forward is that future
(``forward='auto'`` picks it; the parity forward is still reported).  Use ``discount=0.0`` for
Deribit to match its convention.

Implied vols and Greeks
-----------------------
Black-76 on the forward, discounting with ``D``: ``bid_iv``, ``mid_iv``, ``ask_iv`` from the
bid, mid and ask premiums (USD) through :func:`mmlab.pricing.implied_vol` (its reason code for
the mid is in ``iv_code``).  Dividends do not enter (the forward carries them).  American quotes (SPY) are
de-Americanised first (``american='auto'``): their early-exercise premium ``eep`` (USD per
unit, from a BBS tree on the escrowed price with the ``dividends`` still capturable, see
:mod:`mmlab.surface._deamericanize`) is taken out of the bid, mid and ask before the parity
forward and the vols, so the vols are American implied vols on a parity forward that holds for
European prices.  Greeks at the mid vol from
:func:`mmlab.pricing.black76_greeks`, per unit of underlying in USD: ``delta`` (dV/dF),
``gamma``, ``vega`` (per 1.00 vol), ``theta`` (per year).  Per contract, in the instrument's
quote currency (``x multiplier``, divided by ``F`` for BTC-quoted contracts): ``price_contract``,
``delta_contract`` (units of underlying, not divided by F: a delta of 0.5 BTC is 0.5 BTC),
``vega_contract``.  In dollars per contract: ``dollar_delta = delta m F`` (USD of underlying
exposure), ``dollar_gamma = gamma m F^2 / 100`` (change of dollar delta per 1 % move),
``dollar_vega = vega m / 100`` (per vol point), ``dollar_theta = theta m / 365`` (per calendar
day).  Multipliers come from the instrument master.

Filters (a ``reason`` per contract, nothing is dropped)
-------------------------------------------------------
In this order, the first that applies: ``expired`` (``t <= 0``), ``no_forward`` (no parity
pair and no vendor future), ``no_bid`` (bid 0: one-sided or no quote), ``no_ask``, ``crossed``
(ask < bid), ``stale`` (quote older than the chain's newest quote by more than
``max_age_seconds``), ``wide`` (``ask - bid > max_rel_spread x mid`` *and* more than
``wide_floor`` USD: a 0.05/0.10 quote is not "wide"), ``iv_failed`` (the
mid price has no Black-76 vol: below intrinsic or above the upper bound); otherwise ``ok``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.data import default_master
from mmlab.errors import ConfigError, DataError
from mmlab.pricing import black76_greeks, implied_vol, year_fraction
from mmlab.surface._deamericanize import EEP_STEPS, eep_crr
from mmlab.surface._forward import discount_factors, expiry_forwards, parity_forward

__all__ = ["ChainAnalytics", "ChainFilter", "analyze_chain", "parity_forward"]

_SMILE_COLS = ["strike", "right", "k", "bid_iv", "mid_iv", "ask_iv", "delta", "vega", "t", "forward"]
_SMILE_FLOAT_COLS = ["strike", "k", "bid_iv", "mid_iv", "ask_iv", "delta", "vega", "t", "forward"]

REASONS = ("ok", "expired", "no_forward", "no_bid", "no_ask", "crossed", "stale", "wide", "iv_failed")


@dataclass(frozen=True, slots=True)
class ChainFilter:
    """Quote filters of :func:`analyze_chain` (see the module notes for the order).

    Parameters
    ----------
    max_rel_spread : float, default 1.0
        A quote is ``wide`` when ``ask - bid > max_rel_spread * mid`` (1.0: the ask is more than
        three times the bid) and the spread also exceeds ``wide_floor``.
    wide_floor : float, default 0.10
        Spreads up to this many USD are never ``wide`` (two CBOE minimum ticks; BTC-quoted
        spreads are converted with the expiry's future first).
    max_age_seconds : float, default 600
        A quote older than the newest quote time of the chain by more than this is ``stale``.
    n_parity : int, default 8
        Strikes used for the parity forward.

    Examples
    --------
    >>> ChainFilter(max_rel_spread=0.5).max_rel_spread
    0.5
    """

    max_rel_spread: float = 1.0
    wide_floor: float = 0.10
    max_age_seconds: float = 600.0
    n_parity: int = 8

    def __post_init__(self) -> None:
        if not (self.max_rel_spread > 0):
            raise ConfigError(f"max_rel_spread: must be > 0, got {self.max_rel_spread!r}")
        if not (self.wide_floor >= 0):
            raise ConfigError(f"wide_floor: must be >= 0, got {self.wide_floor!r}")
        if not (self.max_age_seconds > 0):
            raise ConfigError(f"max_age_seconds: must be > 0, got {self.max_age_seconds!r}")
        if not (isinstance(self.n_parity, int) and self.n_parity >= 1):
            raise ConfigError(f"n_parity: must be an int >= 1, got {self.n_parity!r}")


def _multiplier_map(roots, master) -> dict[str, tuple[float, str]]:
    out = {}
    for root in roots:
        hits = [i for i in master if i.template and i.kind == "option" and i.symbol == root]
        if not hits:
            raise ConfigError(f"no option template for root {root!r} in the instrument master")
        out[root] = (float(hits[0].multiplier), hits[0].quote_ccy)
    return out


@dataclass(frozen=True, slots=True)
class ChainAnalytics:
    """Result of :func:`analyze_chain`.

    Attributes
    ----------
    quotes : pandas.DataFrame
        The input chain plus, per contract: ``t, discount_factor, rate, forward, k, otm, atm,
        bid_usd, ask_usd, mid_usd, eep, bid_iv, mid_iv, ask_iv, iv_code, delta, gamma, vega, theta,
        multiplier, price_contract, delta_contract, vega_contract, dollar_delta, dollar_gamma,
        dollar_vega, dollar_theta, reason`` (units in the module notes; ``eep`` is the
        early-exercise premium taken out of American premiums, 0 for European quotes).
    expiries : pandas.DataFrame
        One row per ``(root, expiry)``: ``t, forward, forward_method, forward_parity,
        forward_vendor, n_parity, parity_df, discount_factor, rate, spot, carry, div_yield,
        basis, atm_strike, atm_iv, n_quotes, n_ok``.
    """

    quotes: pd.DataFrame
    expiries: pd.DataFrame

    def smile(self, root: str, expiry) -> pd.DataFrame:
        """The fit-ready points of one expiry: out-of-the-money, ``reason == 'ok'``, both vols.

        Columns ``strike, right, k, bid_iv, mid_iv, ask_iv, delta, vega, t, forward``, sorted by
        strike.
        """
        e = pd.Timestamp(expiry)
        if e.tzinfo is None:
            e = e.tz_localize("UTC")
        q = self.quotes
        sel = (q["root"] == root) & (q["expiry"] == e) & (q["reason"] == "ok") & q["otm"]
        sel &= np.isfinite(q["bid_iv"]) & np.isfinite(q["ask_iv"])
        return q.loc[sel, _SMILE_COLS].sort_values("strike").reset_index(drop=True)

    def _smile_rows(self):
        """Row positions of every expiry's fit-ready points, sorted by strike (one pass).

        Returns ``(keys, order, bounds)``: ``keys`` the ``(root, expiry)`` pairs in order of
        first appearance, ``order`` positions into ``quotes`` grouped by key and sorted by strike
        (stable) within each group, ``bounds`` the group boundaries in ``order``.
        """
        q = self.quotes
        bid = q["bid_iv"].to_numpy(dtype=float)
        ask = q["ask_iv"].to_numpy(dtype=float)
        sel = (q["reason"] == "ok").to_numpy(dtype=bool) & q["otm"].to_numpy(dtype=bool)
        sel &= np.isfinite(bid) & np.isfinite(ask)
        pos = np.flatnonzero(sel)
        if pos.size == 0:
            return [], pos, np.zeros(1, dtype=np.int64)
        rc, roots = pd.factorize(q["root"].to_numpy(dtype=object)[pos])
        ec, exps = pd.factorize(pd.DatetimeIndex(q["expiry"].iloc[pos]).as_unit("ns").asi8)
        code = rc.astype(np.int64) * len(exps) + ec
        uniq, first = np.unique(code, return_index=True)
        rank = np.empty(uniq.size, dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)  # order of first appearance
        grp = rank[np.searchsorted(uniq, code)]
        strike = q["strike"].to_numpy(dtype=float)[pos]
        o = np.lexsort((strike, grp))
        bounds = np.concatenate([[0], np.cumsum(np.bincount(grp, minlength=uniq.size))])
        ex_col = q["expiry"]
        keys = []
        for g in range(uniq.size):
            j = pos[o[bounds[g]]]
            keys.append((q["root"].iat[j], ex_col.iat[j]))
        return keys, pos[o], bounds

    def smile_arrays(self) -> dict:
        """The fit-ready points of every expiry as NumPy arrays (the fast form of :meth:`smiles`).

        Returns
        -------
        dict
            ``{(root, expiry): {column: numpy.ndarray}}`` with the float columns ``strike, k,
            bid_iv, mid_iv, ask_iv, delta, vega, t, forward``, sorted by strike.

        Examples
        --------
        >>> from mmlab.data import load_option_chain
        >>> from mmlab._paths import shipped
        >>> an = analyze_chain(load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv")))
        >>> arrs = an.smile_arrays()
        >>> key = next(iter(arrs))
        >>> bool(np.all(np.diff(arrs[key]["strike"]) > 0))
        True
        """
        keys, rows, bounds = self._smile_rows()
        q = self.quotes
        cols = {c: q[c].to_numpy(dtype=float)[rows] for c in _SMILE_FLOAT_COLS}
        return {
            key: {c: v[bounds[g]:bounds[g + 1]] for c, v in cols.items()} for g, key in enumerate(keys)
        }

    def smiles(self) -> dict:
        """:meth:`smile` of every expiry at once: ``{(root, expiry): DataFrame}`` (one pass)."""
        keys, rows, bounds = self._smile_rows()
        sub = self.quotes[_SMILE_COLS].take(rows)
        return {
            key: sub.iloc[bounds[g]:bounds[g + 1]].reset_index(drop=True) for g, key in enumerate(keys)
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-contract table (``quotes``)."""
        return self.quotes

    def summary(self) -> pd.DataFrame:
        """Per expiry: forward, carry, ATM vol and the count of contracts per filter reason."""
        counts = self.quotes.groupby(["root", "expiry"])["reason"].value_counts().unstack(fill_value=0)
        cols = ["t", "forward", "forward_method", "spot", "carry", "div_yield", "atm_strike", "atm_iv", "n_ok"]
        base = self.expiries.set_index(["root", "expiry"])[cols]
        return base.join(counts)

    def plot(self, root: str, expiry):
        """Bid/ask vol bars and mid vols of one expiry against log-moneyness (matplotlib)."""
        import matplotlib.pyplot as plt

        s = self.smile(root, expiry)
        fig, ax = plt.subplots()
        ax.vlines(s["k"], s["bid_iv"], s["ask_iv"], color="0.6", lw=2, label="bid-ask")
        ax.plot(s["k"], s["mid_iv"], ".", label="mid")
        ax.set_xlabel("log-moneyness ln(K/F)")
        ax.set_ylabel("implied vol")
        ax.set_title(f"{root} {pd.Timestamp(expiry)}")
        ax.legend()
        return ax


def _deamericanize(is_am, mid_usd, fwd, rows, ctx, divs):
    """Early-exercise premia of the American quotes and the forwards of their European parts.

    Two passes (module notes of :mod:`mmlab.surface._deamericanize`): premium at the Black-76
    vol of the American mid on the American parity forward, forwards again from the
    premium-free mids, premium once more at the vol of the premium-free mid on that forward,
    and the final forwards from those mids.  Returns ``(forward, rows, eep)``; ``eep`` is NaN
    for American quotes without a two-sided live quote.
    """
    t, dfac, K, is_call = ctx["t"], ctx["dfac"], ctx["K"], ctx["is_call"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(t > 0, -np.log(dfac) / np.where(t > 0, t, 1.0), 0.0)
    live = is_am & ctx["two_sided"] & (t > 0) & np.isfinite(fwd) & (fwd > 0) & (mid_usd > 0)
    idx = np.flatnonzero(live)
    eep = np.where(is_am, np.nan, 0.0)
    if idx.size == 0:
        return fwd, rows, eep
    th = np.where(is_call[idx], 1.0, -1.0)
    div_t, div_amt = divs
    flag = np.where(is_call[idx], "c", "p")

    def premium(F, sig):
        out = np.empty(idx.size)
        eep_crr(th, dfac[idx] * F, K[idx], t[idx], rate[idx], sig, div_t, div_amt, EEP_STEPS, out)
        # a quote below its European value at its own vol has no vol: no premium to take out
        return np.where(np.isfinite(out), out, 0.0)

    def iv(px, F):
        return implied_vol(px, flag, F, K[idx], t[idx], rate[idx], model="black76").iv

    e0 = premium(fwd[idx], iv(mid_usd[idx], fwd[idx]))
    mid1 = mid_usd.copy()
    mid1[idx] -= e0
    fwd1, rows1 = expiry_forwards(mid1, **ctx)
    e1 = premium(fwd1[idx], iv(mid1[idx], fwd1[idx]))
    mid2 = mid_usd.copy()
    mid2[idx] -= e1
    fwd2, rows2 = expiry_forwards(mid2, **ctx)
    eep[idx] = e1
    return fwd2, rows2, eep


def _dividend_arrays(dividends, now_ns: int):
    """``(year fractions from now, amounts)`` of the dividends still capturable by exercise.

    A holder captures a dividend by exercising by the close (16:00 New York) of the weekday
    before the ex-date (the stock then settles cum dividend); that instant is the dividend's time
    in the tree, and dividends whose instant has passed are dropped.
    """
    if dividends is None:
        return np.empty(0), np.empty(0)
    ts, amt = [], []
    for item in dividends:
        try:
            when, amount = item
            e = pd.Timestamp(when)
            amount = float(amount)
        except (TypeError, ValueError):
            raise ConfigError(f"dividends: expected (ex-date, amount) pairs, got {item!r}") from None
        if not (math.isfinite(amount) and amount >= 0):
            raise ConfigError(f"dividends: amount must be >= 0, got {amount!r}")
        day = (e.tz_convert("America/New_York") if e.tzinfo is not None else e).normalize().tz_localize(None)
        prev = day - pd.offsets.BDay(1)
        deadline = pd.Timestamp(prev.year, prev.month, prev.day, 16, tz="America/New_York")
        ts.append(deadline.tz_convert("UTC").as_unit("ns").value)
        amt.append(amount)
    yf = np.asarray(year_fraction(np.full(len(ts), now_ns, dtype=np.int64), np.asarray(ts, dtype=np.int64)), dtype=float)
    keep = yf > 0
    return yf[keep], np.asarray(amt, dtype=float)[keep]


def analyze_chain(
    chain: pd.DataFrame,
    discount: float | Callable = 0.0,
    filters: ChainFilter | None = None,
    forward: str = "auto",
    master=None,
    american: str | bool = "auto",
    dividends=None,
) -> ChainAnalytics:
    """Forwards, implied vols, Greeks and filters of a loaded option chain.

    Parameters
    ----------
    chain : pandas.DataFrame
        A table from :func:`mmlab.data.load_option_chain`.
    discount : float or callable, default 0.0
        A flat continuously compounded rate, or a callable ``D(t)`` returning discount factors
        for an array of year fractions (a curve's ``discount``).
    filters : ChainFilter, optional
        Quote filters (defaults of :class:`ChainFilter`).
    forward : {'auto', 'parity', 'vendor'}
        Forward per expiry: from put-call parity, or the vendor's future (Deribit's
        ``underlying_price``); ``'auto'`` uses the vendor future for BTC-quoted (inverse) chains
        and parity otherwise.
    master : InstrumentMaster, optional
        Source of the multipliers (default: the shipped master).
    american : {'auto', True, False}
        De-Americanise American-style quotes (the chain's ``exercise`` column) before the
        forwards and vols (module notes, :mod:`mmlab.surface._deamericanize`); ``'auto'`` and
        ``True`` do it when the chain has American quotes, ``False`` treats every quote as
        European.
    dividends : sequence of (ex-date, amount), optional
        Cash dividends of the underlying of American quotes (ex-dates as dates; a dividend can
        be captured by exercising until the close of the weekday before); without them no
        dividend can be captured (calls carry no premium; puts are valued on the escrowed
        price, an upper bound of their premium).

    Returns
    -------
    ChainAnalytics

    Raises
    ------
    DataError
        Missing chain columns.
    ConfigError
        Bad ``discount``, ``forward`` or ``filters``.

    Examples
    --------
    >>> from mmlab.data import load_option_chain
    >>> from mmlab._paths import shipped
    >>> ch = load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv"))
    >>> res = analyze_chain(ch)
    >>> e = res.expiries.iloc[-1]
    >>> e["forward_method"], round(float(e["forward"]), 2)
    ('vendor_future', 9262.01)
    """
    filters = filters if filters is not None else ChainFilter()
    if not isinstance(filters, ChainFilter):
        raise ConfigError(f"filters: expected a ChainFilter, got {type(filters).__name__}")
    if forward not in ("auto", "parity", "vendor"):
        raise ConfigError(f"forward: expected 'auto', 'parity' or 'vendor', got {forward!r}")
    need = ["ts", "root", "expiry", "strike", "right", "bid", "ask", "underlying_px", "quote_ccy"]
    missing = [c for c in need if c not in chain.columns]
    if missing:
        raise DataError(f"chain: missing columns {missing} (use mmlab.data.load_option_chain)")
    master = master if master is not None else default_master()
    q = chain.reset_index(drop=True).copy()
    n = len(q)
    ts_ns = pd.DatetimeIndex(q["ts"]).as_unit("ns").asi8
    ex_ns = pd.DatetimeIndex(q["expiry"]).as_unit("ns").asi8
    t = np.asarray(year_fraction(ts_ns, ex_ns), dtype=float)
    q["t"] = t
    dfac = discount_factors(discount, t)
    q["discount_factor"] = dfac
    with np.errstate(divide="ignore", invalid="ignore"):
        q["rate"] = np.where(t > 0, -np.log(dfac) / np.where(t > 0, t, 1.0), np.nan)
    inverse = (q["quote_ccy"] != "USD").to_numpy()
    upx = q["underlying_px"].to_numpy(dtype=float)
    bid = q["bid"].to_numpy(dtype=float)
    ask = q["ask"].to_numpy(dtype=float)
    conv = np.where(inverse, upx, 1.0)  # BTC -> USD with the per-expiry future
    q["bid_usd"] = bid * conv
    q["ask_usd"] = ask * conv
    q["mid_usd"] = 0.5 * (bid + ask) * conv
    crossed = (bid > 0) & (ask > 0) & (ask < bid)
    two_sided = (bid > 0) & (ask > 0) & ~crossed
    newest = ts_ns.max()
    stale = (newest - ts_ns) > filters.max_age_seconds * 1e9
    if american not in ("auto", True, False):
        raise ConfigError(f"american: expected 'auto', True or False, got {american!r}")
    divs = _dividend_arrays(dividends, int(newest)) if n else (np.empty(0), np.empty(0))

    # ---------------------------------------------------------------- forwards per expiry
    K = q["strike"].to_numpy(dtype=float)
    is_call = (q["right"] == "C").to_numpy()
    mid_usd = q["mid_usd"].to_numpy()
    spr_usd = (q["ask_usd"] - q["bid_usd"]).to_numpy()
    idx_price = q["index_price"].to_numpy(dtype=float) if "index_price" in q.columns else np.full(n, np.nan)
    groups = q.groupby(["root", "expiry"], sort=True).indices
    ctx = dict(groups=groups, K=K, is_call=is_call, spr_usd=spr_usd, two_sided=two_sided, stale=stale, t=t,
               dfac=dfac, inverse=inverse, upx=upx, idx_price=idx_price, forward=forward, n_parity=filters.n_parity)
    fwd, rows = expiry_forwards(mid_usd, **ctx)

    # ---------------------------------------------------------------- American quotes
    is_am = (q["exercise"] == "american").to_numpy(dtype=bool) if "exercise" in q.columns else np.zeros(n, bool)
    eep = np.where(is_am & (american is not False), np.nan, 0.0)
    if american is not False and is_am.any():
        fwd, rows, eep = _deamericanize(is_am, mid_usd, fwd, rows, ctx, divs)
    q["eep"] = eep
    q["forward"] = fwd
    with np.errstate(divide="ignore", invalid="ignore"):
        q["k"] = np.log(K / fwd)
    q["otm"] = np.where(is_call, K >= fwd, K < fwd) & np.isfinite(fwd)

    # ---------------------------------------------------------------- implied vols
    live = (t > 0) & np.isfinite(fwd) & (fwd > 0)
    flag = np.where(is_call, "c", "p")
    for col, px in (("bid_iv", q["bid_usd"]), ("mid_iv", q["mid_usd"]), ("ask_iv", q["ask_usd"])):
        out = np.full(n, np.nan)
        code = np.full(n, -1, dtype=np.int16)
        pxv = px.to_numpy(dtype=float) - np.where(np.isfinite(eep), eep, 0.0)  # European part
        use = live & (pxv > 0)
        if use.any():
            res = implied_vol(pxv[use], flag[use], fwd[use], K[use], t[use], q["rate"].to_numpy()[use], model="black76")
            out[use] = res.iv
            code[use] = res.code
        q[col] = out
        if col == "mid_iv":
            q["iv_code"] = code
    mid_ok = np.isfinite(q["mid_iv"].to_numpy())

    # ---------------------------------------------------------------- reasons
    spread = ask - bid
    mid = 0.5 * (bid + ask)
    spread_usd = (q["ask_usd"] - q["bid_usd"]).to_numpy()
    wide = (spread > filters.max_rel_spread * mid) & ~(spread_usd <= filters.wide_floor + 1e-12)
    reason = np.full(n, "ok", dtype=object)
    conds = [
        ("iv_failed", ~mid_ok), ("wide", wide), ("stale", stale), ("crossed", crossed),
        ("no_ask", ask <= 0), ("no_bid", bid <= 0), ("no_forward", ~np.isfinite(fwd)), ("expired", t <= 0),
    ]  # fmt: skip
    for name, cond in conds:  # reverse priority: the first of REASONS that applies wins
        reason[np.asarray(cond, dtype=bool)] = name
    q["reason"] = pd.Categorical(reason, categories=list(REASONS))

    # ---------------------------------------------------------------- Greeks
    gi = np.flatnonzero(live & mid_ok)
    gr = None
    if gi.size:
        gr = black76_greeks(flag[gi], fwd[gi], K[gi], t[gi], q["rate"].to_numpy()[gi], q["mid_iv"].to_numpy()[gi])
    for g in ("delta", "gamma", "vega", "theta"):
        greek = np.full(n, np.nan)
        if gr is not None:
            greek[gi] = np.asarray(getattr(gr, g))
        q[g] = greek
    mult = _multiplier_map(q["root"].unique(), master)
    m = q["root"].map({r: v[0] for r, v in mult.items()}).to_numpy(dtype=float)
    q["multiplier"] = m
    to_ccy = np.where(inverse, 1.0 / np.where(np.isfinite(fwd), fwd, np.nan), 1.0)
    q["price_contract"] = q["mid_usd"].to_numpy() * to_ccy * m
    q["delta_contract"] = q["delta"].to_numpy() * m
    q["vega_contract"] = q["vega"].to_numpy() * to_ccy * m
    q["dollar_delta"] = q["delta"].to_numpy() * m * fwd
    q["dollar_gamma"] = q["gamma"].to_numpy() * m * fwd * fwd / 100.0
    q["dollar_vega"] = q["vega"].to_numpy() * m / 100.0
    q["dollar_theta"] = q["theta"].to_numpy() * m / 365.0

    # ---------------------------------------------------------------- ATM
    ex = pd.DataFrame(rows)
    atm = np.zeros(n, dtype=bool)
    reason_arr = q["reason"].to_numpy()
    mid_iv = q["mid_iv"].to_numpy()
    atm_k, atm_iv, n_ok, n_q = [], [], [], []
    for root, expiry, F in zip(ex["root"], ex["expiry"], ex["forward"], strict=True):
        idx = groups[(root, expiry)]
        n_q.append(len(idx))
        good = reason_arr[idx] == "ok"
        n_ok.append(int(good.sum()))
        if not np.isfinite(F):
            atm_k.append(np.nan)
            atm_iv.append(np.nan)
            continue
        strikes = np.unique(K[idx])
        ks = float(strikes[np.argmin(np.abs(strikes - F))])
        atm_k.append(ks)
        at = K[idx] == ks
        atm[idx[at]] = True
        sel = idx[at & good]
        atm_iv.append(float(mid_iv[sel].mean()) if sel.size else np.nan)
    q["atm"] = atm
    ex["atm_strike"] = atm_k
    ex["atm_iv"] = atm_iv
    ex["n_quotes"] = n_q
    ex["n_ok"] = n_ok
    ex = ex.sort_values(["expiry", "root"], kind="stable").reset_index(drop=True)
    return ChainAnalytics(q, ex)
