"""Research at scale on Dask: where runs execute (``_cluster``), parameter sweeps (``_sweep``),
walk-forward analysis (``_walkforward``) and seed campaigns (``_campaign``). The public names are
re-exported by :mod:`mmlab.backtest`."""
