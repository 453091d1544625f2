"""Bar-level research with vectorbt: OHLCV bars (``_bars``), the bar market maker (its rule,
settings and kernels in ``_bar_rule``, the run in ``_vbt_research``, its vectorbt order function
in ``_vbt_kernel``) and its comparison with the event backtest (``_bar_vs_event``). The public
names are re-exported by :mod:`mmlab.backtest`."""
