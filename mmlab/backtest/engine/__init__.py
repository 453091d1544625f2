"""The single-instrument engine around the core: settings (``_config``, ``_fees``,
``_latency``, ``_queue``), strategies as kernel parameters (``_strategies``, ``_user``), the
compiled family (``_engine``), its drivers (``_run``: the whole array at once; ``_driver``: a
batch at a time; ``_portfolio``: several instruments), L3 preparation (``_l3``) and what a run
returns (``_results``, ``_gates``). The public names are re-exported by :mod:`mmlab.backtest`."""
