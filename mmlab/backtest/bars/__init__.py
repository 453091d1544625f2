"""Bar-level research with vectorbt: OHLCV bars (``_bars``), the bar market maker
(``_vbt_research``, its vectorbt order function in ``_vbt_kernel``). The public names are
re-exported by :mod:`mmlab.backtest`."""
