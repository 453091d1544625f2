"""Vol-surface inspector: smiles with their SVI fits, arbitrage flags, ATM term structure, the
surface, Greeks by strike and the fit report of a shipped option chain (a Panel app).

The computations live in :mod:`mmlab.dashboards._vol_compute` and are re-exported here; they are
importable and tested without a browser (the report notebook ``notebooks/vol_surface_report.ipynb``
uses them too):

* :func:`smile_frame` -- one expiry's quotes: bid/mid/ask vols and the fitted SVI vol;
* :func:`smile_fit_curve`, :func:`density_frame` -- the fitted smile and Gatheral's ``g(k)``;
* :func:`term_structure` -- ATM vol (market and fitted) and ATM total variance per expiry;
* :func:`surface_grid` -- implied vol over log-moneyness x expiry (heatmap data);
* :func:`greeks_by_strike` -- Black-76 Greeks per contract at the mid vol;
* :func:`fit_report`, :func:`arbitrage_table`, :func:`smile_summary` -- the fit report
  (:func:`fit_report_table` for display: no ``NaN`` shown, fits at a parameter bound flagged by
  :func:`bound_flags`);
* :func:`default_expiry` -- the expiry the page opens on (enough quotes, not a same-day smile).

:class:`SVIExplorer` puts the five raw SVI parameters of one smile on sliders against its quotes.
Both classes display inline in a notebook cell after ``pn.extension(inline=True)`` (``inline``: the
JavaScript comes from the installed packages; a bare ``pn.extension()`` fetches it from a CDN and
shows nothing offline).

``panel serve mmlab/dashboards/vol_surface.py`` (or ``mmlab serve``, page ``/vol_surface``) shows
:class:`VolSurfaceInspector`.  The fitted surface is cached per chain (:func:`fitted_chain`), so
only the first view of a chain pays for the fit (about 0.3 s for Deribit, 2-7 s for a CBOE
chain on a 2-core machine).
"""

from __future__ import annotations

from pathlib import Path

from mmlab.dashboards._svi_explorer import knob_fit
from mmlab.dashboards._vol_compute import (
    DEFAULT_CHAIN,
    MIN_DEFAULT_QUOTES,
    MODELS,
    arbitrage_table,
    bound_flags,
    chain_names,
    default_expiry,
    default_rate,
    density_frame,
    expiry_labels,
    fit_report,
    fit_report_table,
    fitted_chain,
    greeks_by_strike,
    parse_expiry_label,
    smile_fit_curve,
    smile_frame,
    smile_summary,
    surface_grid,
    term_structure,
)

__all__ = [
    "DEFAULT_CHAIN",
    "GREEK_CHOICES",
    "MIN_DEFAULT_QUOTES",
    "MODELS",
    "SVIExplorer",
    "VolSurfaceInspector",
    "arbitrage_table",
    "bound_flags",
    "chain_names",
    "default_expiry",
    "default_rate",
    "density_frame",
    "expiry_labels",
    "fit_report",
    "fit_report_table",
    "fitted_chain",
    "greeks_by_strike",
    "knob_fit",
    "parse_expiry_label",
    "smile_fit_curve",
    "smile_frame",
    "smile_summary",
    "surface_grid",
    "term_structure",
]

#: Greeks the inspector can plot by strike (columns of :func:`greeks_by_strike`).
GREEK_CHOICES = ["delta", "gamma", "vega", "theta", "dollar_delta", "dollar_gamma", "dollar_vega", "dollar_theta"]


