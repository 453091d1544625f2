"""`mmlab backtest`: a data file or catalog name, a strategy with -p parameters, --set settings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mmlab.cli import app, split_backtest_args
from mmlab.data import save_npz, synthetic_l2_events
from mmlab.errors import ConfigError


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    p = tmp_path_factory.mktemp("bt") / "synthetic.npz"
    save_npz(p, synthetic_l2_events(session_seconds=30, seed=5))
    return p


def test_backtest_grid_on_npz_writes_summary_and_parquet(npz, tmp_path):
    out = tmp_path / "res.parquet"
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "grid", "-p", "half_spread", "0.01",
                                   "-p", "order_qty", "1", "--set", "max_position", "3",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    parts = s["spread_pnl"] + s["inventory_pnl"] + s["fee_pnl"] + s["funding_pnl"]
    assert abs(parts - s["total_pnl"]) < 1e-9
    assert out.exists() or any(tmp_path.iterdir())


def test_backtest_bad_strategy_and_arguments(npz):
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "magic"])
    assert res.exit_code == 1 and "strategy" in res.output
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "grid", "-p", "nonsense", "1"])
    assert res.exit_code == 1 and "grid" in res.output
    with pytest.raises(ConfigError, match="needs a key and a value"):
        split_backtest_args(["-p", "half_spread"])


def test_catalog_name_runs_with_its_instrument(tmp_path):
    # the shipped USD-M BTCUSDT perpetual: instruments.toml gives tick 0.1, lot 0.001 and the
    # Binance USD-M VIP0 fees (maker 2 bp, taker 5 bp); "none" turns the instrument off
    from mmlab.data import get_instrument

    inst = get_instrument("BINANCE_USDM:BTCUSDT")
    args = ["backtest", "binance-usdm-btcusdt-20240808", "--catalog", str(tmp_path), "-p",
            "half_spread", "2", "-p", "order_qty", "0.01", "--set", "max_position", "0.05"]
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    from mmlab.backtest import read_result

    p = read_result(out).params
    assert p["tick_size_used"] == inst.tick_size and p["lot_size_used"] == inst.lot_size
    assert p["maker_fee"] > 0 and s["n_fills"] > 0 and s["fee_pnl"] < 0
    res = CliRunner().invoke(app, [*args, "--set", "instrument", "none"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["fee_pnl"] == 0.0


def test_backtest_glft_auto_params_fitted_on_the_data(npz, tmp_path):
    # -p A/k/sigma_px auto: fitted by mmlab.quoting.fit_intensity on the same data, echoed to
    # stderr (stdout stays the JSON summary) and passed to the strategy unchanged
    import numpy as np

    from mmlab.backtest import read_result
    from mmlab.data import load_npz
    from mmlab.quoting import fit_intensity

    est = fit_intensity(load_npz(npz))
    out = tmp_path / "auto.parquet"
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "glft", "-p", "gamma", "0.1",
                                   "-p", "A", "auto", "-p", "k", "auto", "-p", "sigma_px", "auto",
                                   "-p", "order_size", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert f"A = {est.A:.6g} 1/s per side" in res.stderr
    assert f"k = {est.k:.6g} 1/price" in res.stderr
    assert f"sigma_px = {est.sigma_px:.6g} price/sqrt(s)" in res.stderr
    assert json.loads(res.stdout)["strategy"] == "glft"
    p = read_result(out).params
    assert np.isclose(p["A"], est.A, rtol=1e-12) and np.isclose(p["k"], est.k, rtol=1e-12)
    assert np.isclose(p["sigma_px"], est.sigma_px, rtol=1e-12)
    # a fixed value next to auto stays as given; the time unit follows --set time_unit_ns
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "glft", "-p", "gamma", "0.1",
                                   "-p", "A", "auto", "-p", "k", "50", "-p", "sigma_px", "0.01",
                                   "--set", "time_unit_ns", "1e6"])
    assert res.exit_code == 0, res.output
    assert f"A = {est.A / 1000:.6g} 1/ms per side" in res.stderr and "k =" not in res.stderr
    # data the intensity cannot be fitted on: one line, exit 1
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "glft", "-p", "gamma", "0.1",
                                   "-p", "A", "auto", "-p", "k", "auto", "-p", "sigma_px", "auto",
                                   "--set", "time_unit_ns", "0"])
    assert res.exit_code == 1 and "time_unit_ns" in res.output


def test_an_unknown_setting_is_one_line(npz):
    """Issue 11: ``--set bogus 1`` was a TypeError traceback."""
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "grid", "-p", "half_spread",
                                   "0.01", "-p", "order_qty", "1", "--set", "bogus", "1"])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "bogus: not a backtest setting" in lines[0], res.output


@pytest.mark.parametrize("strategy,params", [
    ("as", ["-p", "gamma", "0.1", "-p", "k", "1.5"]),
    ("as-inf", ["-p", "gamma", "0.1", "-p", "k", "1.5", "-p", "max_inventory", "5"]),
    ("glft", ["-p", "gamma", "0.1", "-p", "A", "1", "-p", "k", "1.5"]),
])
@pytest.mark.parametrize("value", ["2", "auto"])
def test_the_old_sigma_name_is_one_line_naming_sigma_px(npz, strategy, params, value):
    """Issue 10: quoting's sigma (price per sqrt(time unit)) is now sigma_px; ``-p sigma`` says so."""
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", strategy, *params,
                                   "-p", "sigma", value])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert "sigma=...): renamed sigma_px" in lines[0] and "price per sqrt(time unit)" in lines[0]


def test_scripted_orders_from_a_csv_file(npz, tmp_path):
    """`-s scripted -p orders FILE`: orders entered as written (ts in UTC ns); a bad row is an
    error naming the file and the row."""
    from mmlab.data import load_npz

    ev = load_npz(npz)
    t0 = int(ev["local_ts"].min())
    px = float(ev["px"][(ev["qty"] > 0)][0])
    f = tmp_path / "orders.csv"
    # two crossing orders 5 s apart (buy far above, sell far below: each takes the touch)
    f.write_text(f"ts,side,price,qty\n{t0 + 5_000_000_000},1,{round(px + 1.0, 2)},1\n"
                 f"{t0 + 10_000_000_000},-1,{round(px - 1.0, 2)},1\n")
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "scripted", "-p", "orders",
                                   str(f), "--set", "max_position", "3", "--set", "post_only",
                                   "false", "--set", "tick_size", "0.01"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert s["n_fills"] == 2 and s["final_position"] == 0.0
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,side,price,qty\n1,1,100.0,1\n2,one,100.0,1\n")
    res = CliRunner().invoke(app, ["backtest", str(npz), "-s", "scripted", "-p", "orders",
                                   str(bad)])
    assert res.exit_code == 1 and "bad.csv, row 3" in res.output
