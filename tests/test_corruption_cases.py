"""Issue 11's named bad inputs: each ends in ONE typed DataError subclass naming file, row and
column, through the loader and through the catalog import, and nothing is registered.

The small clean samples built here (slices of the shipped files) are shared with the Hypothesis
corruption suite in ``test_corruption_fuzz.py``.
"""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mmlab._paths import SHIPPED_DATA
from mmlab.cli import app
from mmlab.data import (
    Catalog,
    _validate,
    load_binance,
    load_lobster,
    load_npz,
    load_option_chain,
    load_sofr,
    load_sp500_daily,
    load_swap_quotes,
    load_treasury_par_yields,
    load_wti_settles,
    save_npz,
)
from mmlab.errors import (
    ConfigError,
    DataError,
    DataWarning,
    DuplicateError,
    FormatError,
    RangeError,
    ResourceLimitError,
    TimestampOrderError,
    TruncatedError,
)

# ------------------------------------------------------------------------------------------------
# clean samples (bytes), sliced from the shipped files
# ------------------------------------------------------------------------------------------------


def _lines(rel: str, n: int | None = None, gz: bool = False) -> list[bytes]:
    raw = (SHIPPED_DATA / rel).read_bytes()
    if gz:
        raw = gzip.decompress(raw)
    out = raw.split(b"\n")
    if out[-1] == b"":
        out.pop()
    return out if n is None else out[:n]


def _join(lines: list[bytes], final_newline: bool = True) -> bytes:
    return b"\n".join(lines) + (b"\n" if final_newline else b"")


_AAPL = "lobster/AAPL_2012-06-21_34200000_57600000_{}_10.csv"


@dataclass(frozen=True)
class Sample:
    """One vendor sample: its files (name -> bytes), the kind, and how to load it."""

    kind: str
    files: dict[str, bytes]
    load: Callable[[list[Path]], object]

    def write(self, d: Path, files: dict[str, bytes] | None = None) -> list[Path]:
        d.mkdir(parents=True, exist_ok=True)
        out = []
        for name, data in (files or self.files).items():
            p = d / name
            p.write_bytes(data)
            out.append(p)
        return out


def _build_samples() -> dict[str, Sample]:
    ust = _lines("rates/ust_par_yields_2024.csv")
    tr = ust[:5] + ust[59:60]  # newest first; the last row (2024-10-04) ends in 30 Yr = 4.26
    cboe = _lines("options/cboe_spy_2023-09-14.csv", 9)
    return {
        "binance": Sample("binance", {"ethusdt.txt": _join(_lines(
            "binance/usdm_ethusdt_20240808.gz", 150, gz=True))},
            lambda ps: load_binance(ps[0])),
        "lobster": Sample("lobster", {
            "TEST_2012-06-21_34200000_57600000_message_10.csv":
                _join(_lines(_AAPL.format("message"), 40), final_newline=False),
            "TEST_2012-06-21_34200000_57600000_orderbook_10.csv":
                _join(_lines(_AAPL.format("orderbook"), 40), final_newline=False)},
            lambda ps: load_lobster(ps[0], ps[1])),
        "cboe": Sample("option_chain", {"cboe.csv": _join(cboe)},
                       lambda ps: load_option_chain(ps[0])),
        "deribit": Sample("option_chain", {"deribit.csv": _join(
            _lines("options/deribit_btc_2020-05-21.csv", 5))},
            lambda ps: load_option_chain(ps[0])),
        "treasury": Sample("treasury", {"ust.csv": _join(tr)},
                           lambda ps: load_treasury_par_yields(ps[0])),
        "sofr": Sample("sofr", {"sofr.csv": _join(_lines("rates/sofr_fixings_2018-2025.csv")[:1]
                                                  + _lines("rates/sofr_fixings_2018-2025.csv")[36:44])},
                       lambda ps: load_sofr(ps[0])),
        "wti": Sample("wti", {"wti.csv": _join([ln.rstrip(b"\r") for ln in _lines(
            "commodities/wti_cl01-cl36_settles_2007-2023.csv", 5)])},
            lambda ps: load_wti_settles(ps[0])),
        "sp500": Sample("sp500", {"spx.csv": _join([ln.rstrip(b"\r") for ln in _lines(
            "equity/sp500_daily_1999-2018.csv.gz", 6, gz=True)])},
            lambda ps: load_sp500_daily(ps[0])),
        "swap_quotes": Sample("swap_quotes", {"usd_2023-10-19.json": (
            SHIPPED_DATA / "rates/usd_swap_curve_quotes_2023-10-19.json").read_bytes()},
            lambda ps: load_swap_quotes(ps[0])),
    }


