"""The package imports, exposes its errors and its event format."""

from __future__ import annotations

import numpy as np

import mmlab
from mmlab.data import EVENT_DTYPE


def test_event_dtype_is_hftbacktest_layout():
    # hftbacktest 2.x event_dtype: 8 fields of 8 bytes, aligned -> 64 bytes.
    assert EVENT_DTYPE.itemsize == 64
    assert EVENT_DTYPE.names == ("ev", "exch_ts", "local_ts", "px", "qty", "order_id", "ival", "fval")


def test_event_dtype_matches_installed_hftbacktest():
    hbt_types = __import__("hftbacktest.types", fromlist=["event_dtype"])
    assert np.dtype(hbt_types.event_dtype) == EVENT_DTYPE
    for name in ("DEPTH_EVENT", "TRADE_EVENT", "DEPTH_CLEAR_EVENT", "DEPTH_SNAPSHOT_EVENT",
                 "EXCH_EVENT", "LOCAL_EVENT", "BUY_EVENT", "SELL_EVENT"):
        assert getattr(hbt_types, name) == getattr(mmlab.data, name), name


def test_data_error_names_file_and_row():
    err = mmlab.DataError("bad", path="f.csv", row=3)
    assert "f.csv" in str(err) and "row 3" in str(err)
    assert isinstance(err, ValueError)


def test_cli_help_on_every_command():
    from typer.testing import CliRunner

    from mmlab.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0, res.output
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for name in names:
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0, (name, res.output)
    for grp in app.registered_groups:
        res = runner.invoke(app, [grp.name, "--help"])
        assert res.exit_code == 0, (grp.name, res.output)
