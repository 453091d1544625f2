"""Synthetic option quote streams repriced from a fitted vol surface along an underlying path.

No option time series ships with the project (the option files are end-of-day chain snapshots),
so an option book is backtested on a stream built from a **fitted surface** (e.g. the SPX chain
of 2023-09-14) and an **underlying path** (a seeded GBM, :func:`synthetic_underlying_path`, or any
real price series rescaled to the surface's spot, :func:`underlying_path_from_prices`).

At each point ``t_i`` of the path (spot ``S_i``, time to expiry ``T_i`` in ACT/365F years of
exact elapsed time) each option ``j`` (strike ``K_j``, call or put) gets:

* a **vol** from the surface, by one of two documented dynamics:

  - ``'sticky_strike'`` (default): ``sigma_ij = iv(K_j, T_i) + shift_i`` -- the vol of a strike
    does not move with the spot; the surface is a fixed function of strike and time to expiry,
    so an option's vol rolls down the term structure as ``T_i`` shrinks;
  - ``'sticky_moneyness'``: ``sigma_ij = iv(K_j S_0 / S_i, T_i) + shift_i`` -- the smile moves
    with the spot (the vol at ``ln(K/F)`` is kept), i.e. the surface is re-centred on the
    current forward ``F_i = F_0 S_i / S_0``;

  ``shift_i`` is an optional parallel vol shift per path point (column ``vol_shift``);
* a **theo**: Black-Scholes-Merton on the spot with discount rate ``r`` and carry ``b``
  (dividend yield ``q = r - b``), equal to Black-76 on the forward ``F_i = S_i e^{b T_i}``; the
  carry defaults to the surface's own ``ln(F(T_0)/S_0)/T_0`` when it knows its spot;
* a **market** bid/ask ``theo -/+ (h0 + w vega)`` (``h0`` price units, ``w`` a vol width, vega per
  1.00 vol), rounded outward to the instrument's tick rule, a side with a price <= 0 left empty;
* **market-order arrivals** (Avellaneda & Stoikov 2008, eq. 2.9-2.12): on each side a Poisson
  stream of rate ``A`` per second, each order reaching a depth ``D ~ Exp(k)`` from the theo
  (``k`` per price unit).  A resting quote at distance ``delta`` from the theo is then reached
  by a thinned Poisson stream of rate ``A exp(-k delta)``: a buy (sell) arrival of depth ``D``
  fills our ask (bid) when ``ask - theo <= D`` (``theo - bid <= D``).  The arrivals are drawn
  once, from ``seed``, independently of anyone's quotes -- the same stream can be replayed
  against any quoter.

Notes
-----
Avellaneda, M. and Stoikov, S. (2008), "High-frequency trading in a limit order book",
Quantitative Finance 8(3), section 2.3: ``lambda(delta) = A exp(-k delta)``, obtained there from
a power-law order-size distribution and a log market impact; here it is generated directly as
Poisson arrivals with exponential depths, which has exactly that thinned intensity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError
from mmlab.pricing import NS_PER_YEAR, bsm_greeks, to_ns
from mmlab.quoting import check_finite, check_nonnegative, check_positive

__all__ = [
    "OptionStream",
    "OptionStreamConfig",
    "synthetic_option_stream",
    "synthetic_underlying_path",
    "underlying_path_from_lobster",
    "underlying_path_from_prices",
]

VOL_DYNAMICS = ("sticky_strike", "sticky_moneyness")
_NS = 1_000_000_000


# ---------------------------------------------------------------------------------- paths
def _start_ns(start) -> int:
    try:
        return int(to_ns(start, "start"))
    except Exception as exc:  # noqa: BLE001 - reported as a config error naming the argument
        raise ConfigError(f"start: not a timestamp: {start!r} ({exc})") from None


def _step_ns(step) -> int:
    try:
        ns = int(pd.Timedelta(step).value) if not isinstance(step, (int, float)) else int(round(step * _NS))
    except (TypeError, ValueError):
        raise ConfigError(f"step: not a duration: {step!r}") from None
    if ns <= 0:
        raise ConfigError(f"step: must be > 0, got {step!r}")
    return ns


def synthetic_underlying_path(s0: float, sigma: float, n_steps: int, step="1min",
                              start="2023-09-14T20:31:00Z", mu: float = 0.0, seed: int = 0,
                              vol_shift=None) -> pd.DataFrame:
    """A seeded geometric Brownian underlying path on a regular clock.

    ``S_i = s0 exp((mu - sigma^2/2) t_i + sigma W_{t_i})`` (exact scheme), ``t_i`` in ACT/365F
    years of calendar time (the clock of the option's time to expiry).

    Parameters
    ----------
    s0, sigma, mu : float
        Start price, annual volatility and annual drift.
    n_steps : int
        Number of steps; the path has ``n_steps + 1`` points.
    step : str, Timedelta or float
        Step length (a float is seconds).
    start : timestamp
        First instant (default: the SPX 2023-09-14 chain's quote time).
    seed : int
    vol_shift : array-like, optional
        Parallel implied-vol shift per point (``n_steps + 1`` values, 0.01 = one vol point).

    Returns
    -------
    pandas.DataFrame
        Columns ``ts`` (int64 UTC ns), ``underlying_px`` (and ``vol_shift`` when given).

    Examples
    --------
    >>> p = synthetic_underlying_path(4505.1, 0.15, 3, step="1min", seed=1)
    >>> len(p), float(p["underlying_px"].iloc[0]), int(p["ts"].diff().iloc[1])
    (4, 4505.1, 60000000000)
    """
    from mmlab.data import geometric_brownian

    check_positive("s0", s0)
    check_nonnegative("sigma", sigma)
    check_finite("mu", mu)
    if isinstance(n_steps, bool) or int(n_steps) != n_steps or n_steps < 1:
        raise ConfigError(f"n_steps: must be a positive integer, got {n_steps!r}")
    dns = _step_ns(step)
    t0 = _start_ns(start)
    px = geometric_brownian(int(n_steps), dns / NS_PER_YEAR, float(sigma), float(s0), float(mu), seed=seed)
    out = pd.DataFrame({"ts": t0 + dns * np.arange(int(n_steps) + 1, dtype=np.int64), "underlying_px": px})
    if vol_shift is not None:
        vs = np.asarray(vol_shift, dtype=float).reshape(-1)
        if vs.shape[0] != len(out) or not np.isfinite(vs).all():
            raise ConfigError(f"vol_shift: need {len(out)} finite values, got {vs.shape[0]}")
        out["vol_shift"] = vs
    return out


def underlying_path_from_prices(prices, s0: float | None = None, start=None, step=None) -> pd.DataFrame:
    """An underlying path from a real price series, rescaled to start at ``s0``.

    The path keeps the series' returns: ``S_i = s0 P_i / P_0``.  With ``start`` and ``step`` the
    points are re-stamped on a regular clock (e.g. 20 daily S&P 500 closes replayed as 20
    one-minute steps, whose variance the option Greeks then see compressed); otherwise the
    series' own index (timestamps) is kept.

    Parameters
    ----------
    prices : pandas.Series
        Prices (> 0) indexed by timestamps (or any index when ``start``/``step`` are given).
    s0 : float, optional
        Start price (default: the series' own first price).
    start, step : optional
        A new regular clock (``step`` a duration, a float is seconds).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_sp500_daily
    >>> spx = load_sp500_daily(shipped("equity", "sp500_daily_1999-2018.csv.gz"))["close"]
    >>> p = underlying_path_from_prices(spx.iloc[-5:], s0=4505.1)
    >>> float(p["underlying_px"].iloc[0]), len(p)
    (4505.1, 5)
    """
    if not isinstance(prices, pd.Series):
        raise ConfigError(f"prices: must be a pandas Series, got {type(prices).__name__}")
    px = prices.to_numpy(dtype=float)
    if px.size < 2 or not (np.isfinite(px).all() and (px > 0).all()):
        raise ConfigError("prices: need at least 2 finite prices > 0")
    scale = 1.0 if s0 is None else float(s0) / px[0]
    if s0 is not None:
        check_positive("s0", s0)
    if (start is None) != (step is None):
        raise ConfigError("start, step: give both (a regular clock) or neither (the series' index)")
    if start is not None:
        ts = _start_ns(start) + _step_ns(step) * np.arange(px.size, dtype=np.int64)
    else:
        try:
            ts = to_ns(prices.index, "prices.index")
        except Exception:  # noqa: BLE001
            raise ConfigError("prices: index is not timestamps (give start and step)") from None
    return pd.DataFrame({"ts": np.asarray(ts, dtype=np.int64), "underlying_px": px * scale})


def underlying_path_from_lobster(message_path, step="1min", s0: float | None = None,
                                 start=None) -> pd.DataFrame:
    """A real intraday path: the L1 mid of a LOBSTER file, sampled every ``step``, rescaled.

    The mid ``(bid_1 + ask_1) / 2`` after each message (rows with an empty side dropped) is
    sampled at the end of every ``step`` bin of the session (last value, carried forward) and
    rescaled to start at ``s0`` (:func:`underlying_path_from_prices`); ``start`` re-stamps it on
    a regular clock from that instant (e.g. the option chain's quote time).

    Parameters
    ----------
    message_path : str or Path
        The ``..._message_<N>.csv`` file (its orderbook sibling is read too; see
        :func:`mmlab.data.read_lobster`).
    step : str or Timedelta
        Sampling step.
    s0 : float, optional
        Start price (default: the stock's own mid).
    start : timestamp, optional
        Re-stamp the samples ``start + i step``.
    """
    from mmlab.data import read_lobster

    d = read_lobster(message_path)
    ob = d.orderbook_frame()
    mid = 0.5 * (ob["ask_px_1"].to_numpy(dtype=float) + ob["bid_px_1"].to_numpy(dtype=float))
    ser = pd.Series(mid, index=pd.DatetimeIndex(d.messages["ts"]))
    ser = ser[np.isfinite(ser.to_numpy())]
    if ser.size < 2:
        raise ConfigError(f"message_path: {message_path}: fewer than 2 two-sided L1 quotes")
    dns = _step_ns(step)
    first = ser.index[0].floor(pd.Timedelta(dns, "ns"))
    sampled = ser.resample(pd.Timedelta(dns, "ns"), origin=first, label="right", closed="left").last().ffill()
    sampled = pd.concat([ser.iloc[:1], sampled])  # the first mid, then the end of every bin
    if start is None:
        return underlying_path_from_prices(sampled, s0=s0)
    return underlying_path_from_prices(sampled, s0=s0, start=start, step=pd.Timedelta(dns, "ns"))


def _read_path(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ts`` (int64 ns), spot and vol shift from a path table; ConfigError naming ``path``."""
    if isinstance(path, pd.Series):
        path = pd.DataFrame({"ts": to_ns(path.index, "path.index"), "underlying_px": path.to_numpy()})
    if not isinstance(path, pd.DataFrame) or not {"ts", "underlying_px"} <= set(path.columns):
        raise ConfigError("path: must be a DataFrame with columns ts, underlying_px (or a Series by ts)")
    ts = path["ts"]
    ts = np.asarray(ts.to_numpy() if ts.dtype.kind in "iu" else to_ns(ts, "path.ts"), dtype=np.int64)
    S = path["underlying_px"].to_numpy(dtype=float)
    shift = path["vol_shift"].to_numpy(dtype=float) if "vol_shift" in path.columns else np.zeros(S.size)
    if S.size < 2:
        raise ConfigError(f"path: need at least 2 points, got {S.size}")
    bad = np.flatnonzero(~(np.isfinite(S) & (S > 0)))
    if bad.size:
        raise ConfigError(f"path: underlying_px must be finite and > 0 (row {int(bad[0])}: {S[bad[0]]!r})")
    bad = np.flatnonzero(np.diff(ts) <= 0)
    if bad.size:
        raise ConfigError(f"path: ts must increase strictly (row {int(bad[0]) + 1})")
    if not np.isfinite(shift).all():
        raise ConfigError("path: vol_shift must be finite")
    return ts, S, shift


# ---------------------------------------------------------------------------------- config
@dataclass(frozen=True, slots=True)
class OptionStreamConfig:
    """How the synthetic option market is built (formulas in the module docstring).

    Parameters
    ----------
    vol_dynamics : {'sticky_strike', 'sticky_moneyness'}
    r : float
        Discount rate (continuous).
    carry : float, optional
        Cost of carry ``b`` (``F = S e^{b T}``); default from the surface (0 if it has no spot).
    market_half_spread : float
        ``h0``, the market's base half-spread (price units).
    market_vega_width : float
        ``w``: the market's half-spread adds ``w`` vol of vega (0.001 = a tenth of a vol point).
    market_size : float
        Size shown on each side of the market (contracts).
    arrival_rate : float
        ``A``: market orders per second on each side of each option.
    arrival_decay : float
        ``k``: per price unit; a quote ``delta`` from the theo is reached at rate ``A e^{-k delta}``.
    trade_size : float
        Contracts per market order.

    Examples
    --------
    >>> OptionStreamConfig(arrival_rate=0.1).arrival_rate
    0.1
    >>> OptionStreamConfig(vol_dynamics="sticky_delta")
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: vol_dynamics: must be one of ('sticky_strike', 'sticky_moneyness'), got 'sticky_delta'
    """

    vol_dynamics: str = "sticky_strike"
    r: float = 0.0
    carry: float | None = None
    market_half_spread: float = 0.05
    market_vega_width: float = 0.001
    market_size: float = 10.0
    arrival_rate: float = 0.005
    arrival_decay: float = 1.0
    trade_size: float = 1.0

    def __post_init__(self) -> None:
        if self.vol_dynamics not in VOL_DYNAMICS:
            raise ConfigError(f"vol_dynamics: must be one of {VOL_DYNAMICS}, got {self.vol_dynamics!r}")
        check_finite("r", self.r)
        if self.carry is not None:
            check_finite("carry", self.carry)
        for name in ("market_half_spread", "market_vega_width", "arrival_rate"):
            check_nonnegative(name, getattr(self, name))
        for name in ("market_size", "arrival_decay", "trade_size"):
            check_positive(name, getattr(self, name))


# ---------------------------------------------------------------------------------- stream
@dataclass(frozen=True)
class OptionStream:
    """A synthetic option market along an underlying path.

    Attributes
    ----------
    ts, spot, T : ndarray
        Path instants (int64 ns), spot and years to expiry, ``(n + 1,)``.
    strikes, flags : ndarray
        Per option, ``(m,)``; flags +1 call, -1 put.
    names : list of str
        Instrument names (OCC symbols when the expiry is a dated instant).
    iv, theo, delta, gamma, vega, theta : ndarray
        ``(n + 1, m)``: vol used and BSM price and spot Greeks per unit (vega per 1.00 vol,
        theta per year of calendar time).
    bid, ask : ndarray
        The market's quotes, ``(n + 1, m)`` (NaN: side empty).
    arrivals : pandas.DataFrame
        One row per market order: ``step`` (path interval ``[t_i, t_{i+1})``), ``ts``, ``option``
        (column index), ``side`` (+1 buyer, -1 seller), ``depth`` (> 0, from the theo), ``price``
        (``theo +/- depth``: the worst price the order accepts), ``qty``.
    r, carry : float
    config : OptionStreamConfig
    """

    ts: np.ndarray
    spot: np.ndarray
    T: np.ndarray
    strikes: np.ndarray
    flags: np.ndarray
    names: list
    iv: np.ndarray
    theo: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    arrivals: pd.DataFrame
    r: float
    carry: float
    root: str
    expiry: object
    config: OptionStreamConfig

    @property
    def n_steps(self) -> int:
        """Number of path intervals."""
        return self.ts.shape[0] - 1

    def quotes_frame(self) -> pd.DataFrame:
        """The quote stream as the project's option-quote table, one row per (ts, option):
        ``ts, instrument, underlying, expiry, strike, right, bid, ask, bid_size, ask_size,
        underlying_px, theo, iv``."""
        n1, m = self.theo.shape
        size = self.config.market_size
        bid, ask = self.bid.ravel(), self.ask.ravel()
        return pd.DataFrame({
            "ts": np.repeat(self.ts, m),
            "instrument": np.tile(np.asarray(self.names, dtype=object), n1),
            "underlying": self.root,
            "expiry": self.expiry,
            "strike": np.tile(self.strikes, n1),
            "right": np.tile(np.where(self.flags > 0, "C", "P"), n1),
            "bid": bid, "ask": ask,
            "bid_size": np.where(np.isfinite(bid), size, 0.0),
            "ask_size": np.where(np.isfinite(ask), size, 0.0),
            "underlying_px": np.repeat(self.spot, m),
            "theo": self.theo.ravel(), "iv": self.iv.ravel(),
        })  # fmt: skip

    def trades_frame(self) -> pd.DataFrame:
        """The market-order arrivals with instrument names and the theo they were drawn against."""
        a = self.arrivals
        out = a.copy()
        out.insert(2, "instrument", np.asarray(self.names, dtype=object)[a["option"].to_numpy()])
        out["theo"] = self.theo[a["step"].to_numpy(), a["option"].to_numpy()]
        out["underlying_px"] = self.spot[a["step"].to_numpy()]
        return out

    def summary(self) -> str:
        """One-line text summary."""
        return (f"{self.theo.shape[1]} options x {self.ts.shape[0]} points "
                f"({self.config.vol_dynamics}, carry {self.carry:.4f}, r {self.r:.4f}); "
                f"{len(self.arrivals)} market orders")


def _root_of(instrument) -> str:
    """Option root of a template (its symbol) or of a contract (the OCC/Deribit prefix)."""
    sym = str(instrument.symbol)
    if instrument.template:
        return sym
    m = re.match(r"^([A-Z]+?)(?:\d{6}[CP]\d{8}|-)", sym)
    return m.group(1) if m else sym


def _option_names(root: str, expiry, strikes, flags) -> list:
    """OCC symbols when the expiry is a dated instant of a known root, else ``ROOT T0.0978 4500 C``."""
    if isinstance(expiry, pd.Timestamp):
        from mmlab.data import default_master

        try:
            return [default_master().option(root, expiry, float(k), "C" if f > 0 else "P").symbol
                    for k, f in zip(strikes, flags, strict=True)]
        except ConfigError:
            pass
    tag = f"{expiry:%Y-%m-%d}" if isinstance(expiry, pd.Timestamp) else f"T{float(expiry):.4f}"
    return [f"{root} {tag} {float(k):g} {'C' if f > 0 else 'P'}" for k, f in zip(strikes, flags, strict=True)]


def _read_options(strikes, rights) -> tuple[np.ndarray, np.ndarray]:
    K = np.asarray(strikes, dtype=float).reshape(-1)
    if K.size == 0 or not (np.isfinite(K).all() and (K > 0).all()):
        raise ConfigError("strikes: need at least one finite strike > 0")
    if rights is None:  # both rights at every strike
        return np.concatenate([K, K]), np.concatenate([np.ones(K.size), -np.ones(K.size)])
    r = np.asarray(rights).reshape(-1)
    if r.size == 1:
        r = np.repeat(r, K.size)
    if r.size != K.size:
        raise ConfigError(f"rights: {r.size} values for {K.size} strikes")
    f = np.array([{"C": 1.0, "c": 1.0, "P": -1.0, "p": -1.0}.get(str(x), np.nan) for x in r])
    if np.isnan(f).any():
        raise ConfigError(f"rights: must be 'C' or 'P', got {r[np.isnan(f)][0]!r}")
    return K, f


def _expiry_years(expiry, t0: int) -> tuple[float, object]:
    if isinstance(expiry, (int, float, np.floating)) and not isinstance(expiry, bool):
        if not (math.isfinite(expiry) and expiry > 0):
            raise ConfigError(f"expiry: a year fraction must be finite and > 0, got {expiry!r}")
        return float(expiry), float(expiry)
    try:
        e = pd.Timestamp(expiry)
    except (TypeError, ValueError):
        raise ConfigError(f"expiry: not a timestamp or a year fraction: {expiry!r}") from None
    e = e.tz_localize("UTC") if e.tzinfo is None else e.tz_convert("UTC")
    return (e.value - t0) / NS_PER_YEAR, e


def synthetic_option_stream(surface, path, strikes, expiry, rights=None, config: OptionStreamConfig | None = None,
                            instrument=None, seed: int = 0) -> OptionStream:
    """Reprice an option chain from a vol surface along an underlying path (module docstring).

    Parameters
    ----------
    surface : VolSurface or callable
        ``surface.iv(K, T)`` or a callable ``iv(K, T)``.
    path : pandas.DataFrame
        Columns ``ts`` (int64 UTC ns or timestamps, strictly increasing), ``underlying_px`` and
        optionally ``vol_shift``; see :func:`synthetic_underlying_path`.
    strikes : array-like
    expiry : timestamp or float
        The expiry instant, or the year fraction to expiry at the path's first point.
    rights : array-like or str, optional
        ``'C'``/``'P'`` per strike, or one for all; default both a call and a put at each strike.
    config : OptionStreamConfig, optional
    instrument : mmlab.data.Instrument, optional
        An option of the root (tick rule, names); default the CBOE SPX template.
    seed : int
        Seed of the market-order arrivals.

    Examples
    --------
    >>> path = synthetic_underlying_path(100.0, 0.2, 10, step="1min", seed=0)
    >>> st = synthetic_option_stream(lambda K, T: 0.2 + 0 * K, path, [100.0], 0.25,
    ...                              config=OptionStreamConfig(arrival_rate=0.05), seed=1)
    >>> st.theo.shape, round(float(st.theo[0, 0]), 4)  # BSM call S=K=100, T=0.25, vol 0.2: 3.9878
    ((11, 2), 3.9878)
    >>> bool((st.bid < st.theo).all() and (st.ask > st.theo).all())
    True
    """
    from mmlab.data import default_master

    cfg = OptionStreamConfig() if config is None else config
    if not isinstance(cfg, OptionStreamConfig):
        raise ConfigError(f"config: must be an OptionStreamConfig, got {type(cfg).__name__}")
    iv_fn = getattr(surface, "iv", surface)
    if not callable(iv_fn):
        raise ConfigError("surface: must have iv(K, T) or be a callable iv(K, T)")
    if instrument is None:
        instrument = default_master().get("SPX", "CBOE")
    if getattr(instrument, "kind", None) != "option":
        raise ConfigError(f"instrument: must be an option, got {getattr(instrument, 'kind', instrument)!r}")
    ts, S, shift = _read_path(path)
    K, flags = _read_options(strikes, rights)
    T0, exp_label = _expiry_years(expiry, int(ts[0]))
    T = T0 - (ts - ts[0]) / NS_PER_YEAR
    if not T[-1] > 0:
        raise ConfigError(f"expiry: the path (to {pd.Timestamp(int(ts[-1]), tz='UTC')}) must end before "
                          "the expiry")
    if cfg.carry is not None:
        carry = float(cfg.carry)
    else:
        spot0 = float(getattr(surface, "spot", math.nan))
        fwd = getattr(surface, "forward", None)
        carry = math.log(float(fwd(T0)) / spot0) / T0 if (callable(fwd) and spot0 > 0) else 0.0
    n1, m = S.size, K.size
    Kg = K[None, :]
    Tg = np.broadcast_to(T[:, None], (n1, m))
    Kv = Kg * (S[0] / S[:, None]) if cfg.vol_dynamics == "sticky_moneyness" else np.broadcast_to(Kg, (n1, m))
    iv = np.asarray(iv_fn(np.ascontiguousarray(Kv), np.ascontiguousarray(Tg)), dtype=float).reshape(n1, m)
    iv = iv + shift[:, None]
    bad = np.argwhere(~(np.isfinite(iv) & (iv > 0)))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        raise ConfigError(f"surface: vol {iv[i, j]!r} for strike {K[j]:g} at path row {i} (T {T[i]:.6f}); "
                          "strikes outside the surface or a vol_shift below -vol?")
    q = cfg.r - carry
    fl = np.where(flags > 0, "c", "p")
    g = bsm_greeks(np.broadcast_to(fl[None, :], (n1, m)), S[:, None], Kg, Tg, cfg.r, iv, q=q)
    theo = np.asarray(g.price, dtype=float)
    vega = np.asarray(g.vega, dtype=float)
    h = cfg.market_half_spread + cfg.market_vega_width * vega
    bid = np.asarray(instrument.round_price(theo - h, "bid"), dtype=float)
    ask = np.asarray(instrument.round_price(theo + h, "ask"), dtype=float)
    bid = np.where(bid > 0, bid, np.nan)
    ask = np.where(ask > 0, ask, np.nan)
    arrivals = _draw_arrivals(ts, theo, cfg, seed)
    root = _root_of(instrument)
    names = _option_names(root, exp_label, K, flags)
    return OptionStream(ts, S, T, K, flags, names, iv, theo, np.asarray(g.delta, float), np.asarray(g.gamma, float),
                        vega, np.asarray(g.theta, float), bid, ask, arrivals, cfg.r, carry, root, exp_label, cfg)


def _draw_arrivals(ts: np.ndarray, theo: np.ndarray, cfg: OptionStreamConfig, seed: int) -> pd.DataFrame:
    """Poisson market orders per (interval, option, side) with exponential depths."""
    n, m = ts.size - 1, theo.shape[1]
    rng = np.random.default_rng(seed)
    dt = np.diff(ts) / _NS
    counts = rng.poisson(cfg.arrival_rate * np.broadcast_to(dt[:, None, None], (n, m, 2)))
    idx = np.repeat(np.arange(n * m * 2), counts.ravel())
    step, rest = np.divmod(idx, m * 2)
    opt, side_ix = np.divmod(rest, 2)
    side = np.where(side_ix == 0, 1, -1).astype(np.int8)
    depth = rng.exponential(1.0 / cfg.arrival_decay, idx.size)
    u = rng.random(idx.size)
    t = ts[step] + np.floor(u * (ts[step + 1] - ts[step])).astype(np.int64)
    order = np.lexsort((opt, t))
    step, opt, side, depth, t = step[order], opt[order], side[order], depth[order], t[order]
    price = theo[step, opt] + side * depth
    return pd.DataFrame({"step": step.astype(np.int64), "ts": t.astype(np.int64), "option": opt.astype(np.int64),
                         "side": side, "depth": depth, "price": price,
                         "qty": np.full(idx.size, cfg.trade_size)})