SAMPLES = _build_samples()


def npz_sample() -> np.ndarray:
    """A small clean event array (the first events of the Binance sample)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ps = SAMPLES["binance"].write(Path(d))
        return load_binance(ps[0])[:60].copy()


def edit_line(data: bytes, lineno: int, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` once on 1-based line ``lineno``."""
    lines = data.split(b"\n")
    assert old in lines[lineno - 1], (lineno, old, lines[lineno - 1][:200])
    lines[lineno - 1] = lines[lineno - 1].replace(old, new, 1)
    return b"\n".join(lines)


def assert_refused(tmp_path: Path, name: str, files: dict[str, bytes], err: type[DataError],
                   row: int | None, column: str | None, *, which: int = 0) -> DataError:
    """The sample with ``files`` is refused by its loader with exactly ``err`` naming the file
    (``which``-th), ``row`` and ``column``; the catalog import refuses it the same way and
    registers nothing, leaving no file behind."""
    s = SAMPLES[name]
    paths = s.write(tmp_path / "src", files)
    with pytest.raises(DataError) as info:
        s.load(paths)
    e = info.value
    assert type(e) is err, f"{type(e).__name__}: {e}"
    assert e.path == str(paths[which]), str(e)
    assert e.row == row, str(e)
    assert e.column == column, str(e)
    assert str(paths[which]) in str(e) and (row is None or f"row {row}" in str(e))
    cat = Catalog(tmp_path / "cat")
    with pytest.raises(err):
        cat.import_file(paths, kind=s.kind)
    assert cat.names() == []
    assert sorted(p.name for p in cat.path.iterdir()) == [".catalog.lock", "catalog.duckdb"]
    return e


def test_samples_load_clean(tmp_path):
    for name, s in SAMPLES.items():
        out = s.load(s.write(tmp_path / name))
        assert len(out) > 0, name


# ------------------------------------------------------------------------------------------------
# Binance
# ------------------------------------------------------------------------------------------------

BIN = SAMPLES["binance"].files["ethusdt.txt"]
TRADE_LINE = 60  # 1-based line of a trade after the snapshot (line 41): '"T":1723161256735'


def _trade_T(line: int) -> bytes:
    raw = BIN.split(b"\n")[line - 1]
    i = raw.index(b'"T":') + 4
    return raw[i:raw.index(b",", i)]


def test_binance_T_uint64_max_is_refused_not_overflowing(tmp_path):
    data = edit_line(BIN, TRADE_LINE, b'"T":' + _trade_T(TRADE_LINE), b'"T":18446744073709551615')
    e = assert_refused(tmp_path, "binance", {"ethusdt.txt": data}, RangeError, TRADE_LINE, "T")
    assert "18446744073709551615" in str(e)


def test_binance_T_99999999999999999_is_refused_not_wrapped_to_1976(tmp_path):
    data = edit_line(BIN, TRADE_LINE, b'"T":' + _trade_T(TRADE_LINE), b'"T":99999999999999999')
    assert_refused(tmp_path, "binance", {"ethusdt.txt": data}, RangeError, TRADE_LINE, "T")


def test_binance_price_1e308_is_refused(tmp_path):
    raw = BIN.split(b"\n")[TRADE_LINE - 1]
    i = raw.index(b'"p":"') + 5
    data = edit_line(BIN, TRADE_LINE, raw[i - 5:raw.index(b'"', i) + 1], b'"p":"1e308"')
    assert_refused(tmp_path, "binance", {"ethusdt.txt": data}, RangeError, TRADE_LINE, "p")


