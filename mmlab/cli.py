"""The ``mmlab`` command line (typer). Every command has ``--help``.

Commands
--------
``mmlab data list | import PATH... | show NAME``   the data catalog
``mmlab report NAME -p key value ...``             render notebooks/NAME.ipynb to reports/*.html
``mmlab demo``                                     prepare the data, render every demo report
``mmlab serve``                                    the Panel dashboards on 127.0.0.1
``mmlab backtest DATA -s grid -p key value ...``  event-replay backtest, summary as JSON
``mmlab version``                                  versions of mmlab and key libraries
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

import mmlab

# typer's help keeps the single line breaks of a docstring's later paragraphs (the terminal then
# wraps them a second time): the commands' help paragraphs are written one per line.
app = typer.Typer(
    name="mmlab",
    help="mmlab: research workbench for derivatives market making.",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(
    name="data",
    help="The data catalog: vendor files converted once into Parquet, registered in DuckDB.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

_CATALOG_OPT = typer.Option(
    None, "--catalog", "-c", help="Catalog directory (default: $MMLAB_DATA_DIR or data/catalog)."
)


def _fail(exc: Exception | str) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@app.command()
def version() -> None:
    """Print the mmlab version and the versions of the key libraries."""
    import importlib.metadata as md

    typer.echo(f"mmlab {mmlab.__version__}")
    for name in ("numpy", "pandas", "numba", "QuantLib", "panel", "hftbacktest"):
        try:
            typer.echo(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            typer.echo(f"{name} (not installed)")


def _data_fail(exc: Exception) -> None:
    """The data commands' error exit: one line (exit code 1)."""
    _fail(" ".join(str(exc).split()) or type(exc).__name__)


@data_app.command("list")
def data_list(catalog: Path | None = _CATALOG_OPT) -> None:
    """List the converted data sets (name, kind, rows, time range) and the shipped ones not yet converted."""
    from mmlab.data import SHIPPED_SOURCES, Catalog
    from mmlab.errors import MMLabError

    try:
        cat = Catalog(catalog)
        df = cat.list()
    except (MMLabError, OSError) as exc:
        _data_fail(exc)
    typer.echo(f"catalog: {cat.path}")
    if df.empty:
        typer.echo("(no data sets converted yet)")
    else:
        show = df[["name", "kind", "rows", "t_start", "t_end", "loader"]].copy()
        typer.echo(show.to_string(index=False))
    missing = [n for n in SHIPPED_SOURCES if n not in set(df["name"])]
    if missing:
        typer.echo("\nshipped, not converted yet (mmlab data import NAME-or-PATH):")
        for n in missing:
            typer.echo(f"  {n:32s} {SHIPPED_SOURCES[n].description}")


