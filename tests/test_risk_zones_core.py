"""The risk ladder's soft zones in the one core (issue 10), as :mod:`mmlab.risk` defines them:
on the side that grows the position, usage ``max(0, side x position) / max_position`` in yellow
(0.3 to 0.7) shrinks sizes (to 0.5x) and widens the distance from the mid (to 2x) linearly
across the band; in red (from 0.7) that side does not quote (reduce-only). Checked decision by
decision on the step table of a BTCUSDT grid, against :func:`mmlab.risk.ladder_decision` (the
reference implementation of the ladder), and the same in the step driver.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, run
from mmlab.data import load_binance
from mmlab.risk import RiskLimits, ladder_decision
from mmlab.runtime import replay

MS = 1_000_000
KW = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
          response_latency=10 * MS, maker_fee=0.0002, taker_fee=0.0005, record_every=1,
          toxicity_window=0, clip="none")
GRID = GridStrategy(half_spread=1.0, order_qty=0.01, skew=0.0, clip="none")


@pytest.fixture(scope="module")
def res(data_dir):
    ev = load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")
    return ev, run(ev, GRID, zones=True, **KW)


def test_zones_decision_by_decision(res):
    _, r = res
    st = r.steps.dropna(subset=["local_mid"])
    lim = RiskLimits(max_position=0.1)
    seen = {"GREEN": 0, "YELLOW": 0, "RED": 0}
    for q, m, qb, qa in zip(st["local_position"], st["local_mid"], st["quote_bid"],
                            st["quote_ask"], strict=True):
        for side, quote in ((1, qb), (-1, qa)):
            # the reference ladder on the position alone (the core's soft zones read it; the
            # hard limit counts working and in-flight orders)
            d = ladder_decision(side, 0.01, float(q), 0.0, 0.0, lim)
            seen[d.zone.name] = seen.get(d.zone.name, 0) + 1
            size = np.floor(d.size / 0.001 + 1e-9) * 0.001
            if size <= 0:
                assert np.isnan(quote), (q, side, quote)
                continue
            want = m - side * 1.0 * d.spread_mult
            tick = np.floor(want / 0.1 + 1e-9) if side == 1 else np.ceil(want / 0.1 - 1e-9)
            assert quote == pytest.approx(tick * 0.1, abs=1e-9), (q, side, quote, want)
    assert seen["YELLOW"] > 50 and seen["RED"] > 50 and seen["GREEN"] > 50, seen


def test_zones_off_by_default_and_replayed_alike(res):
    ev, r = res
    off = run(ev, GRID, **KW)
    assert not off.fills.equals(r.fills)
    got = replay(ev, GRID, zones=True, batch_seed=3, **KW)
    pd.testing.assert_frame_equal(got.fills, r.fills)