def test_binance_duplicate_trade_id_is_refused(tmp_path):
    lines = BIN.split(b"\n")
    lines.insert(TRADE_LINE, lines[TRADE_LINE - 1])  # the same trade message again, next line
    assert_refused(tmp_path, "binance", {"ethusdt.txt": b"\n".join(lines)}, DuplicateError,
                   TRADE_LINE + 1, "t")


def test_binance_last_line_without_newline_is_truncated(tmp_path):
    data = BIN[:-1]  # the final newline missing: the last message may be cut
    assert_refused(tmp_path, "binance", {"ethusdt.txt": data}, TruncatedError, 150, None)


# ------------------------------------------------------------------------------------------------
# LOBSTER
# ------------------------------------------------------------------------------------------------

MSG = "TEST_2012-06-21_34200000_57600000_message_10.csv"
BOOK = "TEST_2012-06-21_34200000_57600000_orderbook_10.csv"


@pytest.mark.parametrize("bad", [b"1e12", b"1e308"])
def test_lobster_time_1e12_and_1e308_are_refused_not_wrapped_to_1720(tmp_path, bad):
    files = dict(SAMPLES["lobster"].files)
    lines = files[MSG].split(b"\n")
    # the last row, so the order check cannot fire first: row 39 (0-based message row), line 40
    lines[39] = bad + lines[39][lines[39].index(b","):]
    files[MSG] = b"\n".join(lines)
    e = assert_refused(tmp_path, "lobster", files, RangeError, 39, "Time")
    assert "file line 40" in str(e)


def test_lobster_price_1e308_is_refused(tmp_path):
    files = dict(SAMPLES["lobster"].files)
    lines = files[MSG].split(b"\n")
    f = lines[5].split(b",")
    f[4] = b"1e308"
    lines[5] = b",".join(f)
    files[MSG] = b"\n".join(lines)
    assert_refused(tmp_path, "lobster", files, RangeError, 5, "Price")


# ------------------------------------------------------------------------------------------------
# CBOE and Deribit
# ------------------------------------------------------------------------------------------------

CBOE = SAMPLES["cboe"].files["cboe.csv"]
DER = SAMPLES["deribit"].files["deribit.csv"]


def test_cboe_symbol_with_invalid_date_is_refused(tmp_path):
    # line 5: Thu Sep 14 2023,SPY230914C00360000,...: the symbol's date becomes 23-09-34
    data = edit_line(CBOE, 5, b"SPY230914C", b"SPY230934C")
    e = assert_refused(tmp_path, "cboe", {"cboe.csv": data}, FormatError, 5, "Calls")
    assert "invalid date" in str(e)


def test_cboe_bid_1e308_is_refused(tmp_path):
    data = edit_line(CBOE, 5, b",90.7,90.86,", b",1e308,90.86,")
    assert_refused(tmp_path, "cboe", {"cboe.csv": data}, RangeError, 5, "Bid")


def test_cboe_truncated_last_field_is_refused(tmp_path):
    assert CBOE.endswith(b"\n")
    data = CBOE[:-3]  # the last row's last field cut short, no newline
    assert_refused(tmp_path, "cboe", {"cboe.csv": data}, TruncatedError, 9, "Open Interest")


def test_deribit_bids_not_a_ladder_is_refused(tmp_path):
    data = edit_line(DER, 2, b'"[[0.02, 9.0], [0.019, 5.0]', b'"[5, [0.019, 5.0]')
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, FormatError, 2, "bids")
    data = DER.split(b"\n")
    i = data[1].index(b'"[[0.02')
    j = data[1].index(b']]"', i) + 3
    data[1] = data[1][:i] + b'"[5]"' + data[1][j:]
    assert_refused(tmp_path, "deribit", {"deribit.csv": b"\n".join(data)}, FormatError, 2, "bids")


