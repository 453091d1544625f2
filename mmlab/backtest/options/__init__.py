"""Option-book backtests: synthetic option streams repriced from a fitted surface
(``_option_stream``), the chain quoter with its delta hedge (``_options_book``) and the Greeks PnL
explain (``_greeks_explain``). The public names are re-exported by :mod:`mmlab.backtest`."""
