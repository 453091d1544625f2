"""`mmlab backtest` prints valid JSON: null for NaN / inf, and the Sharpe with its basis."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import mmlab.backtest
from mmlab.cli import app, json_safe


class _FakeResult:
    """What the CLI reads of a backtest result: a summary with NaNs, the steps and the interval."""

    params = {"interval": 100_000_000}
    steps = pd.DataFrame({"ts": np.arange(3600, dtype=np.int64) * 100_000_000})

    def summary(self):
        return {"strategy": "grid", "steps": 3600, "sharpe": 293.0, "sortino": math.inf,
                "mean_markout_1s": float("nan"), "n_fills": np.int64(3), "total_pnl": np.float32("nan")}


def test_backtest_summary_is_strict_json_with_the_sharpe_basis(tmp_path, monkeypatch):
    events = tmp_path / "events.npz"
    events.write_bytes(b"not read: run is replaced")
    monkeypatch.setattr(mmlab.backtest, "run", lambda *a, **k: _FakeResult())
    res = CliRunner().invoke(app, ["backtest", str(events), "-p", "half_spread", "1", "-p", "order_qty", "1"])
    assert res.exit_code == 0, res.output
    assert "NaN" not in res.output and "Infinity" not in res.output
    out = json.loads(res.output, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))  # strict
    assert out["mean_markout_1s"] is None and out["sortino"] is None and out["total_pnl"] is None
    assert out["n_fills"] == 3 and out["sharpe"] == 293.0
    # 3,600 steps of 100 ms = six minutes: stated, with the annualisation, and flagged
    basis = out["sharpe_basis"]
    assert "100 ms" in basis and "3,599 steps" in basis and "6 min 0 s" in basis and "too short" in basis


def test_json_safe_nested():
    assert json_safe({"a": [float("nan"), {"b": -math.inf}], "c": np.float64(1.5)}) == {"a": [None, {"b": None}], "c": 1.5}