@pytest.mark.parametrize(("bad", "err"), [(b"'abc'", FormatError), (b"1e999", FormatError)])
def test_deribit_greeks_delta_not_a_finite_number_is_refused(tmp_path, bad, err):
    data = edit_line(DER, 2, b"'delta': -0.73032", b"'delta': " + bad)
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, err, 2, "greeks delta")


def test_deribit_stats_volume_lots_is_refused(tmp_path):
    data = edit_line(DER, 2, b"'volume': 717.1", b"'volume': 'lots'")
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, FormatError, 2, "stats volume")


@pytest.mark.parametrize("bad", [b"1e308", b"1000", b"0"])  # 1e308; 1970 (1 s or 0 ms)
def test_deribit_timestamp_1e308_or_in_1970_is_refused(tmp_path, bad):
    data = edit_line(DER, 2, b",1590103193775,", b"," + bad + b",")
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, RangeError, 2, "timestamp")


def test_deribit_price_1e308_is_refused(tmp_path):
    data = edit_line(DER, 2, b",0.02124908,", b",1e308,")  # mark_price
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, RangeError, 2, "mark_price")


def test_deribit_truncated_last_field_is_refused(tmp_path):
    data = DER[:-2]  # '...,122.45\n' -> '...,122.4'
    assert_refused(tmp_path, "deribit", {"deribit.csv": data}, TruncatedError, 5, "ask_iv")


# ------------------------------------------------------------------------------------------------
# rates, WTI, S&P 500
# ------------------------------------------------------------------------------------------------


def _cut_last_field(data: bytes, keep: int) -> bytes:
    """'...,4.26\\n' cut to '...,4.' (``keep`` characters of the last field), no newline."""
    body = data.rstrip(b"\n")
    i = body.rindex(b",") + 1
    return body[:i + keep]


def test_treasury_truncated_yield_4_26_to_4_dot_is_refused(tmp_path):
    data = SAMPLES["treasury"].files["ust.csv"]
    assert data.endswith(b"2024-10-04,5.01,4.88,4.73,4.68,4.45,4.2,3.93,3.84,3.81,3.88,3.98,4.33,4.26\n")
    e = assert_refused(tmp_path, "treasury", {"ust.csv": _cut_last_field(data, 2)}, TruncatedError,
                       6, "30 Yr")
    assert "truncated" in str(e)


def test_sofr_truncated_rate_is_refused(tmp_path):
    data = SAMPLES["sofr"].files["sofr.csv"]
    assert_refused(tmp_path, "sofr", {"sofr.csv": _cut_last_field(data, 2)}, TruncatedError, 9,
                   "SOFR")


def test_wti_truncated_settle_is_refused(tmp_path):
    data = SAMPLES["wti"].files["wti.csv"]
    assert_refused(tmp_path, "wti", {"wti.csv": _cut_last_field(data, 2)}, TruncatedError, 5, "CL36")


@pytest.mark.parametrize(("name", "fname", "line", "old", "column"), [
    ("treasury", "ust.csv", 2, b",4.58,", "10 Yr"),  # 2024-12-31 10 Yr: 4.58
    ("sofr", "sofr.csv", 2, b",1.65", "SOFR"),  # 5/22/2018
    ("wti", "wti.csv", 2, b",61.05,", "CL01"),
])
def test_rate_or_settle_1e308_is_refused(tmp_path, name, fname, line, old, column):
    data = SAMPLES[name].files[fname]
    data = edit_line(data, line, old, b",1e308," if old.endswith(b",") else b",1e308")
    assert_refused(tmp_path, name, {fname: data}, RangeError, line, column)


def test_sp500_volume_1e308_is_refused_not_wrapped(tmp_path):
    data = edit_line(SAMPLES["sp500"].files["spx.csv"], 2, b",877000000", b",1e308")
    e = assert_refused(tmp_path, "sp500", {"spx.csv": data}, RangeError, 2, "Volume")
    assert "1e+308" in str(e)


