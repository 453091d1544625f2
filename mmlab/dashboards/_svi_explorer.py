"""The five raw SVI parameters of one smile on sliders, against its quotes (a Panel object).

Re-exported as :class:`mmlab.dashboards.vol_surface.SVIExplorer`. The numbers it shows come from
:func:`knob_fit`, importable and tested without a browser.

Raw SVI (Gatheral 2004): total variance ``w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))``
in log-moneyness ``k = ln(K/F)``, implied vol ``sqrt(w / T)``. Turning a knob shows what each
parameter does: ``a`` lifts the smile, ``b`` opens the wings, ``rho`` tilts it, ``m`` moves it
sideways, ``sigma`` rounds the vertex.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["knob_fit", "make_svi_explorer"]

_COLS = ("k", "bid_iv", "ask_iv", "mid_iv")


def _smile_arrays(smile: pd.DataFrame):
    missing = [c for c in _COLS if c not in smile.columns]
    if missing:
        raise ConfigError(f"smile: missing column(s) {missing}; expected {list(_COLS)}")
    s = smile.loc[:, list(_COLS)].astype(float)
    s = s[np.isfinite(s).all(axis=1)].sort_values("k")
    if len(s) < 3:
        raise ConfigError(f"smile: at least 3 quotes with finite k and vols needed, got {len(s)}")
    return s


def knob_fit(smile: pd.DataFrame, T: float, a: float, b: float, rho: float, m: float, sigma: float) -> dict:
    """How one set of raw SVI parameters fits a smile.

    Parameters
    ----------
    smile : pandas.DataFrame
        Quotes with ``k, bid_iv, ask_iv, mid_iv`` (vols as decimals).
    T : float
        Years to expiry.
    a, b, rho, m, sigma : float
        Raw SVI parameters (:class:`mmlab.surface.SVIParams` checks them).

    Returns
    -------
    dict
        ``rmse`` (vol units, against the mid vols), ``inside`` (share of the model vols within
        ``[bid_iv, ask_iv]``), ``min_g`` (Gatheral's butterfly function, minimum over the quotes'
        range), ``butterfly_ok`` (``min_g >= 0``), ``valid`` (``w > 0`` over the range).

    Examples
    --------
    >>> from mmlab.surface import SVIParams
    >>> p = SVIParams(0.02, 0.15, -0.6, 0.02, 0.12)
    >>> k = np.linspace(-0.4, 0.3, 15)
    >>> iv = p.implied_vol(k, 0.5)
    >>> s = pd.DataFrame({"k": k, "bid_iv": iv - 0.01, "ask_iv": iv + 0.01, "mid_iv": iv})
    >>> r = knob_fit(s, 0.5, *p.as_tuple())
    >>> r["rmse"] < 1e-12, r["inside"], r["butterfly_ok"]
    (True, 1.0, True)
    """
    from mmlab.surface import SVIParams, svi_density_g

    if not (math.isfinite(T) and T > 0):
        raise ConfigError(f"T: a positive year fraction, got {T!r}")
    s = _smile_arrays(smile)
    p = SVIParams(float(a), float(b), float(rho), float(m), float(sigma))
    k = s["k"].to_numpy()
    grid = np.linspace(k.min(), k.max(), 201)
    w = np.asarray(p.total_variance(grid), dtype=float)
    valid = bool((w > 0).all())
    wk = np.asarray(p.total_variance(k), dtype=float)
    iv = np.sqrt(np.where(wk > 0, wk, np.nan) / T)
    err = iv - s["mid_iv"].to_numpy()
    inside = (iv >= s["bid_iv"].to_numpy() - 1e-9) & (iv <= s["ask_iv"].to_numpy() + 1e-9)
    g = np.asarray(svi_density_g(grid, *p.as_tuple()), dtype=float) if valid else np.array([np.nan])
    min_g = float(np.nanmin(g)) if np.isfinite(g).any() else float("nan")
    return {
        "rmse": float(np.sqrt(np.nanmean(err**2))) if np.isfinite(err).any() else float("nan"),
        "inside": float(np.mean(inside)),
        "min_g": min_g,
        "butterfly_ok": bool(valid and min_g >= -1e-12),
        "valid": valid,
    }


def make_svi_explorer():
    """Build the :class:`SVIExplorer` class (Panel is imported only here)."""
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend the .opts below need)
    import panel as pn
    import param

    from mmlab.dashboards._format import MISSING
    from mmlab.surface import SVIParams, svi_density_g

    class SVIExplorer(pn.viewable.Viewer):
        """Turn the raw SVI knobs of one smile and see the fit, its error and its ``g(k)``.

        Parameters
        ----------
        smile : pandas.DataFrame
            The expiry's quotes: ``k, bid_iv, ask_iv, mid_iv``.
        T : float
            Years to expiry.
        start : SVIParams, optional
            Where the knobs start (e.g. a fitted slice's ``params``; *Reset* returns there).
            Default: a flat smile at the median mid vol.
        title : str
            Shown above the plots.

        Examples
        --------
        ``SVIExplorer.from_chain("cboe_spx_2023-09-14.csv", "SPX 2023-10-20 13:30")`` starts from
        the inspector's fitted slice; as a cell's last line (after ``pn.extension(inline=True)``)
        it shows sliders for ``a, b, rho, m, sigma``.
        """

        a = param.Number(default=0.01, bounds=(-1.0, 1.0), label="a (level)", doc="Level of total variance")
        b = param.Number(default=0.1, bounds=(0.0, 4.0), label="b (wings)", doc="Wing opening (angle)")
        rho = param.Number(default=0.0, bounds=(-1.0, 1.0), step=0.01, label="rho (skew)", doc="Skew (rotation)")
        m = param.Number(default=0.0, bounds=(-1.0, 1.0), label="m (shift)", doc="Horizontal shift of the vertex")
        sigma = param.Number(default=0.1, bounds=(1e-4, 2.0), label="sigma (vertex curvature)",
                             doc="Curvature at the vertex (> 0)")  # fmt: skip

        def __init__(self, smile: pd.DataFrame, T: float, start=None, title: str = "", **params):
            s = _smile_arrays(smile)
            if not (math.isfinite(T) and T > 0):
                raise ConfigError(f"T: a positive year fraction, got {T!r}")
            self._smile, self._T, self._title = s, float(T), title
            k = s["k"].to_numpy()
            span = max(float(k.max() - k.min()), 0.01)
            wmax = float((s["mid_iv"] ** 2).max() * T)
            if start is None:
                w0 = float(s["mid_iv"].median() ** 2 * T)
                start = SVIParams(w0, 0.0, 0.0, 0.0, 0.1 * span)
            self._start = start
            super().__init__(**params)
            hi_b = max(4.0 * start.b, 2.0 * wmax / span, 1e-3)
            hi_s = max(4.0 * start.sigma, span)
            for name, lo, hi in (("a", -2.0 * wmax, 2.0 * wmax), ("b", 0.0, hi_b),
                                 ("m", float(k.min()) - span, float(k.max()) + span), ("sigma", 1e-4, hi_s)):  # fmt: skip
                p = self.param[name]
                p.bounds = (min(lo, getattr(start, name)), max(hi, getattr(start, name)))
                p.step = (p.bounds[1] - p.bounds[0]) / 400
            self.reset()

        @classmethod
        def from_chain(cls, chain_name: str, expiry: str | None = None, model: str = "svi"):
            """Start from a fitted slice of a shipped chain (the inspector's fit and quotes)."""
            from mmlab.dashboards._vol_compute import _slice, default_expiry, smile_frame

            expiry = expiry or default_expiry(chain_name, model=model)
            _, _, sl = _slice(chain_name, expiry, None, model)
            smile = smile_frame(chain_name, expiry, model=model)
            smile = smile[smile["in_fit"]]
            return cls(smile, sl.T, start=sl.params, title=f"{expiry} ({chain_name}), {model.upper()} fit as start")

        def params(self):
            """The knobs as :class:`~mmlab.surface.SVIParams`."""
            return SVIParams(self.a, self.b, self.rho, self.m, self.sigma)

        def reset(self, *_):
            """Knobs back to the start values."""
            self.param.update(**dict(zip(("a", "b", "rho", "m", "sigma"), self._start.as_tuple(), strict=True)))

        @param.depends("a", "b", "rho", "m", "sigma")
        def _view(self):
            s, T = self._smile, self._T
            k = s["k"].to_numpy()
            grid = np.linspace(k.min(), k.max(), 201)
            p = self.params()
            w = np.asarray(p.total_variance(grid), dtype=float)
            iv = np.sqrt(np.where(w > 0, w, np.nan) / T)
            start_iv = np.asarray(self._start.implied_vol(grid, T), dtype=float)
            bars = hv.ErrorBars((k, s["mid_iv"], s["mid_iv"] - s["bid_iv"], s["ask_iv"] - s["mid_iv"]),
                                kdims=["ln(K/F)"], vdims=["implied vol", "below", "above"], label="bid-ask")  # fmt: skip
            mids = hv.Scatter((k, s["mid_iv"]), "ln(K/F)", "implied vol", label="mid").opts(size=5)
            start = hv.Curve((grid, start_iv), "ln(K/F)", "implied vol", label="start").opts(
                color="grey", line_dash="dashed")
            knob = hv.Curve((grid, iv), "ln(K/F)", "implied vol", label="knobs").opts(color="#d62728", line_width=2)
            smile = (bars * mids * start * knob).opts(
                title=self._title or "raw SVI smile", height=330, responsive=True, legend_position="right",
                show_grid=True, shared_axes=False)  # fmt: skip
            g = (np.asarray(svi_density_g(grid, *p.as_tuple()), dtype=float)
                 if (w > 0).all() else np.full_like(grid, np.nan))  # fmt: skip
            dens = (hv.Curve((grid, g), "ln(K/F)", "g(k)", label="g(k)")
                    * hv.HLine(0).opts(color="red", line_dash="dashed")).opts(
                title="butterfly function g(k) (>= 0: no butterfly arbitrage)", height=200, responsive=True,
                legend_position="right", show_grid=True, shared_axes=False)  # fmt: skip
            r = knob_fit(s, T, *p.as_tuple())
            rmse = MISSING if not math.isfinite(r["rmse"]) else f"{100 * r['rmse']:.2f} vol pts"
            ming = MISSING if not math.isfinite(r["min_g"]) else f"{r['min_g']:.3g}"
            arb = "no butterfly arbitrage" if r["butterfly_ok"] else "**butterfly arbitrage**"
            if not r["valid"]:
                arb = "**negative total variance: not a smile**"
            text = (f"RMSE against the mids {rmse}, inside the bid-ask {r['inside']:.0%}, min g {ming}: {arb}. "
                    f"Wing slopes b(1 - rho) = {p.b * (1 - p.rho):.3g}, b(1 + rho) = {p.b * (1 + p.rho):.3g} "
                    "(Lee: at most 4).")  # fmt: skip
            return pn.Column(pn.pane.Markdown(text, sizing_mode="stretch_width"), smile, dens,
                             sizing_mode="stretch_width")  # fmt: skip

        def __panel__(self):
            hv.extension("bokeh")
            button = pn.widgets.Button(label="Reset to start", color="primary", width=260)
            button.on_click(self.reset)
            fine = {"type": pn.widgets.FloatSlider, "format": "0.[000000]"}  # a is often ~1e-4
            knobs = pn.Param(self.param, parameters=["a", "b", "rho", "m", "sigma"], name="Raw SVI knobs",
                             widgets={n: fine for n in ("a", "b", "rho", "m", "sigma")}, width=280)  # fmt: skip
            return pn.Row(pn.Column(knobs, button, width=290), self._view, sizing_mode="stretch_width")

    return SVIExplorer
