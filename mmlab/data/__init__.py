"""Market data: the event format, vendor loaders, the instrument master, catalog and synthetic data.

Each loader lives in its own private module and is re-exported here.
"""

from __future__ import annotations

from mmlab.data import _synthetic as synthetic
from mmlab.data._binance import (
    BinanceStream,
    estimate_clock_offset,
    load_binance,
    load_binance_frames,
    read_binance,
)
from mmlab.data._calendars import (
    CALENDARS,
    add_business_days,
    cl_contract_on,
    cl_expiry,
    cl_last_trade_date,
    is_business_day,
    us_market_holidays,
)
from mmlab.data._catalog import (
    DEMO_DATASETS,
    KINDS,
    SHIPPED_SOURCES,
    Catalog,
    ShippedSource,
    detect_kind,
    ensure_data_ready,
)
from mmlab.data._commodities import load_wti_settles
from mmlab.data._equity import load_sp500_daily
from mmlab.data._events import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_BBO_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    empty_events,
    event_kind,
    is_buy,
    is_sell,
)
from mmlab.data._fees import FeeSchedule
from mmlab.data._instrument import Instrument
from mmlab.data._instrument_master import InstrumentMaster, default_master, get_instrument
from mmlab.data._lobster import LobsterData, LobsterStats, load_lobster, read_lobster
from mmlab.data._npz import load_npz, save_npz, to_hftbacktest_order
from mmlab.data._options import OPTION_CHAIN_COLUMNS, OPTION_ROOTS, OptionRoot, load_option_chain
from mmlab.data._rates import TREASURY_TENORS, load_sofr, load_swap_quotes, load_treasury_par_yields
from mmlab.data._synthetic import (
    arithmetic_brownian,
    geometric_brownian,
    market_order_hits,
    synthetic_l2_events,
)

__all__ = [
    "ADD_ORDER_EVENT",
    "BUY_EVENT",
    "BinanceStream",
    "CALENDARS",
    "CANCEL_ORDER_EVENT",
    "Catalog",
    "DEMO_DATASETS",
    "DEPTH_BBO_EVENT",
    "DEPTH_CLEAR_EVENT",
    "DEPTH_EVENT",
    "DEPTH_SNAPSHOT_EVENT",
    "EVENT_DTYPE",
    "EXCH_EVENT",
    "FILL_EVENT",
    "FeeSchedule",
    "Instrument",
    "InstrumentMaster",
    "KINDS",
    "LOCAL_EVENT",
    "LobsterData",
    "LobsterStats",
    "MODIFY_ORDER_EVENT",
    "OPTION_CHAIN_COLUMNS",
    "OPTION_ROOTS",
    "OptionRoot",
    "SELL_EVENT",
    "SHIPPED_SOURCES",
    "ShippedSource",
    "TRADE_EVENT",
    "TREASURY_TENORS",
    "add_business_days",
    "arithmetic_brownian",
    "cl_contract_on",
    "cl_expiry",
    "cl_last_trade_date",
    "default_master",
    "detect_kind",
    "empty_events",
    "ensure_data_ready",
    "estimate_clock_offset",
    "event_kind",
    "geometric_brownian",
    "get_instrument",
    "is_business_day",
    "is_buy",
    "is_sell",
    "load_binance",
    "load_binance_frames",
    "load_lobster",
    "load_npz",
    "load_option_chain",
    "load_sofr",
    "load_sp500_daily",
    "load_swap_quotes",
    "load_treasury_par_yields",
    "load_wti_settles",
    "market_order_hits",
    "read_binance",
    "read_lobster",
    "save_npz",
    "synthetic",
    "synthetic_l2_events",
    "to_hftbacktest_order",
    "us_market_holidays",
]
