"""The rates pricer: the Treasury par curve, the USD SOFR swap curve and the SOFR fixings.

* ``par_curve``: the newest Treasury par yields at or before ``asof`` bootstrapped into a curve
  (:func:`mmlab.rates.treasury_curve`: zero rates, discount factors) and each tenor's par-bond
  modified duration (:func:`mmlab.rates.par_bond_duration`; the bills are treated the same way),
  a DV01 of ``D x 1e-4`` per unit of notional;
* ``swap_curve``: the USD SOFR swap curve of the quotes (:func:`mmlab.rates.swap_curve`), the par
  rate, annuity and DV01 per unit notional of a payer swap at each of the product's ``tenors``
  (:meth:`mmlab.rates.Swap.dv01`, annuity method);
* ``fixings``: the SOFR fixing at or before ``asof`` and its continuous rate
  (:func:`mmlab.rates.sofr_to_continuous`).

A position names a ``tenor`` (``'10Y'``) and its ``qty`` is the notional in USD (a par bond on
the Treasury curve, a payer swap on the swap curve): rate risk only, its DV01.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.manager._config import utc
from mmlab.manager._market import rows_upto
from mmlab.manager._pricer import Priced, Pricer, position_row

__all__ = ["RatesPricer"]


def _as_utc(day) -> pd.Timestamp:
    day = pd.Timestamp(day)
    return day.tz_localize("UTC") if day.tzinfo is None else day.tz_convert("UTC")


class RatesPricer(Pricer):
    """Prices ``par_curve``, ``swap_curve`` and ``fixings`` products."""

    kinds = ("par_curve", "swap_curve", "fixings")

    def price(self, market, product, asof_ns: int) -> Priced:
        priced = {"par_curve": self._par_curve, "swap_curve": self._swap_curve,
                  "fixings": self._fixings}[product.kind](market, product, asof_ns)
        market.check_fresh(product.symbol, priced.data_time.value, asof_ns, priced.dataset)
        return priced

    def _par_curve(self, market, product, asof_ns) -> Priced:
        from mmlab.data import TREASURY_TENORS
        from mmlab.rates import par_bond_duration, treasury_curve

        wide = pd.concat([market.catalog.load(n) for n in product.datasets]).sort_index()
        upto = rows_upto(wide, asof_ns)
        if upto.empty:
            raise DataError(f"{product.symbol}: no par yields on or before {utc(asof_ns)}")
        day = pd.Timestamp(upto.index[-1])
        row = upto.iloc[-1].dropna()
        label_years = dict(TREASURY_TENORS.values())
        years = np.array([float(label_years[t]) for t in row.index])
        y = row.to_numpy(dtype=float)
        dur = par_bond_duration(y, years)
        curve = treasury_curve(day, yields=row)
        tt = np.minimum(curve.times([day + pd.DateOffset(months=round(12 * x)) for x in years]),
                        curve.times(curve.max_date))
        out = pd.DataFrame({"tenor": row.index, "tenor_years": years, "par_yield": y,
                            "zero_rate": np.asarray(curve.zero_rate(tt, "semiannual"), dtype=float),
                            "discount": np.asarray(curve.discount(tt), dtype=float),
                            "modified_duration": dur, "dv01_per_unit": dur * 1e-4})
        return Priced(out, ",".join(product.datasets), _as_utc(day), rows=len(out), yield_curve=curve)

    def _swap_curve(self, market, product, asof_ns) -> Priced:
        from mmlab.rates import Swap, swap_curve

        name = product.datasets[0]
        q = market.catalog.load(name)
        day = _as_utc(q["as_of"].iloc[0])
        if day.value > asof_ns:
            raise DataError(f"{product.symbol}: no swap quotes on or before {utc(asof_ns)} "
                            f"({name}: {day.date()})")
        curve = swap_curve(day.tz_localize(None), quotes=q)
        rows = []
        for tenor in product.tenors:
            sw = Swap(curve, tenor, notional=1.0)
            rows.append({"tenor": tenor, "end": sw.end, "T": float(curve.times(sw.end)),
                         "par_rate": sw.par_rate, "zero_rate": float(curve.zero_rate(sw.end)),
                         "discount": float(curve.discount(sw.end)), "annuity": sw.annuity,
                         "dv01_per_unit": sw.dv01()})
        return Priced(pd.DataFrame(rows), name, day, rows=len(rows), yield_curve=curve)

    def _fixings(self, market, product, asof_ns) -> Priced:
        from mmlab.rates import sofr_to_continuous

        name = product.datasets[0]
        upto = rows_upto(market.catalog.load(name), asof_ns)
        if upto.empty:
            raise DataError(f"{product.symbol}: no fixing on or before {utc(asof_ns)}")
        day = _as_utc(upto.index[-1])
        fix = float(upto.iloc[-1, 0])
        curve = pd.DataFrame({"date": [day], "fixing": [fix],
                              "continuous_rate": [sofr_to_continuous(fix)]})
        return Priced(curve, name, day, rate=fix, rows=1)

    def position(self, market, product, priced, pos, row) -> dict:
        if product.kind == "fixings":
            return super().position(market, product, priced, pos, row)
        c = priced.curve.set_index("tenor")
        if pos.get("tenor") not in c.index:
            raise ConfigError(f"positions: row {row}: tenor {pos.get('tenor')!r} not on the "
                              f"{product.symbol} curve")
        qty = float(pos["qty"])
        return position_row(product.symbol, qty, dv01=qty * float(c.loc[pos["tenor"], "dv01_per_unit"]))
