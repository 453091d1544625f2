"""The trading core's state is in named records (issue 10: "State in named records (numpy
structured dtypes or numba structrefs): no positional arrays cross a module boundary").

What this checks, on the code itself:

* every piece of a run's state that crosses between the core's modules is a numpy structured
  record or an array of records (the settings, scalars, accounts, cursor, a strategy's
  parameters; orders, request and response queues, fills, steps, funding rows, risk events);
* no function of the compiled family takes a parameter by one of the retired slot-array names
  (``cfg_i``/``cfg_f``, ``oi``/``of``, ``ff``/``fi``, ``stf``/``sti``, ``rsf``, ``rkf``,
  ``si``/``sf``, ``sp``);
* the layout module defines no slot-index constants any more (``I_BASE``, ``A_POS``...).

The arrays that stay plain are arrays by nature, named in ``PLAIN``: the dense book (side x
tick) and its best-level indices, the live-order index list, the event columns, latencies, the
shared book's history ring, and the user quote kernel's C-ABI vectors (its market-state record
is a float vector with named offsets ``MS_*`` because the kernel is called through a function
pointer, so that editing it never recompiles the loop).
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from mmlab.backtest.core import layout
from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._strategies import GridStrategy, strategy_spec

RETIRED = {"cfg_i", "cfg_f", "oi", "of", "ff", "fi", "stf", "sti", "rsf", "rkf", "si", "sf", "sp"}
PLAIN = {"live", "qs", "qo"}  # RunState members that are plain arrays (see the module notes)


def _settings():
    s = layout.record(layout.SETTINGS_DTYPE)
    s["maxord"], s["nticks"], s["interval"], s["tstart"] = 8, 100, 1_000, 0
    return s


def test_run_state_is_named_records():
    st = E.new_state(_settings())
    for name, value in st._asdict().items():
        if name in PLAIN:
            assert value.dtype.names is None, name
            continue
        assert value.dtype.names, f"RunState.{name} is not a structured record"
        if isinstance(value, np.void):  # one record: sc, acc, pos
            assert value.dtype in (layout.SCALARS_DTYPE, layout.ACCOUNT_DTYPE,
                                   layout.CURSOR_DTYPE), name
    assert st.orders.dtype == layout.ORDER_DTYPE and st.rk.dtype == layout.RISK_EVENT_DTYPE
    assert st.rq.dtype == layout.REQUEST_QUEUE_DTYPE
    assert st.rs.dtype == layout.RESPONSE_QUEUE_DTYPE


def test_a_record_written_from_python_is_read_by_the_core():
    """A record is a view of its own one-row array: a write through it stays (the compiled
    family takes it by reference)."""
    acc = layout.record(layout.ACCOUNT_DTYPE)
    acc["pos"] = 3.0
    acc["pos"] += 1.5
    assert float(acc["pos"]) == 4.5
    assert float(acc.base[0]["pos"]) == 4.5  # type: ignore[index]


def test_strategy_parameters_are_a_named_record():
    spec = strategy_spec(GridStrategy(half_spread=0.5, order_qty=2.0, skew=0.1))
    assert spec.params.dtype == layout.QUOTE_PARAMS_DTYPE
    # values from the GridStrategy above
    assert (float(spec.params["half_spread"]), float(spec.params["order_qty"]),
            float(spec.params["skew"])) == (0.5, 2.0, 0.1)


def test_no_family_function_takes_a_slot_array():
    bad = {name: sorted(set(inspect.signature(f).parameters) & RETIRED)
           for name, f in E._TWINS.items()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"parameters by retired slot-array names: {bad}"


def test_layout_has_no_slot_index_constants():
    slot = re.compile(r"(I|F|A|P|O|Q|FF|FI|T|TI|SC)_[A-Z0-9_]+$")
    found = sorted(n for n, v in vars(layout).items()
                   if slot.match(n) and isinstance(v, int | np.integer))
    assert not found, f"slot-index constants left in the layout: {found}"