def _make_inspector():
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend the .opts below need)
    import panel as pn
    import param

    class VolSurfaceInspector(pn.viewable.Viewer):
        """Pick a shipped chain and one of its fitted expiries; see its smile and the surface.

        Parameters
        ----------
        chain : str
            File name of a shipped option chain (``data/options/``); default the small Deribit
            BTC chain.
        expiry : str
            A fitted expiry of the chain, ``"<root> <YYYY-MM-DD HH:MM>"`` (UTC); default
            :func:`default_expiry` (the first with at least 10 quotes and a day to go). The
            choices follow the chain.
        wings : bool
            Also show the quotes outside the fitted slice's domain (far wings, where SVI
            extrapolates linearly in total variance).
        greek : str
            The Greek plotted by strike (:data:`GREEK_CHOICES`).
        model : str
            ``'svi'`` (raw SVI per expiry, repaired where arbitrage) or ``'ssvi'`` (one global
            SSVI surface: compare the fit reports).
        n_k : int
            Log-moneyness points of the surface heatmap (11 to 201).
        """

        chain = param.Selector(default=DEFAULT_CHAIN, objects=chain_names(), doc="Shipped option chain (data/options)")
        expiry = param.Selector(default=None, objects=[], doc="Fitted expiry: root and UTC expiry time")
        wings = param.Boolean(default=False, doc="Show quotes outside the fitted domain")
        model = param.Selector(default="svi", objects=list(MODELS),
                               doc="Surface model: raw SVI per expiry or one global SSVI")  # fmt: skip
        greek = param.Selector(default="delta", objects=GREEK_CHOICES, doc="Greek plotted by strike")
        n_k = param.Integer(default=41, bounds=(11, 201), doc="Log-moneyness points of the surface heatmap")

        def __init__(self, **params):
            super().__init__(**params)
            self._update_expiries()

        @param.depends("chain", "model", watch=True)
        def _update_expiries(self):
            labels = expiry_labels(self.chain, model=self.model)
            self.param.expiry.objects = labels
            if self.expiry not in labels:
                self.expiry = default_expiry(self.chain, model=self.model)

        # ------------------------------------------------------------------ views
        @param.depends("chain", "expiry", "model")
        def _summary(self):
            text = smile_summary(self.chain, self.expiry, model=self.model)
            rep = fit_report(self.chain, model=self.model).set_index("expiry_label")
            flag = rep.loc[self.expiry, "at_bound"]
            md = pn.pane.Markdown(text, sizing_mode="stretch_width")
            if not flag:
                return md
            alert = pn.pane.Alert(
                f"**Fit at a parameter bound: {flag}.** The optimiser stopped on the edge of the raw SVI "
                "parameter space, not at an interior optimum: read the wings with care (at rho = -1 the "
                "right wing is flat and the left wing a straight line in total variance).",
                alert_type="warning", sizing_mode="stretch_width")  # fmt: skip
            return pn.Column(md, alert, sizing_mode="stretch_width")

        @param.depends("chain", "expiry", "wings", "model")
        def _smile(self):
            s = smile_frame(self.chain, self.expiry, model=self.model)
            curve = smile_fit_curve(self.chain, self.expiry, model=self.model)
            if not self.wings:
                s = s[(s["k"] >= curve["k"].min()) & (s["k"] <= curve["k"].max())]
            bars = hv.ErrorBars(
                (s["strike"], s["mid_iv"], s["mid_iv"] - s["bid_iv"], s["ask_iv"] - s["mid_iv"]),
                kdims=["strike"], vdims=["iv", "below", "above"], label="bid-ask",
            )  # fmt: skip
            mids = hv.Scatter((s["strike"], s["mid_iv"]), "strike", "iv", label="mid").opts(size=5, color="black")
            fit = hv.Curve((curve["strike"], curve["fit_iv"]), "strike", "iv",
                           label=f"{self.model.upper()} fit").opts(line_width=2, color="#d62728")  # fmt: skip
            return (bars * mids * fit).opts(
                title=f"smile {self.expiry}", height=340, responsive=True, legend_position="right",
                ylabel="implied vol", shared_axes=False, show_grid=True,
            )  # fmt: skip

        @param.depends("chain", "expiry", "model")
        def _density(self):
            d = density_frame(self.chain, self.expiry, model=self.model)
            g = hv.Curve((d["k"], d["g"]), "k", "g", label="g(k)")
            zero = hv.HLine(0).opts(color="red", line_dash="dashed")
            return (g * zero).opts(title="butterfly function g(k) (>= 0: no butterfly arbitrage)",
                                   height=220, responsive=True, shared_axes=False, toolbar="above",
                                   xlabel="ln(K/F)", show_grid=True)  # fmt: skip

        @param.depends("chain", "model")
        def _term(self):
            ts = term_structure(self.chain, model=self.model)
            fit = hv.Curve((ts["T"], ts["atm_iv_fit"]), "T", "ATM vol", label=f"{self.model.upper()} fit")
            mkt = hv.Scatter((ts["T"], ts["atm_iv_market"]), "T", "ATM vol", label="market").opts(size=6)
            return (fit * mkt).opts(title="ATM term structure", height=260, responsive=True,
                                    xlabel="T (years)", shared_axes=False, legend_position="right",
                                    show_grid=True, padding=0.05)  # fmt: skip

        @param.depends("chain", "n_k", "model")
        def _heatmap(self):
            g = surface_grid(self.chain, n_k=self.n_k, model=self.model)
            g = g.assign(k=g["k"].round(4))
            return hv.HeatMap(g, ["k", "expiry_label"], "iv").opts(
                title="implied vol surface (fitted domains)", height=max(260, 18 * g["expiry_label"].nunique()),
                responsive=True, colorbar=True, cmap="viridis", tools=["hover"], xrotation=90,
                xlabel="ln(K/F)", ylabel="expiry", shared_axes=False,
            )  # fmt: skip

        @param.depends("chain", "expiry", "greek", "wings", "model")
        def _greeks(self):
            g = greeks_by_strike(self.chain, self.expiry, model=self.model)
            if not self.wings:
                c = smile_fit_curve(self.chain, self.expiry, model=self.model)
                g = g[(g["strike"] >= c["strike"].min()) & (g["strike"] <= c["strike"].max())]
            curves = [hv.Curve((part["strike"], part[self.greek]), "strike", self.greek,
                               label="calls" if right == "C" else "puts")
                      for right, part in g.groupby("right")]  # fmt: skip
            return hv.Overlay(curves).opts(title=f"{self.greek} by strike", height=260, responsive=True,
                                           shared_axes=False, legend_position="right", show_grid=True,
                                           padding=0.05)  # fmt: skip

        @param.depends("chain", "model")
        def _report(self):
            rep = fit_report_table(self.chain, model=self.model)
            return pn.pane.DataFrame(rep, sizing_mode="stretch_width", index=False)

        def __panel__(self):
            hv.extension("bokeh")
            return pn.Row(
                pn.Param(self.param, width=280, name="Vol surface"),
                pn.Column(
                    self._summary, self._smile, self._density,
                    pn.Row(self._term, self._greeks, sizing_mode="stretch_width"),
                    self._heatmap,
                    pn.pane.Markdown("### Fit report per expiry (errors in vol points against the mid vols; "
                                     "inside = share of fitted vols within the bid-ask; \u2014 = not computed)"),
                    self._report,
                    sizing_mode="stretch_width",
                ),
                sizing_mode="stretch_width",
            )  # fmt: skip

    return VolSurfaceInspector


#: Built on first access by the module ``__getattr__`` (importing Panel is slow); declared for linters.
VolSurfaceInspector: type
SVIExplorer: type


def __getattr__(name: str):
    if name == "VolSurfaceInspector":  # built lazily: importing panel is slow
        cls = _make_inspector()
        globals()[name] = cls
        return cls
    if name == "SVIExplorer":
        from mmlab.dashboards._svi_explorer import make_svi_explorer

        cls = make_svi_explorer()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__.startswith("bokeh"):  # `panel serve mmlab/dashboards/vol_surface.py`
    import panel as _pn

    _pn.extension(sizing_mode="stretch_width")
    _make_inspector()().servable(title="mmlab vol-surface inspector")

if __name__ == "__main__":  # pragma: no cover
    print(f"serve with: panel serve {Path(__file__)} --address 127.0.0.1")