@data_app.command("import")
def data_import(
    paths: list[str] = typer.Argument(
        ..., help="Vendor file(s), or the name of a shipped data set (see `mmlab data list`)."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="Catalog name (default: derived)."),
    kind: str | None = typer.Option(
        None, "--kind", "-k",
        help="Kind of source: lobster, binance, npz, option_chain, treasury, sofr, swap_quotes, wti, sp500 "
        "(default: detected)."),
    replace: bool = typer.Option(
        False, "--replace", help="Replace a data set already registered under the name from other files or of another kind."),
    catalog: Path | None = _CATALOG_OPT,
) -> None:
    """Convert vendor file(s) into the catalog (converting twice is a no-op).

    Several files form one data set when they are consecutive Binance dumps (one stream) or a LOBSTER message file and its orderbook file; other files are imported one data set each.

    Every file is validated on the way in (ranges, keys, truncation, input limits): a refused file registers nothing and the command exits 1 with one line naming file, row and column. A name that already holds another data set is refused unless --replace is given.
    """
    from mmlab.data import KINDS, SHIPPED_SOURCES, Catalog, detect_kind
    from mmlab.errors import ConfigError, MMLabError

    try:
        cat = Catalog(catalog)
        if name is not None and len(paths) > 1 and all(p in SHIPPED_SOURCES for p in paths):
            raise ConfigError("--name: several data sets are being imported; import them one by one to name them")
        jobs: list[tuple[list[Path], str | None, str | None]] = []
        for p in paths:  # shipped names expand to their files
            if p in SHIPPED_SOURCES and not Path(p).exists():
                src = SHIPPED_SOURCES[p]
                jobs.append((src.paths(), name or src.name, kind or src.kind))
        if jobs and len(jobs) != len(paths):
            raise ConfigError("paths: give either shipped names or files, not both")
        if not jobs:
            files = [Path(p) for p in paths]
            kinds = {kind} if kind else {detect_kind(f) for f in files}
            only = next(iter(kinds)) if len(kinds) == 1 else None
            # one data set: a single file, a Binance stream of consecutive files, a LOBSTER pair
            if len(files) == 1 or (only in KINDS and (KINDS[only].multi or only == "lobster")):
                jobs = [(files, name, kind)]
            elif name is not None:
                raise ConfigError("--name: several data sets are being imported; import them one by one to name them")
            else:
                jobs = [([f], None, kind) for f in files]
        for files, nm, kd in jobs:
            before = {e["name"]: (e["path"], e["created"]) for e in cat.list().to_dict("records")}
            entry = cat.import_file(files, name=nm, kind=kd, replace=replace)
            again = before.get(entry["name"]) == (Path(entry["path"]).name, entry["created"])
            state = "already converted: nothing to do" if again else "converted"
            typer.echo(f"{entry['name']}: {entry['rows']} rows, kind {entry['kind']}, sha256 {entry['sha256'][:12]} ({state})")
            typer.echo(f"  -> {entry['path']}")
    except (MMLabError, OSError) as exc:
        _data_fail(exc)


@data_app.command("show")
def data_show(
    name: str = typer.Argument(..., help="Data set name."),
    catalog: Path | None = _CATALOG_OPT,
) -> None:
    """Show one data set's record: sources and their sha256, loader version, rows, time range."""
    import pandas as pd

    from mmlab.data import Catalog
    from mmlab.errors import MMLabError

    try:
        entry = Catalog(catalog).show(name)
    except (MMLabError, OSError) as exc:
        _data_fail(exc)
    for key in ("t_start", "t_end"):
        if entry[key] is not None:
            entry[key] = f"{entry[key]} ({pd.Timestamp(entry[key], tz='UTC').isoformat()})"
    typer.echo(json.dumps(entry, indent=2, default=str))


def parse_params(args: list[str]) -> dict[str, object]:
    """Parse ``-p key value`` / ``--param key value`` pairs (values coerced to numbers/bools).

    Examples
    --------
    >>> parse_params(["-p", "dataset", "lobster-aapl-20120621-l10", "--param", "levels", "5"])
    {'dataset': 'lobster-aapl-20120621-l10', 'levels': 5}
    """
    from mmlab.errors import ConfigError
    from mmlab.reports import coerce_parameter

    out: dict[str, object] = {}
    i = 0
    while i < len(args):
        if args[i] not in ("-p", "--param"):
            raise ConfigError(f"parameters: expected '-p KEY VALUE', got {args[i:]!r}")
        if i + 2 >= len(args):
            raise ConfigError(f"parameters: '-p' needs a key and a value, got {args[i:]!r}")
        out[args[i + 1]] = coerce_parameter(args[i + 2])
        i += 3
    return out


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def report(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Notebook in notebooks/ (e.g. market_data_report) or a path."),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", "-o", help="Where to write (default: $MMLAB_REPORTS_DIR or reports/)."
    ),
    show_code: bool = typer.Option(False, "--show-code", help="Include the notebook's code cells (hidden by default)."),
) -> None:
    """Execute a parameterised notebook with papermill and write reports/NAME-<params>.html (and refresh reports/index.html).

    Parameters follow the name as `-p KEY VALUE` (repeatable; numbers and true/false are converted), e.g. `mmlab report market_data_report -p dataset lobster-aapl-20120621-l10`; a name the notebook's parameters cell does not declare is refused before anything runs.

    The page opens with the report's headline (what was run, on what data, the numbers that matter, its checks) and shows outputs only: `--show-code` includes the code.
    """
    from mmlab.errors import MMLabError
    from mmlab.reports import render_report, write_index

    try:
        params = parse_params(list(ctx.args))
        out = render_report(name, params, output_dir, show_code=show_code)
        write_index(output_dir)
    except MMLabError as exc:
        _fail(exc)
    typer.echo(str(out))


