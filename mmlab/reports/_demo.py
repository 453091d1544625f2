"""``mmlab demo``: prepare the shipped data, render every notebook's demo sets, write the index."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mmlab.reports._index import write_index
from mmlab.reports._render import NOTEBOOKS_DIR, demo_parameter_sets, render_report

__all__ = ["run_demo"]


def run_demo(
    output_dir: str | os.PathLike[str] | None = None,
    notebooks: Iterable[str | os.PathLike[str]] | None = None,
    catalog: Any = None,
    echo: Callable[[str], Any] = print,
    progress: bool | None = None,
) -> list[Path]:
    """Ensure the demo data is ready, render every report notebook's demo parameter sets, then
    write ``index.html`` beside them.

    Parameters
    ----------
    output_dir : str or Path, optional
        Where the HTML goes (default ``reports/``).
    notebooks : iterable of paths, optional
        Default: every ``*.ipynb`` in ``notebooks/``.
    catalog : Catalog or path, optional
        The data catalog (default ``Catalog()``).
    echo : callable
        Progress messages (one line each).
    progress : bool, optional
        A tqdm bar over the reports (default: when standard error is a terminal, or in a
        notebook); without it, one line per report through ``echo``.

    Returns
    -------
    list of Path
        The reports written, in order (the index is ``<output_dir>/index.html``).
    """
    from tqdm.auto import tqdm

    from mmlab.data import DEMO_DATASETS, SHIPPED_SOURCES, Catalog, ensure_data_ready

    nbs = sorted(Path(p) for p in notebooks) if notebooks is not None else sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    plan = [(nb, params) for nb in nbs for params in demo_parameter_sets(nb)]
    needed = list(DEMO_DATASETS)
    for _, params in plan:
        ds = params.get("dataset")
        if isinstance(ds, str) and ds in SHIPPED_SOURCES and ds not in needed:
            needed.append(ds)
    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    echo(f"preparing data in {cat.path}: {', '.join(needed)}")
    ensure_data_ready(needed, catalog=cat)
    out = []
    saved = os.environ.get("MMLAB_DATA_DIR")
    os.environ["MMLAB_DATA_DIR"] = str(cat.path)  # the notebooks' kernels see the same catalog
    show = (sys.stderr.isatty() or "ipykernel" in sys.modules) if progress is None else progress
    bar = tqdm(plan, desc="reports", unit="report", disable=not show, file=sys.stderr, dynamic_ncols=True)

    def say(message: str) -> None:  # above the bar while it is shown
        if show:
            bar.write(message, file=sys.stderr)
        else:
            echo(message)

    try:
        for nb, params in bar:
            label = f"{nb.stem} {' '.join(f'{k}={v}' for k, v in params.items())}".rstrip()
            bar.set_postfix_str(label[:60])
            if not show:
                echo(f"rendering {label}")
            out.append(render_report(nb, params, output_dir))
            say(f"  {out[-1]}")
    finally:
        bar.close()
        if saved is None:
            os.environ.pop("MMLAB_DATA_DIR", None)
        else:
            os.environ["MMLAB_DATA_DIR"] = saved
    index = write_index(output_dir)
    echo(f"index: {index}")
    return out
