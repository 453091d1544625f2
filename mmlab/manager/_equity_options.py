"""The option-chain pricer: equity index chains (CBOE) and, undiscounted, Deribit's BTC chain.

As of an instant: the newest chain at or before it, analysed (parity forwards, Black-76 vols and
Greeks, :func:`mmlab.surface.analyze_chain`) at a flat continuously compounded rate, and its
surface fitted (:func:`mmlab.surface.fit_surface`). The rate is ``ManagerConfig.rate`` when set,
0 for crypto (Deribit marks its options undiscounted on the future), else the SOFR fixing of the
chain's date converted by :func:`mmlab.rates.sofr_to_continuous`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.manager._pricer import Priced, Pricer, position_row

__all__ = ["OptionChainPricer"]


class OptionChainPricer(Pricer):
    """Prices ``options`` products: forwards, market and fitted ATM vols per expiry."""

    kinds = ("options",)

    @staticmethod
    def rate(market, product, quote_time) -> float:
        """The flat continuous rate of ``product``'s chain quoted at ``quote_time``."""
        from mmlab.rates import sofr_to_continuous

        if market.config.rate is not None:
            return float(market.config.rate)
        if product.asset_class == "crypto":
            return 0.0
        day = pd.Timestamp(quote_time).tz_convert("UTC").tz_localize(None).normalize()
        try:
            return sofr_to_continuous(market.sofr_fixing(day))
        except DataError as exc:
            raise DataError(f"{product.symbol}: {exc} (its rate)") from None

    def price(self, market, product, asof_ns: int) -> Priced:
        from mmlab.surface import analyze_chain, fit_surface

        e = market.latest(product.symbol, asof_ns)
        market.check_fresh(product.symbol, int(e["t_end"].value), asof_ns, e["name"])
        chain = market.catalog.load(e["name"])
        qt = pd.Timestamp(pd.to_datetime(chain["ts"], utc=True).max())
        rate = self.rate(market, product, qt)
        an = analyze_chain(chain, discount=rate)
        surf = fit_surface(an, model=market.config.surface_model)
        ex = an.expiries
        rep = surf.report().set_index(["root", "expiry"])
        live = (ex["t"] > 0) & np.isfinite(ex["forward"])
        curve = ex.loc[live, ["root", "expiry", "t", "forward", "forward_method", "atm_iv"]]
        curve = curve.rename(columns={"t": "T", "atm_iv": "atm_vol_market"}).reset_index(drop=True)
        curve["atm_vol_fit"] = np.asarray(surf.iv_k(np.zeros(len(curve)), curve["T"].to_numpy()),
                                          dtype=float)
        curve["status"] = [rep["status"].get((r, x), "not_fitted")
                           for r, x in zip(curve["root"], curve["expiry"], strict=True)]
        return Priced(curve, e["name"], qt, rate, len(an.quotes), chain=an, surface=surf)

    def position(self, market, product, priced, pos, row) -> dict:
        q = priced.chain.quotes
        s = product.symbol
        exp = pd.Timestamp(self._field(pos, "expiry", row, "the option's expiry"))
        exp = exp.tz_localize("UTC") if exp.tzinfo is None else exp.tz_convert("UTC")
        strike, right = self._field(pos, "strike", row, "strike"), self._field(pos, "right", row, "'C'/'P'")
        sel = (q["expiry"] == exp) if exp != exp.normalize() else (q["expiry"].dt.normalize() == exp)
        sel &= np.isclose(q["strike"], float(strike)) & (q["right"] == right)
        if isinstance(pos.get("root"), str):
            sel &= q["root"] == pos["root"]
        hit = q[sel]
        if len(hit) != 1:
            raise ConfigError(f"positions: row {row}: {len(hit)} contracts match {s} "
                              f"{exp.date()} {strike} {right} (add 'root')")
        h = hit.iloc[0]
        if not np.isfinite(h["delta"]):
            raise DataError(f"positions: row {row}: no Greeks for {h['root']} "
                            f"{h['expiry']} {h['strike']} {h['right']} ({h['reason']})")
        return position_row(s, pos["qty"], multiplier=h["multiplier"], px=h["forward"],
                            delta=h["delta"], gamma=h["gamma"], vega=h["vega"], theta=h["theta"])