@app.command()
def demo(
    output_dir: Path | None = typer.Option(
        None, "--output-dir", "-o", help="Where to write (default: $MMLAB_REPORTS_DIR or reports/)."
    ),
    catalog: Path | None = _CATALOG_OPT,
) -> None:
    """Prepare the shipped data, render every report notebook's demo parameter sets to HTML, and write reports/index.html listing them (parameters, data hashes, git SHA, date, checks)."""
    from mmlab._paths import reports_dir
    from mmlab.errors import MMLabError
    from mmlab.reports import run_demo

    try:
        paths = run_demo(output_dir=output_dir, catalog=catalog, echo=typer.echo)
    except MMLabError as exc:
        _fail(exc)
    typer.echo(f"\n{len(paths)} report(s) written; the index: {reports_dir(output_dir) / 'index.html'}")
    typer.echo("\nOpen them in a browser. Interactive dashboards: `make serve` (or `.venv/bin/mmlab serve`),")
    typer.echo("then visit " + ", ".join(f"http://127.0.0.1:5006/{p.stem}" for p in dashboard_scripts()))


def dashboard_scripts() -> list[Path]:
    """The Panel apps `mmlab serve` serves: every public module in ``mmlab/dashboards/``."""
    d = Path(__file__).resolve().parent / "dashboards"
    return sorted(p for p in d.glob("*.py") if not p.name.startswith("_"))


@app.command()
def serve(
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to bind (default: loopback only). Any other address needs basic auth: set MMLAB_DASHBOARD_PASSWORD (>= 12 characters; user MMLAB_DASHBOARD_USER, default mmlab), or the command refuses to start."),
    port: int = typer.Option(5006, "--port", help="TCP port."),
    show: bool = typer.Option(False, "--show/--no-show", help="Open a browser."),
    ssl_certfile: Path | None = typer.Option(None, "--ssl-certfile", help="TLS certificate (PEM): serve https/wss. Use with --ssl-keyfile."),
    ssl_keyfile: Path | None = typer.Option(None, "--ssl-keyfile", help="The certificate's private key (PEM)."),
    allow_origin: list[str] = typer.Option([], "--allow-origin", help="HOST[:PORT] a browser may open the dashboards' websocket from (repeatable); the bound address is always allowed."),
) -> None:
    """Serve the Panel dashboards in mmlab/dashboards/ (Panel's server, in this process).

    Loopback needs nothing. Binding anything else (e.g. `--address 0.0.0.0`) requires basic auth: `MMLAB_DASHBOARD_PASSWORD=... mmlab serve --address 0.0.0.0 --allow-origin desk-host:5006`; login cookies are signed with MMLAB_DASHBOARD_COOKIE_SECRET (random per start if unset). TLS: `--ssl-certfile cert.pem --ssl-keyfile key.pem`. Websockets without an allowed Origin header (or with none) are refused.
    """
    from mmlab import dashboards
    from mmlab.errors import MMLabError

    scripts = dashboard_scripts()
    if not scripts:
        _fail(RuntimeError("no dashboards found in mmlab/dashboards/"))
    try:
        settings = dashboards.serve_settings(address, port, show=show, ssl_certfile=ssl_certfile,
                                             ssl_keyfile=ssl_keyfile, allow_origins=allow_origin)
    except MMLabError as exc:
        _fail(exc)
    host = f"[{settings.address}]" if ":" in settings.address else settings.address
    auth = f" (basic auth, user {settings.user})" if settings.auth else ""
    typer.echo("serving " + ", ".join(f"{settings.scheme}://{host}:{port}/{p.stem}" for p in scripts) + auth)
    sys.stdout.flush()
    try:
        dashboards.run_server(settings, scripts)
    except OSError as exc:  # port taken, port < 1024, unreadable certificate or key
        _fail(OSError(f"serving {settings.address}:{port}: {exc}"))