def test_sp500_close_1e308_is_refused(tmp_path):
    # 1/4/1999 close 1228.099976 (also the adjusted close: the first one is Close)
    data = edit_line(SAMPLES["sp500"].files["spx.csv"], 2, b",1228.099976,", b",1e308,")
    assert_refused(tmp_path, "sp500", {"spx.csv": data}, RangeError, 2, "Close")


SWAP = SAMPLES["swap_quotes"].files["usd_2023-10-19.json"]


def test_swap_json_400_digit_integer_is_refused(tmp_path):
    data = SWAP.replace(b'"s5y":[0.0459]', b'"s5y":[' + b"9" * 400 + b"]")
    e = assert_refused(tmp_path, "swap_quotes", {"usd_2023-10-19.json": data}, RangeError, 1, "s5y")
    assert "400-digit" in str(e)


def test_swap_json_duplicated_key_is_refused_not_last_wins(tmp_path):
    data = SWAP.replace(b'"s5y":[0.0459]', b'"s5y":[0.0459],"s5y":[0.0470]')
    assert_refused(tmp_path, "swap_quotes", {"usd_2023-10-19.json": data}, DuplicateError, 1, "s5y")


# ------------------------------------------------------------------------------------------------
# npz
# ------------------------------------------------------------------------------------------------


def _npz_refused(tmp_path, ev, err, row, column):
    p = tmp_path / "ev.npz"
    save_npz(p, ev)
    with pytest.raises(DataError) as info:
        load_npz(p)
    e = info.value
    assert (type(e), e.path, e.row, e.column) == (err, str(p), row, column), str(e)
    cat = Catalog(tmp_path / "cat")
    with pytest.raises(err):
        cat.import_file(p)
    assert cat.names() == [] and not list(cat.path.glob("*.parquet"))


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e308])
def test_npz_nan_inf_or_1e308_price_is_refused(tmp_path, bad):
    ev = npz_sample()
    ev["px"][7] = bad
    _npz_refused(tmp_path, ev, RangeError, 7, "px")


def test_npz_negative_quantity_is_refused(tmp_path):
    ev = npz_sample()
    ev["qty"][11] = -1.0
    _npz_refused(tmp_path, ev, RangeError, 11, "qty")


def test_npz_time_going_backwards_is_refused(tmp_path):
    ev = npz_sample()
    ev["local_ts"][20] = ev["local_ts"][19] - 1
    _npz_refused(tmp_path, ev, TimestampOrderError, 20, "local_ts")


def test_npz_repeated_row_warns_and_loads(tmp_path):
    ev = npz_sample()
    dup = np.insert(ev, 5, ev[4])
    p = tmp_path / "dup.npz"
    save_npz(p, dup)
    with pytest.warns(DataWarning, match=r"row 5: the same event as row 4"):
        got = load_npz(p)
    assert got.tobytes() == dup.tobytes()


# ------------------------------------------------------------------------------------------------
# catalog: collisions, sweeping, resource limits, the CLI
# ------------------------------------------------------------------------------------------------


def _two_rates_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "rates.csv").write_bytes(SAMPLES["sofr"].files["sofr.csv"])
    (b / "rates.csv").write_bytes(SAMPLES["treasury"].files["ust.csv"])
    return a / "rates.csv", b / "rates.csv"


def test_catalog_name_collision_of_another_kind_is_refused_unless_replace(tmp_path):
    sofr, ust = _two_rates_files(tmp_path)
    cat = Catalog(tmp_path / "cat")
    first = cat.import_file(sofr)
    assert first["name"] == "rates" and first["kind"] == "sofr"
    with pytest.raises(ConfigError, match=r"'rates' is already registered .*replace"):
        cat.import_file(ust)
    kept = cat.show("rates")
    assert kept["kind"] == "sofr" and Path(kept["path"]).is_file()  # untouched
    new = cat.import_file(ust, replace=True)
    assert new["kind"] == "treasury" and not Path(first["path"]).exists()


