"""Avellaneda-Stoikov knobs: risk aversion gamma and order-flow decay k on sliders (a Panel app).

The paper's experiment (Avellaneda & Stoikov 2008, section 4: ``s = 100, T = 1, sigma_px = 2,
dt = 0.005, A = 140``) rerun for the gamma and k a reader picks, with
:func:`mmlab.quoting.simulate_avellaneda_stoikov`: the inventory strategy against the symmetric
one, their profit distributions and the quotes the inventory strategy posts.

The computations are importable without a browser:

* :func:`as_quotes` -- the inventory strategy's bid and ask around the mid by inventory, from the
  paper's closed forms: reservation price ``r = s - q gamma sigma_px^2 (T - t)`` and full spread
  ``gamma sigma_px^2 (T - t) + (2 / gamma) ln(1 + gamma / k)`` (equations 29-30);
* :func:`as_knob_table` -- mean and standard deviation of profit and final inventory, and the
  average spread, of both strategies for one ``(gamma, k)``.

``mmlab serve`` shows :class:`ASExplorer` at ``/avellaneda_stoikov``; in a notebook,
``pn.extension(inline=True)`` then ``ASExplorer()`` as a cell's last line shows it inline.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["ASExplorer", "as_knob_table", "as_quotes"]

#: The paper's model constants (section 4).
PAPER = {"s0": 100.0, "T": 1.0, "sigma_px": 2.0, "dt": 0.005, "A": 140.0}


def _positive(name: str, v) -> float:
    x = float(v)
    if not (math.isfinite(x) and x > 0):
        raise ConfigError(f"{name}: finite and > 0, got {v!r}")
    return x


def as_quotes(gamma: float, k: float, q=range(-10, 11), t: float = 0.0, s: float = 100.0,
              sigma_px: float = 2.0, T: float = 1.0) -> pd.DataFrame:  # fmt: skip
    """The inventory strategy's quotes by inventory ``q`` at time ``t`` (Avellaneda & Stoikov 2008).

    ``sigma_px`` is the mid's volatility in price per square root of the time unit of ``T`` and
    ``t`` (not annualised); ``k`` is per price unit, ``gamma`` per unit of wealth.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``q``: ``reservation`` (``r = s - q gamma sigma_px^2 (T - t)``), ``bid``, ``ask``
        (``r -+ spread / 2``), ``bid_offset`` and ``ask_offset`` (distances from the mid ``s``)
        and ``spread`` (``gamma sigma_px^2 (T - t) + (2/gamma) ln(1 + gamma/k)``, the same for every q).

    Examples
    --------
    The paper's gamma = 0.1, k = 1.5 at t = 0: spread 0.1 * 4 + 20 ln(1 + 0.1/1.5) = 1.6908

    >>> qt = as_quotes(0.1, 1.5, q=[-1, 0, 1])
    >>> round(float(qt.loc[0, "spread"]), 4), round(float(qt.loc[1, "reservation"]), 2)
    (1.6908, 99.6)
    """
    gamma, k, sigma_px, T, s = (_positive(n, v) for n, v in (("gamma", gamma), ("k", k), ("sigma_px", sigma_px), ("T", T), ("s", s)))
    if not (0.0 <= float(t) <= T):
        raise ConfigError(f"t: within [0, T = {T}], got {t!r}")
    qs = np.asarray(list(q), dtype=float)
    tau = T - float(t)
    spread = gamma * sigma_px**2 * tau + 2.0 / gamma * math.log1p(gamma / k)
    r = s - qs * gamma * sigma_px**2 * tau
    out = pd.DataFrame({"reservation": r, "bid": r - spread / 2, "ask": r + spread / 2}, index=pd.Index(qs, name="q"))
    out["bid_offset"] = s - out["bid"]
    out["ask_offset"] = out["ask"] - s
    out["spread"] = spread
    return out


def as_knob_table(gamma: float, k: float, n_paths: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Both strategies of the paper's experiment for one ``(gamma, k)`` (other constants the paper's).

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy (``inventory``, ``symmetric``): ``spread`` (average), ``mean_profit``,
        ``std_profit``, ``mean_final_q``, ``std_final_q``; ``attrs`` holds the inputs.

    Examples
    --------
    >>> t = as_knob_table(0.1, 1.5, n_paths=2000)
    >>> bool(t.loc["inventory", "std_profit"] < t.loc["symmetric", "std_profit"])
    True
    """
    gamma, k = _positive("gamma", gamma), _positive("k", k)
    rows = {}
    for strat, df in _runs(gamma, k, n_paths, seed).items():
        rows[strat] = {"spread": float(df["spread"].mean()), "mean_profit": float(df["profit"].mean()),
                       "std_profit": float(df["profit"].std(ddof=1)), "mean_final_q": float(df["final_q"].mean()),
                       "std_final_q": float(df["final_q"].std(ddof=1))}  # fmt: skip
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "strategy"
    out.attrs.update(gamma=gamma, k=k, n_paths=int(n_paths), seed=seed, **PAPER)
    return out


@functools.lru_cache(maxsize=16)
def _runs(gamma: float, k: float, n_paths: int, seed: int) -> dict[str, pd.DataFrame]:
    """Both strategies' paths, once per knob setting (the table and the histogram share them)."""
    from mmlab.quoting import simulate_avellaneda_stoikov

    return {s: simulate_avellaneda_stoikov(gamma, s, n_paths=n_paths, seed=seed, s0=PAPER["s0"], T=PAPER["T"],
                                           sigma_px=PAPER["sigma_px"], dt=PAPER["dt"], k=k, A=PAPER["A"])
            for s in ("inventory", "symmetric")}  # fmt: skip