def _strategy_from(name: str, params: dict):
    """Build a backtest strategy from its CLI name and ``-p`` parameters."""
    from mmlab.backtest import STRATEGY_CLASSES, strategy_class
    from mmlab.errors import ConfigError

    if name not in STRATEGY_CLASSES:
        raise ConfigError(
            f"strategy: expected one of {', '.join(STRATEGY_CLASSES)}, got {name!r}")
    cls = strategy_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"strategy {name!r}: {exc}") from None


def split_backtest_args(args: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``-p KEY VALUE`` (strategy parameters) from ``--set KEY VALUE`` (engine settings).

    Examples
    --------
    >>> split_backtest_args(["-p", "half_spread", "0.5", "--set", "max_position", "3"])
    ({'half_spread': 0.5}, {'max_position': 3})
    """
    from mmlab.errors import ConfigError
    from mmlab.reports import coerce_parameter

    # values of any type coerce_parameter gives; settings are handed to run() as keywords
    strat: dict[str, Any] = {}
    sett: dict[str, Any] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if flag not in ("-p", "--param", "--set"):
            raise ConfigError(f"arguments: expected '-p KEY VALUE' or '--set KEY VALUE', got {args[i:]!r}")
        if len(args) - i < 3:
            raise ConfigError(f"arguments: {flag!r} needs a key and a value, got {args[i:]!r}")
        (sett if flag == "--set" else strat)[args[i + 1]] = coerce_parameter(args[i + 2])
        i += 3
    return strat, sett


def _instrument_of(dataset: str):
    """The instrument-master key of the product a shipped data set belongs to (or None)."""
    from mmlab.manager import PRODUCTS

    for prod in PRODUCTS.values():
        if dataset in prod.datasets and prod.instrument:
            return prod.instrument
    return None


_AUTO_PARAMS = ("A", "k", "sigma_px")  # -p KEY auto: fitted from the data (mmlab.quoting.fit_intensity)


def _fit_auto_params(strat_params: dict, events, settings: dict, data: str) -> dict:
    """``strat_params`` with every ``-p A|k|sigma_px auto`` replaced by its value fitted on
    ``events`` (A per side per time unit, k per price unit, sigma_px price per sqrt(time unit),
    time unit = ``--set time_unit_ns``, seconds by default); the fit is echoed to stderr."""
    import numpy as np

    from mmlab.backtest import load_events
    from mmlab.quoting import fit_intensity

    auto = [key for key in _AUTO_PARAMS if strat_params.get(key) == "auto"]
    if not auto:
        return strat_params
    ev = events if isinstance(events, np.ndarray) else load_events(events)
    est = fit_intensity(ev, time_unit_ns=settings.get("time_unit_ns", 1e9))
    fitted = est.to_params()
    s = est.summary()
    typer.echo(f"fitted on {data}: " + ", ".join(
        f"{key} = {fitted[key]:.6g} {s[key + '_unit']}" for key in auto)
        + f" (R^2 {s['r_squared']:.3f}, {s['n_trades']} trades over {s['duration']:g} {s['time_unit']})", err=True)
    return {**strat_params, **{key: fitted[key] for key in auto}}


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def backtest(
    ctx: typer.Context,
    data: str = typer.Argument(
        ..., help="A catalog data set name, or a Binance .gz / hftbacktest .npz / LOBSTER message file."),
    strategy: str = typer.Option("grid", "--strategy", "-s", help="grid | as | as-inf | glft | adaptive | depth | scripted (-p orders FILE.csv: ts,side,price,qty[,cancel_ts])."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Also write the result as Parquet."),
    catalog: Path | None = _CATALOG_OPT,
) -> None:
    """Replay DATA through the event backtest with STRATEGY; print the summary as JSON.

    Strategy parameters follow as `-p KEY VALUE` (e.g. `-p half_spread 0.5 -p order_qty 0.01` for grid; `-p gamma 0.1 -p sigma_px 2 -p k 1.5` for as; sigma_px is the mid's volatility in price per sqrt(time unit), not annualised), engine settings as `--set KEY VALUE` (e.g. `--set max_position 0.1 --set entry_latency 10000000 --set maker_fee 0.0002`; fields of mmlab.backtest.BacktestConfig, times in ns).

    Required parameters: grid: half_spread, order_qty; as: gamma, sigma_px, k; as-inf: gamma, sigma_px, k, max_inventory; glft: gamma, sigma_px, A, k; adaptive: base_spread; depth: target_depth, tick; scripted: orders. `-p orders FILE.csv` (columns ts,side,price,qty[,cancel_ts]) enters the given orders. `-p A auto`, `-p k auto`, `-p sigma_px auto` fit them on DATA first (mmlab.quoting.fit_intensity; A per side per time unit, k per price unit, sigma_px price per sqrt(time unit), the time unit `--set time_unit_ns`, seconds by default) and print the fitted values to stderr. Example: `mmlab backtest binance-usdm-btcusdt-20240808 -p half_spread 5 -p order_qty 0.01 --set max_position 0.1`.

    A shipped data set name runs with its product's instrument (tick, lot, fees, multiplier from the instrument master); `--set maker_fee 0` overrides one field, `--set instrument none` turns it off, `--set instrument KEY` picks another.
    """
    import numpy as np

    from mmlab.backtest import run
    from mmlab.data import SHIPPED_SOURCES, Catalog, ensure_data_ready
    from mmlab.errors import MMLabError

    try:
        strat_params, settings = split_backtest_args(list(ctx.args))
        auto = any(strat_params.get(key) == "auto" for key in _AUTO_PARAMS)
        strat = None if auto else _strategy_from(strategy, strat_params)
        events: str | np.ndarray  # a file run() reads, or a catalog's event array
        if Path(data).exists():
            events = data
        else:
            cat = Catalog(catalog)
            if data in SHIPPED_SOURCES:
                ensure_data_ready([data], catalog=cat)
            events = cat.load(data)
            if not isinstance(events, np.ndarray):
                raise mmlab.ConfigError(f"data: {data!r} is not an event data set")
            if "instrument" not in settings:  # a shipped product: its tick, lot and fees
                settings["instrument"] = _instrument_of(data)
        if settings.get("instrument") is None:
            settings.pop("instrument", None)
        if auto:  # -p A|k|sigma_px auto: calibrated on the data being backtested
            strat = _strategy_from(strategy, _fit_auto_params(strat_params, events, settings, data))
        res = run(events, strat, **settings)
        if output is not None:
            res.to_parquet(output)
    except MMLabError as exc:
        _fail(exc)
    from mmlab.reports import RatioBasis

    summary = {**res.summary(), "sharpe_basis": RatioBasis.of_backtest(res).text()}
    typer.echo(json.dumps(json_safe(summary), indent=2, default=str, allow_nan=False))


def json_safe(obj):
    """``obj`` with every non-finite float (NaN, inf) replaced by None, so it dumps as valid JSON.

    Examples
    --------
    >>> json.dumps(json_safe({"a": float("nan"), "b": [1.5, float("inf")], "c": "x"}))
    '{"a": null, "b": [1.5, null], "c": "x"}'
    """
    import math

    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", None) == 0:  # numpy scalars
        return json_safe(obj.item())
    return obj


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