def test_catalog_name_collision_of_the_same_kind_is_refused_unless_replace(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "ust.csv").write_bytes(SAMPLES["treasury"].files["ust.csv"])
    (b / "ust.csv").write_bytes(_lines("rates/ust_par_yields_2025.csv", 4)[0] + b"\n"
                                + b"\n".join(_lines("rates/ust_par_yields_2025.csv", 4)[1:]) + b"\n")
    cat = Catalog(tmp_path / "cat")
    cat.import_file(a / "ust.csv")
    with pytest.raises(ConfigError, match="already registered"):
        cat.import_file(b / "ust.csv")
    assert cat.import_file(b / "ust.csv", replace=True)["sources"][0]["path"] == str(b / "ust.csv")
    # the same file, changed, converts again without --replace (the catalog's first rule)
    (b / "ust.csv").write_bytes(SAMPLES["treasury"].files["ust.csv"])
    assert cat.import_file(b / "ust.csv")["rows"] == 5


def test_catalog_add_collision_is_refused_unless_replace(tmp_path):
    ev = npz_sample()
    cat = Catalog(tmp_path / "cat")
    cat.add("x", ev)
    assert cat.add("x", ev.copy())["rows"] == len(ev)  # same data: a no-op
    with pytest.raises(ConfigError, match="already registered"):
        cat.add("x", ev[:10])
    assert cat.add("x", ev[:10], replace=True)["rows"] == 10


def test_catalog_sweeps_orphans_and_temp_files_on_open(tmp_path):
    cat = Catalog(tmp_path / "cat")
    entry = cat.add("keep", npz_sample())
    orphan = cat.path / "gone-0123456789ab-0123456789ab.parquet"  # no registry row points here
    tmp = cat.path / ".keep.abcd1234.parquet.tmp"  # left by a killed import
    other = cat.path / "notes.txt"  # not the catalog's: left alone
    for p in (orphan, tmp, other):
        p.write_bytes(b"x")
    again = Catalog(tmp_path / "cat")
    assert sorted(again.swept) == sorted([orphan.name, tmp.name])
    assert not orphan.exists() and not tmp.exists() and other.exists()
    assert Path(entry["path"]).is_file() and again.load("keep").shape == (60,)


def test_catalog_path_that_is_a_file_is_a_config_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a catalog directory"):
        Catalog(f)