def _make_explorer():
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend the .opts below need)
    import panel as pn
    import param

    from mmlab.dashboards._format import human_number

    class ASExplorer(pn.viewable.Viewer):
        """Turn gamma and k; see the quotes by inventory and both strategies' profit distributions.

        Parameters
        ----------
        gamma : float
            Risk aversion (the paper: 0.01, 0.1, 1).
        k : float
            Decay of the fill intensity with the distance from the mid, ``A e^(-k delta)`` (1.5).
        n_paths : int
            Simulated paths per strategy.
        seed : int
            Seed of the simulation (both strategies share the random numbers).
        """

        gamma = param.Number(default=0.1, bounds=(0.005, 2.0), step=0.005, label="gamma (risk aversion)",
                             doc="Risk aversion gamma")  # fmt: skip
        k = param.Number(default=1.5, bounds=(0.1, 5.0), step=0.05, label="k (fill-rate decay)",
                         doc="Fill intensity A exp(-k delta): its decay k")  # fmt: skip
        n_paths = param.Integer(default=1000, bounds=(100, 20000), label="paths per strategy")
        seed = param.Integer(default=0, bounds=(0, None), doc="Simulation seed")

        @param.depends("gamma", "k")
        def _quotes(self):
            qt = as_quotes(self.gamma, self.k)
            mid0 = as_quotes(self.gamma, self.k, t=0.5)
            curves = [
                hv.Curve((qt.index, qt["ask_offset"]), "inventory q", "distance from the mid",
                         label="ask, t = 0").opts(color="#d62728"),
                hv.Curve((qt.index, -qt["bid_offset"]), "inventory q", "distance from the mid",
                         label="bid, t = 0").opts(color="#2ca02c"),
                hv.Curve((mid0.index, mid0["ask_offset"]), "inventory q", "distance from the mid",
                         label="ask, t = T/2").opts(color="#d62728", line_dash="dashed"),
                hv.Curve((mid0.index, -mid0["bid_offset"]), "inventory q", "distance from the mid",
                         label="bid, t = T/2").opts(color="#2ca02c", line_dash="dashed"),
                hv.HLine(0).opts(color="grey", line_dash="dotted"),
            ]  # fmt: skip
            return hv.Overlay(curves).opts(
                title="inventory strategy: quotes around the mid (sigma_px = 2, T = 1)", height=300, responsive=True,
                legend_position="right", show_grid=True, shared_axes=False)  # fmt: skip

        @param.depends("gamma", "k", "n_paths", "seed")
        def _profits(self):
            prof = {s: df["profit"].to_numpy() for s, df in _runs(self.gamma, self.k, self.n_paths, self.seed).items()}
            lo = min(float(np.percentile(p, 0.5)) for p in prof.values())
            hi = max(float(np.percentile(p, 99.5)) for p in prof.values())
            edges = np.linspace(lo, hi, 61)
            hists = [hv.Histogram(np.histogram(np.clip(p, lo, hi), bins=edges), kdims="profit", vdims="paths",
                                  label=name).opts(alpha=0.55, color=c, line_width=0)
                     for (name, p), c in zip(prof.items(), ("#1f77b4", "#ff7f0e"), strict=True)]  # fmt: skip
            return hv.Overlay(hists).opts(title="profit at T, marked at the final mid", height=300, responsive=True,
                                          legend_position="right", show_grid=True, shared_axes=False)  # fmt: skip

        @param.depends("gamma", "k", "n_paths", "seed")
        def _table(self):
            t = as_knob_table(self.gamma, self.k, self.n_paths, self.seed)
            shown = pd.DataFrame({
                "average spread": [human_number(v) for v in t["spread"]],
                "mean profit": [human_number(v) for v in t["mean_profit"]],
                "std profit": [human_number(v) for v in t["std_profit"]],
                "mean final q": [human_number(v, 3) for v in t["mean_final_q"]],
                "std final q": [human_number(v, 3) for v in t["std_final_q"]],
            }, index=t.index)  # fmt: skip
            return pn.pane.DataFrame(shown, sizing_mode="stretch_width")

        def __panel__(self):
            hv.extension("bokeh")
            knobs = pn.Param(self.param, parameters=["gamma", "k", "n_paths", "seed"], name="Avellaneda-Stoikov",
                             width=280)  # fmt: skip
            note = pn.pane.Markdown(
                "Avellaneda & Stoikov (2008), section 4: s = 100, T = 1, sigma_px = 2, dt = 0.005, A = 140. "
                "The inventory strategy quotes around the reservation price; the symmetric one around the "
                "mid with the same average spread.", sizing_mode="stretch_width")  # fmt: skip
            return pn.Row(knobs, pn.Column(note, self._quotes, self._profits, self._table,
                                           sizing_mode="stretch_width"), sizing_mode="stretch_width")  # fmt: skip

    return ASExplorer


#: Built on first access by the module ``__getattr__`` (importing Panel is slow); declared for linters.
ASExplorer: type


def __getattr__(name: str):
    if name == "ASExplorer":  # built lazily: importing panel is slow
        cls = _make_explorer()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__.startswith("bokeh"):  # `panel serve mmlab/dashboards/avellaneda_stoikov.py`
    import panel as _pn

    _pn.extension(sizing_mode="stretch_width")
    _make_explorer()().servable(title="mmlab Avellaneda-Stoikov knobs")

if __name__ == "__main__":  # pragma: no cover
    print(f"serve with: panel serve {Path(__file__)} --address 127.0.0.1")
