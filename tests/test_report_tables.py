"""Report tables and headline: formatting, CSV download, checks, ratio basis."""

from __future__ import annotations

import base64
import io
import math
import re

import pandas as pd
import pytest

from mmlab.errors import ConfigError
from mmlab.reports import Checks, ChecksFailed, Headline, RatioBasis, price, table, tick_decimals
from mmlab.reports.headline import RECORD_MIME
from mmlab.reports.tables import csv_data_uri, fmt_duration, fmt_num, fmt_pct


def _csv_of(html: str) -> pd.DataFrame:
    m = re.search(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"', html)
    assert m, "no CSV data URI in the table"
    return pd.read_csv(io.StringIO(base64.b64decode(m.group(1)).decode("utf-8")))


def test_tick_precision_and_number_formats():
    # ticks of the instrument master: BTCUSDT perp 0.1, Binance spot 0.01, SPX options 0.05,
    # Deribit options 0.0005 BTC, the Deribit perpetual 0.5 (mmlab/data/instruments.toml)
    assert [tick_decimals(t) for t in (0.1, 0.01, 0.05, 0.0005, 0.5, 1.0)] == [1, 2, 2, 4, 1, 0]
    assert price(0.1)(61234.5600001) == "61,234.6" and price(0.0005)(0.01234) == "0.0123"
    assert fmt_pct(0.085185) == "8.52 %" and fmt_pct(1.0, 0) == "100 %"
    assert fmt_num(1584.875524) == "1,585" and fmt_num(-0.000123456) == "-0.0001235"
    assert fmt_duration(pd.Timedelta("0 days 00:10:50.401000")) == "10 min 50.4 s"
    for bad in (0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="tick"):
            tick_decimals(bad)


def test_table_formats_truncates_and_embeds_the_full_csv():
    full = pd.DataFrame({
        "expiry": [f"E{i}" for i in range(59)],
        "atm_iv": [0.085185 + i * 1e-3 for i in range(59)],
        "forward": [4510.4004 + i for i in range(59)],
        "n_ok": [298 * 10 + i for i in range(59)],
        "rmse": [float("nan")] + [0.000489] * 58,
    })
    t = table(full, {"atm_iv": "pct", "forward": price(0.01)}, columns=["expiry", "atm_iv", "forward", "n_ok", "rmse"],
              rows=10, csv="expiries.csv")
    html = t._repr_html_()
    assert len(t.shown) == 10 and "Showing 10 of 59 rows." in html
    first = t.shown.iloc[0].tolist()
    assert first == ["E0", "8.52 %", "4,510.40", "2,980", "\u2013"]  # vols in %, tick precision, separators, a dash
    assert "NaN" not in html and "nan" not in html.lower().replace("nanos", "")
    assert 'download="expiries.csv"' in html and "59 rows \u00d7 5 columns" in html
    back = _csv_of(html)  # the download holds every row, unformatted
    assert back.shape == (59, 5) and back["atm_iv"].iloc[3] == pytest.approx(0.088185, abs=1e-12)
    assert math.isnan(back["rmse"].iloc[0])
    # numbers right-aligned, text left-aligned
    assert '<td style="text-align:left">E0</td>' in html and '<td style="text-align:right">8.52 %</td>' in html
    with pytest.raises(ConfigError, match="not in the table"):
        table(full, {"nope": "pct"})
    with pytest.raises(ConfigError, match="formats"):
        table(full, {"atm_iv": "percent"})
    assert csv_data_uri(full.head(1)).startswith("data:text/csv;charset=utf-8;base64,")


def test_checks_and_headline_record():
    c = Checks()
    c.check("parts add up", True)
    c.check("inside >= 80 %", False, "73.8 % on SPY 2023-12-15", required=False)
    c.verify()  # an optional failure does not stop the report
    h = Headline("t", "ran", "data", [("PnL", "1.0 USD"), ("Sharpe", "2.0", "basis", True)], c, {"f.csv": "ab" * 32})
    bundle = h._repr_mimebundle_()
    rec = bundle[RECORD_MIME]
    assert rec["checks_passed"] == 1 and rec["checks_total"] == 2 and rec["checks_not_enforced"] == 1
    assert "fail (not enforced)" in bundle["text/html"] and "abababababab" in bundle["text/html"]
    c.check("position within the limit", False, "max 0.2 > 0.1")
    with pytest.raises(ChecksFailed, match="position within the limit"):
        c.verify()
    with pytest.raises(ConfigError, match="twice"):
        c.check("parts add up", True)
    with pytest.raises(ChecksFailed, match="no checks"):
        Checks().verify()
    with pytest.raises(ConfigError, match="figures"):
        Headline("t", "r", "d", [], c)


def test_ratio_basis_states_annualisation_observations_and_flags_short_windows():
    # Lo (2002), "The Statistics of Sharpe Ratios", FAJ 58(4): for iid returns the per-period
    # estimate has s.e. sqrt((1 + SR^2 / 2) / N); SR = 0 over N = 100 daily returns: 0.1 per day,
    # x sqrt(365) = 1.9105 annualised.
    b = RatioBasis("Sharpe", 0.0, observations=100, period_ns=86_400e9, window_ns=100 * 86_400e9)
    assert b.annualisation == pytest.approx(math.sqrt(365), rel=1e-12)
    assert b.stderr == pytest.approx(0.1 * math.sqrt(365), rel=1e-12) and not b.too_short
    # the case: Sharpe 293 over six minutes of 100 ms steps; s.e. ~ sqrt(year / window)
    six = RatioBasis("Sharpe", 293.0, observations=3600, period_ns=1e8, window_ns=360e9)
    assert six.stderr == pytest.approx(math.sqrt(365 * 86_400 / 360), rel=1e-3) and six.too_short
    text = six.text()
    assert "100 ms" in text and "3,600 steps" in text and "6 min 0 s" in text and "too short" in text
    assert six.figure().flag and six.to_dict()["too_short"] is True
    assert RatioBasis("Sharpe", float("nan"), 1, 1e8, 1e8).to_dict()["stderr"] is None
