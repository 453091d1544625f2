"""The commodity pricer: the WTI futures curve, futures positions and options on them.

As of an instant: the newest settles at or before it mapped to contract months
(:func:`mmlab.commodities.futures_curve`), each month's realised volatility over the last
``ManagerConfig.vol_window`` daily returns of the *same contract* (:func:`mmlab.commodities.
contract_history`; :func:`mmlab.volatility.close_to_close_vol`, annualised with 252 days, a return
touching a non-positive settle left out).

Positions name a ``contract`` (rank ``'CL02'`` or code ``'CLX23'``). A future's Greek is its delta,
one contract of the instrument's multiplier (1,000 barrels) on its settle. With ``strike`` and
``right`` the position is a European option on that future (Black-76, :func:`mmlab.pricing.
black76_greeks`), expiring at the future's expiry unless ``expiry`` is given, at the position's
``vol`` or else the contract's realised vol, discounted at ``ManagerConfig.rate`` or else the
SOFR fixing of the settle date (:func:`mmlab.rates.sofr_to_continuous`). Black-76 refuses a
settle at or below zero (:func:`mmlab.commodities.futures_option_price` prices those with
Bachelier).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.manager._config import utc
from mmlab.manager._market import rows_upto
from mmlab.manager._pricer import Priced, Pricer, position_row

__all__ = ["CommodityPricer"]

TRADING_DAYS = 252.0


def _given(pos: pd.Series, name: str) -> bool:
    v = pos.get(name)
    return v is not None and not (isinstance(v, float) and math.isnan(v))


class CommodityPricer(Pricer):
    """Prices ``futures_curve`` products: settles, expiries, realised vols; futures and options."""

    kinds = ("futures_curve",)

    def price(self, market, product, asof_ns: int) -> Priced:
        from mmlab.commodities import contract_history, futures_curve
        from mmlab.volatility import close_to_close_vol, log_returns

        s, name = product.symbol, product.datasets[0]
        wide = market.catalog.load(name)
        upto = rows_upto(wide, asof_ns)
        if upto.empty:
            raise DataError(f"{s}: no settle on or before {utc(asof_ns)} in {name}")
        fc = futures_curve(upto.index[-1], settles=wide)
        market.check_fresh(s, fc.valuation.value, asof_ns, name)
        rows = []
        for code, r in fc.to_frame().iterrows():
            # realised vol of this contract month (not of the rank, which rolls)
            h = contract_history(code, settles=upto).iloc[-(market.config.vol_window + 1):]
            p = h.to_numpy(dtype=float)
            n = int(np.isfinite(log_returns(p, skip_invalid=True)).sum())
            vol = close_to_close_vol(p, periods_per_year=TRADING_DAYS, skip_invalid=True) if n >= 2 \
                else np.nan
            rows.append({"contract": r["symbol"], "code": code,
                         "delivery": f"{int(r['year'])}-{int(r['month']):02d}",
                         "expiry": r["expiry"], "T": float(r["t"]), "forward": float(r["settle"]),
                         "realised_vol": vol, "n_returns": n})
        curve = pd.DataFrame(rows)
        return Priced(curve, name, fc.valuation, rows=len(curve), futures_curve=fc)

    def position(self, market, product, priced, pos, row) -> dict:
        from mmlab.data import get_instrument

        c = priced.curve
        key = pos.get("contract")
        by = "code" if key in set(c["code"]) else "contract"
        if key not in set(c[by]):
            raise ConfigError(f"positions: row {row}: contract {key!r} not on the {product.symbol} curve")
        k = c[c[by] == key].iloc[0]
        mult = float(get_instrument(product.instrument).multiplier)
        F = float(k["forward"])
        if not (_given(pos, "strike") or _given(pos, "right")):
            return position_row(product.symbol, pos["qty"], multiplier=mult, px=F, delta=1.0)
        return self._option(market, product, priced, pos, row, k, mult)

    def _option(self, market, product, priced, pos, row, k, mult) -> dict:
        from mmlab.pricing import black76_greeks, to_ns, year_fraction
        from mmlab.rates import sofr_to_continuous

        strike = float(self._field(pos, "strike", row, "the option's strike"))
        right = str(self._field(pos, "right", row, "'C'/'P'")).lower()
        val = priced.data_time
        exp = k["expiry"] if not _given(pos, "expiry") else pd.Timestamp(int(to_ns(pos["expiry"], "expiry")), tz="UTC")
        if not (val <= exp <= k["expiry"]):
            raise ConfigError(f"positions: row {row}: expiry {exp} outside [{val}, {k['expiry']}] "
                              f"(the settle and {k['code']}'s own expiry)")
        vol = float(pos["vol"]) if _given(pos, "vol") else float(k["realised_vol"])
        if not (math.isfinite(vol) and vol > 0):
            raise DataError(f"positions: row {row}: no volatility for {k['code']} (realised vol "
                            f"{vol!r}); give a 'vol' column")
        if market.config.rate is not None:
            rate = float(market.config.rate)
        else:
            try:
                fixing = market.sofr_fixing(val.tz_convert("UTC").tz_localize(None).normalize())
            except DataError as exc:
                raise DataError(f"positions: row {row}: {exc}; set ManagerConfig(rate=...) to price "
                                "options on futures before SOFR (April 2018)") from None
            rate = sofr_to_continuous(fixing)
        t = float(year_fraction(int(val.value), int(exp.value)))
        F = float(k["forward"])
        if F <= 0.0:
            raise ConfigError(f"positions: row {row}: {k['code']} settled at {F} on {val.date()}; "
                              "Black-76 needs a positive future (price it with mmlab.commodities."
                              "futures_option_price(model='bachelier'))")
        g = black76_greeks(right, F, strike, t, rate, vol)
        return position_row(product.symbol, pos["qty"], multiplier=mult, px=F, delta=float(g.delta),
                            gamma=float(g.gamma), vega=float(g.vega), theta=float(g.theta))