def _bomb(path: Path, n_mib: int) -> Path:
    """A gzip file of ``n_mib`` MiB of one repeated CSV line (about 1000:1), written in steps."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    row = b"1/4/1999,1,1,1,1,1,1\n"
    zero = row * ((1 << 20) // len(row))
    with open(path, "wb") as fh:
        for _ in range(n_mib):
            fh.write(c.compress(zero))
        fh.write(c.flush())
    return path


def test_gzip_bomb_is_refused_before_it_is_inflated(tmp_path):
    import tracemalloc

    p = _bomb(tmp_path / "bomb.csv.gz", 128)
    size = p.stat().st_size
    assert size < 1 << 20  # 128 MiB inflated from < 1 MiB
    tracemalloc.start()
    try:
        with pytest.raises(ResourceLimitError, match="decompression bomb") as info:
            load_sp500_daily(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.path == str(p)
    # refused once the output passes 200x the compressed size (plus one 1 MiB step), far below
    # the 128 MiB it would inflate to
    limit = _validate.MAX_DECOMPRESSION_RATIO * size
    assert limit < 64 << 20 and peak < limit + (16 << 20), (peak, limit)
    with pytest.raises(ResourceLimitError):
        load_binance(p)
    cat = Catalog(tmp_path / "cat")
    with pytest.raises(ResourceLimitError):
        cat.import_file(p, kind="sp500")
    assert cat.names() == []


def test_multi_gb_line_is_refused_after_its_first_mib(tmp_path):
    import tracemalloc

    p = tmp_path / "oneline.csv"
    with open(p, "wb") as fh:  # a sparse 1.5 GB file: one line of NUL bytes, no newline
        fh.write(b"Date,SOFR\n")
        fh.truncate(1536 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(ResourceLimitError, match="line longer than") as info:
            load_sofr(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (info.value.path, info.value.row) == (str(p), 2)
    assert peak < 64 << 20, peak
    assert _validate.MAX_LINE_BYTES == 4 << 20


def test_input_larger_than_the_limit_is_refused_unread(tmp_path):
    p = tmp_path / "huge.csv"
    with open(p, "wb") as fh:
        fh.truncate(_validate.MAX_INPUT_BYTES + 1)
    with pytest.raises(ResourceLimitError, match="input limit"):
        load_treasury_par_yields(p)


def test_cli_data_import_refusal_is_one_line_non_zero_and_registers_nothing(tmp_path):
    data = edit_line(SAMPLES["sp500"].files["spx.csv"], 2, b",877000000", b",1e308")
    p = tmp_path / "spx.csv"
    p.write_bytes(data)
    cat = tmp_path / "cat"
    res = CliRunner().invoke(app, ["data", "import", str(p), "-c", str(cat)])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    assert f"{p}, row 2, column Volume" in lines[0]
    assert Catalog(cat).names() == []


def test_cli_data_import_collision_and_replace(tmp_path):
    sofr, ust = _two_rates_files(tmp_path)
    cat = str(tmp_path / "cat")
    r = CliRunner()
    assert r.invoke(app, ["data", "import", str(sofr), "-c", cat]).exit_code == 0
    res = r.invoke(app, ["data", "import", str(ust), "-c", cat])
    assert res.exit_code == 1 and "--replace" in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1
    res = r.invoke(app, ["data", "import", str(ust), "-c", cat, "--replace"])
    assert res.exit_code == 0 and "kind treasury" in res.output


def test_cli_data_commands_with_catalog_pointing_at_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    for args in (["data", "list"], ["data", "show", "x"], ["data", "import", "sofr-2018-2025"]):
        res = CliRunner().invoke(app, [*args, "-c", str(f)])
        assert res.exit_code == 1 and "not a catalog directory" in res.output
        assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1, res.output


def test_declared_rules_cover_every_catalog_kind():
    from mmlab.data import KINDS

    vendors = set(_validate.RULES)
    assert {"binance", "lobster", "npz", "treasury", "sofr", "swap_quotes", "wti", "sp500"} <= vendors
    assert {"cboe", "deribit"} <= vendors  # the option_chain kind's two vendors
    assert set(KINDS) - {"option_chain"} <= vendors


def test_shipped_data_is_not_refused():
    """Plausible real-data ranges: every shipped file still loads (nothing real refused)."""
    from mmlab.data import SHIPPED_SOURCES
    from mmlab.data._catalog import KINDS, _call_loader, _resolve_loader

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        for src in SHIPPED_SOURCES.values():
            if src.kind == "binance":
                continue  # loaded by test_binance.py; keep this test fast
            loader, _, _ = _resolve_loader(src.kind)
            out = _call_loader(src.kind, loader, src.paths())
            assert len(out) > 0, src.name
    assert json.loads(SWAP)  # (the sample above is the shipped file)
    assert KINDS


def test_binance_local_timestamp_beyond_int64_is_refused(tmp_path):
    # found by the corruption suite: a 19-digit receive time above 2**63 - 1 overflowed
    lines = BIN.split(b"\n")
    lines[99] = b"9999999999999999999" + lines[99][19:]
    assert_refused(tmp_path, "binance", {"ethusdt.txt": b"\n".join(lines)}, RangeError, 100,
                   "local timestamp")


def test_lobster_quote_character_is_a_format_error(tmp_path):
    # found by the corruption suite: a '"' made pandas' tokenizer fail with its own error
    files = dict(SAMPLES["lobster"].files)
    lines = files[MSG].split(b"\n")
    lines[3] = b'"' + lines[3][1:]
    files[MSG] = b"\n".join(lines)
    e = assert_refused(tmp_path, "lobster", files, FormatError, 3, "1")
    assert "file line 4" in str(e)
