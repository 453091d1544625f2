"""Option-book backtest: a chain quoter and its delta hedge on a synthetic option stream.

:func:`run_option_book` quotes every option of one expiry with :class:`mmlab.quoting.ChainQuoter`
against a :class:`~mmlab.backtest.OptionStream` (options repriced from a fitted surface along an
underlying path, :func:`~mmlab.backtest.synthetic_option_stream`) and hedges the book's delta in
the underlying with :class:`mmlab.risk.DeltaHedger`, in one run.

Each path interval ``[t_i, t_{i+1})`` is one step, in this order, all at the prices of ``t_i``:

1. **quote** (every ``requote_every`` steps): the chain quoter prices every option from the
   stream's vol, with the book's positions, delta (underlying units, options and hedge) and dollar
   vega for its skews and size limits, post-only against the stream's market; quotes stand
   (stale in price) until the next requote, their size consumed by fills;
2. **fills**: the stream's market orders of the interval fill our quotes they reach (a buyer of
   depth ``D`` lifts our ask when ``ask - theo_i <= D``, a seller hits our bid when ``theo_i - bid
   <= D``), ``qty`` each, up to the size left; the maker fee of the instrument master is paid;
3. **hedge**: when ``|delta|`` exceeds the hedger's threshold the hedger's order fills at the
   underlying mid ``S_i`` plus (buy) or minus (sell) half a hedge tick, paying ``hedge_fee_bps``
   of its notional;
4. **mark**: positions are carried to ``t_{i+1}`` and marked at the stream's theos and spot.

Accounting (settlement currency, multiplier ``m``; exact by construction, tested to round-off):

* ``spread`` = ``sum s n m (theo_i - p)`` over option fills (side ``s``, ``n`` contracts at ``p``);
* ``inventory`` = ``sum_i m q_i . (theo_{i+1} - theo_i)`` (options held over each step);
* ``hedging`` = ``sum_i h_i (S_{i+1} - S_i)`` (hedge mark-to-market, ``h`` in underlying units)
  minus ``|n| tick / 2`` per hedge unit traded (its crossing cost);
* ``fees`` = option fees plus hedge fees;
* ``total = spread + inventory + hedging - fees = cash_N + m q_N . theo_N + h_N S_N`` (equity).

Per step the Greeks explain (:func:`~mmlab.backtest.greeks_pnl_explain`) splits the market move
``m q_i . dtheo + h_i dS`` into delta, gamma, vega, theta and a residual, and the trades of the
step make ``trading = spread + hedge crossing - fees``; so ``delta + gamma + vega + theta +
residual + trading`` is the step's PnL, exactly.

Scope: one expiry, European options on a spot-like underlying (the hedge is the underlying itself
or a future with ``delta_per_unit``, marked at the spot), no early exercise, the path ends before
the expiry; market orders do not move the stream's prices (no impact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.backtest.options._greeks_explain import EXPLAIN_TERMS, greeks_pnl_explain
from mmlab.backtest.options._option_stream import (
    OptionStream,
    OptionStreamConfig,
    synthetic_option_stream,
)
from mmlab.errors import ConfigError
from mmlab.quoting import check_nonnegative, check_positive

__all__ = ["OptionBookConfig", "OptionBookResult", "run_option_book"]

_PNL_PARTS = ("spread", "inventory", "hedging", "fees")


@dataclass(frozen=True, slots=True)
class OptionBookConfig:
    """Engine settings of :func:`run_option_book`.

    Parameters
    ----------
    requote_every : int
        Requote every this many steps (1: every path point).
    hedge_tick : float
        Tick of the hedge instrument: a hedge fills half a tick through the mid (SPX 0.01).
    hedge_fee_bps : float
        Hedge fee, basis points of the hedge notional (an assumed 0.1 bp).

    Examples
    --------
    >>> OptionBookConfig(requote_every=5).requote_every
    5
    >>> OptionBookConfig(requote_every=0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: requote_every: must be an integer >= 1, got 0
    """

    requote_every: int = 1
    hedge_tick: float = 0.01
    hedge_fee_bps: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.requote_every, bool) or not isinstance(self.requote_every, (int, np.integer)) \
                or self.requote_every < 1:
            raise ConfigError(f"requote_every: must be an integer >= 1, got {self.requote_every!r}")
        check_positive("hedge_tick", self.hedge_tick)
        check_nonnegative("hedge_fee_bps", self.hedge_fee_bps)


@dataclass(frozen=True)
class OptionBookResult:
    """Result of :func:`run_option_book`.

    Attributes
    ----------
    stream : OptionStream
        The option market the book traded against.
    steps : pandas.DataFrame
        One row per step (see :meth:`to_frame`).
    fills : pandas.DataFrame
        Option fills: ``ts, step, instrument, option, side (+1 bought), qty, price, theo, fee,
        spread`` (spread capture in currency).
    hedges : pandas.DataFrame
        Hedge trades: ``ts, step, side, qty (hedge units), price, mid, fee, cost`` (crossing cost).
    positions : ndarray, shape (n, m)
        Contracts held over each step (after its trades).
    hedge_position : ndarray, shape (n,)
        Hedge units held over each step.
    equity : ndarray, shape (n + 1,)
        Mark-to-market equity at each path point (0 at the start).
    bids, asks : ndarray, shape (n, m)
        Our standing quote prices in each step (NaN: side not quoted or its size used up).
    multiplier : float
    """

    stream: OptionStream
    steps: pd.DataFrame
    fills: pd.DataFrame
    hedges: pd.DataFrame
    positions: np.ndarray
    hedge_position: np.ndarray
    equity: np.ndarray
    bids: np.ndarray
    asks: np.ndarray
    multiplier: float
    delta_per_unit: float = 1.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def total(self) -> float:
        """Total PnL (settlement currency)."""
        return float(self.equity[-1])

    def pnl_parts(self) -> dict:
        """``spread``, ``inventory``, ``hedging``, ``fees`` and ``total = spread + inventory +
        hedging - fees``."""
        s = self.steps
        out = {k: float(s[k].sum()) for k in _PNL_PARTS}
        out["total"] = out["spread"] + out["inventory"] + out["hedging"] - out["fees"]
        return out

    def explain(self) -> dict:
        """The Greeks explain summed over the run: ``delta_pnl``, ``gamma_pnl``, ``vega_pnl``,
        ``theta_pnl``, ``residual``, ``trading`` (their sum is the total PnL)."""
        return {k: float(self.steps[k].sum()) for k in (*EXPLAIN_TERMS, "trading")}

    def by_instrument(self) -> pd.DataFrame:
        """Per instrument (each option, then the hedge): final ``position``, contracts ``bought``
        and ``sold``, ``cash`` (premiums and fees paid or received), ``value`` (the final position
        marked at the last theo or spot), ``spread`` (for the hedge: minus its crossing cost),
        ``inventory`` (its mark-to-market), ``fees`` and ``pnl = spread + inventory - fees``, which
        also equals ``cash + value``; the rows add up to the total."""
        st, f, h = self.stream, self.fills, self.hedges
        m = st.theo.shape[1]
        inv = self.multiplier * np.einsum("ij,ij->j", self.positions, np.diff(st.theo, axis=0))

        def per(col, mask=None):
            src = f if mask is None else f[mask]
            return src.groupby("option")[col].sum().reindex(range(m), fill_value=0.0).to_numpy(dtype=float)

        paid = f.assign(paid=f["side"] * f["qty"] * self.multiplier * f["price"])
        out = pd.DataFrame({
            "instrument": list(st.names), "position": self.positions[-1],
            "bought": per("qty", f["side"] > 0), "sold": per("qty", f["side"] < 0),
            "cash": -paid.groupby("option")["paid"].sum().reindex(range(m), fill_value=0.0).to_numpy() - per("fee"),
            "value": self.positions[-1] * self.multiplier * st.theo[-1],
            "spread": per("spread"), "inventory": inv, "fees": per("fee"),
        })  # fmt: skip
        hu = self.hedge_position * self.delta_per_unit
        hedge = {
            "instrument": "hedge", "position": float(self.hedge_position[-1]),
            "bought": float(h.loc[h["side"] > 0, "qty"].sum()), "sold": float(h.loc[h["side"] < 0, "qty"].sum()),
            "cash": -float((h["side"] * h["qty"] * self.delta_per_unit * h["price"]).sum()) - float(h["fee"].sum()),
            "value": float(hu[-1] * st.spot[-1]) if len(hu) else 0.0,
            "spread": -float(h["cost"].sum()), "inventory": float(hu @ np.diff(st.spot)), "fees": float(h["fee"].sum()),
        }  # fmt: skip
        out = pd.concat([out, pd.DataFrame([hedge])], ignore_index=True)
        out["pnl"] = out["spread"] + out["inventory"] - out["fees"]
        return out.set_index("instrument")

    def equity_frame(self) -> pd.DataFrame:
        """Equity at each path point, indexed by UTC time."""
        return pd.DataFrame({"equity": self.equity, "underlying_px": self.stream.spot},
                            index=pd.to_datetime(self.stream.ts, utc=True).rename("ts"))

    def to_frame(self) -> pd.DataFrame:
        """One row per step: ``ts`` (its start), ``underlying_px``, ``pnl`` and its split
        (``spread, inventory, hedging, fees``), the explain (``delta_pnl, gamma_pnl, vega_pnl,
        theta_pnl, residual, trading``), ``market`` (the mark-to-market move), the book over the
        step (``delta`` in underlying units, ``dollar_gamma`` per 1 %, ``dollar_vega`` per vol
        point, ``dollar_theta`` per day, ``hedge_position``), ``option_fills``, ``hedge_qty`` and
        ``equity`` at its end."""
        return self.steps.copy()

    def summary(self) -> str:
        """A short text report."""
        p, x = self.pnl_parts(), self.explain()
        mk = float(np.abs(self.steps["market"]).sum())
        share = float(np.abs(self.steps["residual"]).sum()) / mk if mk > 0 else 0.0
        lines = [
            f"option book: {self.stream.theo.shape[1]} options, {self.stream.n_steps} steps, "
            f"{len(self.fills)} option fills ({self.fills['qty'].sum() if len(self.fills) else 0:g} contracts), "
            f"{len(self.hedges)} hedges",
            f"PnL total {p['total']:,.2f} = spread {p['spread']:,.2f} + inventory {p['inventory']:,.2f} "
            f"+ hedging {p['hedging']:,.2f} - fees {p['fees']:,.2f}",
            f"explain: delta {x['delta_pnl']:,.2f}, gamma {x['gamma_pnl']:,.2f}, vega {x['vega_pnl']:,.2f}, "
            f"theta {x['theta_pnl']:,.2f}, residual {x['residual']:,.2f} ({share:.2%} of |market move|), "
            f"trading {x['trading']:,.2f}",
            f"final book: delta {self.steps['delta'].iloc[-1]:,.1f}, "
            f"$vega/pt {self.steps['dollar_vega'].iloc[-1]:,.0f}, hedge {self.hedge_position[-1]:g} units",
        ]
        return "\n".join(lines)

    def plot(self):
        """Equity curve and the cumulative Greeks explain (hvplot / HoloViews layout)."""
        import hvplot.pandas  # noqa: F401  - registers .hvplot

        s = self.steps.set_index(pd.to_datetime(self.steps["ts"], utc=True).rename("time"))
        eq = self.equity_frame().hvplot.line(y="equity", title="option book equity", ylabel="PnL")
        cols = [*EXPLAIN_TERMS, "trading"]
        ex = s[cols].cumsum().hvplot.line(y=cols, title="cumulative Greeks explain", ylabel="PnL")
        return (eq + ex).cols(1)


def _check_hedge_config(hedge_config):
    from mmlab.risk import DeltaHedgeConfig, DeltaHedger

    if hedge_config is None:
        return None
    if isinstance(hedge_config, DeltaHedger):
        return DeltaHedger(hedge_config.config)
    if not isinstance(hedge_config, DeltaHedgeConfig):
        raise ConfigError(f"hedge_config: must be a DeltaHedgeConfig or None, got {type(hedge_config).__name__}")
    return DeltaHedger(hedge_config)


def run_option_book(surface, path, strikes, expiry, quoter_config, hedge_config=None, *, rights=None,
                    stream_config: OptionStreamConfig | None = None, config: OptionBookConfig | None = None,
                    instrument=None, seed: int = 0, stream: OptionStream | None = None) -> OptionBookResult:
    """Backtest an option market-making book with its delta hedge (see the module docstring).

    Parameters
    ----------
    surface : VolSurface or callable
        Vol surface the option stream is repriced from (``surface.iv(K, T)``).
    path : pandas.DataFrame
        Underlying path (``ts``, ``underlying_px``, optional ``vol_shift``).
    strikes : array-like
    expiry : timestamp or float
        The expiry instant or the year fraction at the path's start.
    quoter_config : mmlab.quoting.ChainQuoterConfig
    hedge_config : mmlab.risk.DeltaHedgeConfig, optional
        None: no hedging.
    rights : optional
        ``'C'``/``'P'`` per strike (or one for all); default a call and a put per strike.
    stream_config : OptionStreamConfig, optional
    config : OptionBookConfig, optional
    instrument : mmlab.data.Instrument, optional
        An option of the root (ticks, multiplier, fees); default the CBOE SPX template.
    seed : int
        Seed of the market-order arrivals.
    stream : OptionStream, optional
        A stream already built (then ``surface``, ``path``, ``strikes``, ``expiry``, ``rights``,
        ``stream_config`` and ``seed`` are not used): replays the same market against several
        books.

    Returns
    -------
    OptionBookResult

    Examples
    --------
    >>> from mmlab.backtest import synthetic_underlying_path
    >>> from mmlab.quoting import ChainQuoterConfig
    >>> from mmlab.risk import DeltaHedgeConfig
    >>> path = synthetic_underlying_path(4500.0, 0.15, 60, step="1min", seed=2)
    >>> res = run_option_book(lambda K, T: 0.15 + 0 * K, path, [4450.0, 4500.0, 4550.0], 0.1,
    ...                       ChainQuoterConfig(vega_width=0.001, gamma_move=0.0, max_position=10),
    ...                       DeltaHedgeConfig(threshold=50.0), seed=1)
    >>> p = res.pnl_parts()
    >>> bool(abs(p["spread"] + p["inventory"] + p["hedging"] - p["fees"] - res.total) < 1e-9)
    True
    >>> res.explain()["vega_pnl"]  # a flat, constant surface: the vols never move
    0.0
    """
    from mmlab.data import default_master
    from mmlab.quoting import ChainQuoter, ChainQuoterConfig

    cfg = OptionBookConfig() if config is None else config
    if not isinstance(cfg, OptionBookConfig):
        raise ConfigError(f"config: must be an OptionBookConfig, got {type(cfg).__name__}")
    if not isinstance(quoter_config, ChainQuoterConfig):
        raise ConfigError(f"quoter_config: must be a ChainQuoterConfig, got {type(quoter_config).__name__}")
    hedger = _check_hedge_config(hedge_config)
    if instrument is None:
        instrument = default_master().get("SPX", "CBOE")
    if stream is None:
        stream = synthetic_option_stream(surface, path, strikes, expiry, rights=rights, config=stream_config,
                                         instrument=instrument, seed=seed)
    elif not isinstance(stream, OptionStream):
        raise ConfigError(f"stream: must be an OptionStream, got {type(stream).__name__}")
    quoter = ChainQuoter(quoter_config, instrument, lambda K, T: np.zeros(np.shape(K)))
    mult = float(instrument.multiplier)
    dpu = 1.0 if hedger is None else float(hedger.config.delta_per_unit)
    half_tick = 0.5 * cfg.hedge_tick
    fee_bps = cfg.hedge_fee_bps / 1e4

    st = stream
    n, m = st.n_steps, st.theo.shape[1]
    K, flags = st.strikes, st.flags
    fwd = st.spot * np.exp(st.carry * st.T)
    arr = st.arrivals
    a_step = arr["step"].to_numpy()
    a_opt = arr["option"].to_numpy()
    a_side = arr["side"].to_numpy()
    a_depth = arr["depth"].to_numpy()
    a_qty = arr["qty"].to_numpy()
    a_ts = arr["ts"].to_numpy()
    bounds = np.searchsorted(a_step, np.arange(n + 1))

    pos = np.zeros(m)
    h = 0.0  # hedge units
    positions = np.empty((n, m))
    hedge_pos = np.empty(n)
    bids = np.full((n, m), np.nan)
    asks = np.full((n, m), np.nan)
    spread = np.zeros(n)
    opt_fees = np.zeros(n)
    hedge_fees = np.zeros(n)
    hedge_cost = np.zeros(n)
    n_fills = np.zeros(n, dtype=np.int64)
    hedge_qty = np.zeros(n)
    fill_rows: list = []
    hedge_rows: list = []
    bid = ask = np.full(m, np.nan)
    bsz = asz = np.zeros(m)
    for i in range(n):
        theo = st.theo[i]
        if i % cfg.requote_every == 0:
            D = mult * float(pos @ st.delta[i]) + h * dpu
            V = mult * float(pos @ st.vega[i]) / 100.0
            q = quoter.quote(K, flags, forward=float(fwd[i]), T=float(st.T[i]), r=st.r, positions=pos,
                             hedge_position=h * dpu, portfolio_delta=D, portfolio_vega=V,
                             market_bid=st.bid[i], market_ask=st.ask[i], iv=st.iv[i], now=int(st.ts[i]))
            bid, ask = q.bid.copy(), q.ask.copy()
            bsz, asz = q.bid_size.copy(), q.ask_size.copy()
        bids[i] = np.where(bsz > 0, bid, np.nan)
        asks[i] = np.where(asz > 0, ask, np.nan)
        lo, hi = bounds[i], bounds[i + 1]
        if hi > lo:
            o, sd, dp = a_opt[lo:hi], a_side[lo:hi], a_depth[lo:hi]
            reach = np.where(sd > 0, ask[o] - theo[o], theo[o] - bid[o])  # NaN when the side is empty
            live = np.where(sd > 0, asz[o], bsz[o]) > 0
            for j in np.flatnonzero(live & (dp >= reach)):
                k = int(o[j])
                our = -int(sd[j])  # a buyer lifts our ask: we sell
                left = asz[k] if our < 0 else bsz[k]
                qty = min(float(a_qty[lo + j]), left)
                if not qty > 0:
                    continue
                px = float(ask[k] if our < 0 else bid[k])
                if our < 0:
                    asz[k] = left - qty
                else:
                    bsz[k] = left - qty
                fee = float(instrument.fee(px, qty, maker=True))
                sc = our * qty * mult * (theo[k] - px)
                pos[k] += our * qty
                spread[i] += sc
                opt_fees[i] += fee
                n_fills[i] += 1
                fill_rows.append((int(a_ts[lo + j]), i, st.names[k], k, our, qty, px, float(theo[k]), fee, sc))
        if hedger is not None:
            D = mult * float(pos @ st.delta[i]) + h * dpu
            order = hedger.decide(portfolio_delta=D, now=int(st.ts[i]))
            if order is not None:
                mid = float(st.spot[i])
                px = mid + order.side * half_tick
                units = order.qty * dpu  # underlying units traded
                fee = fee_bps * units * px
                h += order.side * order.qty
                cost = units * half_tick
                hedge_cost[i] += cost
                hedge_fees[i] += fee
                hedge_qty[i] += order.side * order.qty
                hedge_rows.append((int(st.ts[i]), i, order.side, order.qty, px, mid, fee, cost))
        positions[i] = pos
        hedge_pos[i] = h

    hu = hedge_pos * dpu  # underlying units
    x = greeks_pnl_explain(positions, hu, mult, st.spot, st.T, st.iv, st.delta, st.gamma, st.vega, st.theta,
                           st.theo)
    inventory = mult * np.einsum("ij,ij->i", positions, np.diff(st.theo, axis=0))
    hedge_mtm = hu * np.diff(st.spot)
    x["market"] = inventory + hedge_mtm  # the residual is the remainder of this very sum
    x["residual"] = x["market"] - (x["delta_pnl"] + x["gamma_pnl"] + x["vega_pnl"] + x["theta_pnl"])
    hedging = hedge_mtm - hedge_cost
    fees = opt_fees + hedge_fees
    trading = spread - hedge_cost - fees
    pnl = spread + inventory + hedging - fees
    equity = np.concatenate([[0.0], np.cumsum(pnl)])
    qm = positions * mult
    S0 = st.spot[:-1]
    steps = pd.DataFrame({
        "ts": st.ts[:-1], "underlying_px": S0, "pnl": pnl,
        "spread": spread, "inventory": inventory, "hedging": hedging, "fees": fees,
        **{k: x[k] for k in EXPLAIN_TERMS}, "trading": trading, "market": x["market"],
        "delta": np.einsum("ij,ij->i", qm, st.delta[:-1]) + hu,
        "dollar_gamma": np.einsum("ij,ij->i", qm, st.gamma[:-1]) * S0 * S0 / 100.0,
        "dollar_vega": np.einsum("ij,ij->i", qm, st.vega[:-1]) / 100.0,
        "dollar_theta": np.einsum("ij,ij->i", qm, st.theta[:-1]) / 365.0,
        "hedge_position": hedge_pos, "option_fills": n_fills, "hedge_qty": hedge_qty,
        "equity": equity[1:],
    })  # fmt: skip
    fills = pd.DataFrame(fill_rows, columns=["ts", "step", "instrument", "option", "side", "qty", "price", "theo",
                                             "fee", "spread"])
    hedges = pd.DataFrame(hedge_rows, columns=["ts", "step", "side", "qty", "price", "mid", "fee", "cost"])
    if not math.isfinite(float(equity[-1])):
        raise ConfigError("surface: the run produced a non-finite PnL (check the vols along the path)")
    return OptionBookResult(st, steps, fills, hedges, positions, hedge_pos, equity, bids, asks, mult, dpu)
