"""The one trading core, in named pieces: ``layout`` (the records of the state, event codes and constants), ``primitives``
(values, ticks, book levels, account, queues, risk events), ``exchange`` (the simulated
exchange side), ``local_orders`` and ``local_step`` (the local side: responses, toxicity,
reconciliation, throttle; breakers, zones, the strategy step), ``scan`` and ``loop`` (the event
loop and its run state). :mod:`mmlab.backtest.engine._engine` compiles them into one family (numba)
beside their plain-Python twins; :func:`mmlab.backtest.run` and
:class:`mmlab.backtest.StepDriver` drive it."""
