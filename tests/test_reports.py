"""The report runner and provenance: papermill + nbconvert into atomic HTML files."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from mmlab import provenance
from mmlab.errors import ConfigError
from mmlab.reports import (
    ReportError,
    coerce_parameter,
    demo_parameter_sets,
    find_notebook,
    param_slug,
    render_report,
    report_path,
)


def write_tiny_notebook(path: Path, body: str = "", demo: list | None = None) -> Path:
    """A small parameterised notebook: title, parameters cell, a computing cell, an assert cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if demo is not None:
        nb.metadata["mmlab"] = {"demo_parameters": demo}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report"),
        nbformat.v4.new_code_cell("n = 2\nlabel = 'default'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os\nfrom mmlab.provenance import collect\n"
            "total = sum(range(n))\nprint(f'total={total} label={label} cwd={os.path.basename(os.getcwd())}')\n"
            "collect(parameters={'n': n, 'label': label}).to_frame()" + body
        ),
        nbformat.v4.new_code_cell("assert total == n * (n - 1) // 2"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_render_report_writes_html_with_outputs_and_provenance(tmp_path):
    nb = write_tiny_notebook(tmp_path / "nbs" / "tiny.ipynb")
    out = render_report(nb, {"n": 5, "label": "x y"}, tmp_path / "reports")
    assert out == tmp_path / "reports" / "tiny-5-x-y.html" == report_path(nb, {"n": 5, "label": "x y"}, tmp_path / "reports")
    html = out.read_text()
    # sum(range(5)) = 10; the kernel ran in the notebook's own folder; parameters injected
    assert "total=10 label=x y cwd=nbs" in html
    assert "Tiny report" in html and "git SHA" in html and "version: numpy" in html
    # nothing else in the folder: no temp files left behind
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny-5-x-y.html"]
    # the source notebook is untouched (still without outputs)
    src = nbformat.read(nb, as_version=4)
    assert all(not c.get("outputs") for c in src.cells if c.cell_type == "code")


def test_failing_notebook_raises_and_writes_nothing(tmp_path):
    nb = write_tiny_notebook(tmp_path / "bad.ipynb", body="\nraise ValueError('boom')")
    with pytest.raises(ReportError, match="boom"):
        render_report(nb, {"n": 3}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_param_slug_and_coercion():
    assert param_slug({"dataset": "lobster-aapl-20120621-l10"}) == "lobster-aapl-20120621-l10"
    long = param_slug({"a": "x" * 200})
    assert len(long) <= 80 and long != param_slug({"a": "x" * 199})
    assert coerce_parameter("10") == 10 and coerce_parameter("1e-3") == 0.001
    assert coerce_parameter("False") is False and coerce_parameter("abc") == "abc"


def test_demo_parameter_sets_and_find_notebook(tmp_path):
    nb = write_tiny_notebook(tmp_path / "a.ipynb", demo=[{"n": 1}, {"n": 4}])
    assert demo_parameter_sets(nb) == [{"n": 1}, {"n": 4}]
    assert demo_parameter_sets(write_tiny_notebook(tmp_path / "b.ipynb")) == [{}]
    assert find_notebook("a", tmp_path) == nb.resolve()
    with pytest.raises(ConfigError, match="available"):
        find_notebook("nope", tmp_path)


def test_shipped_report_notebook_declares_demo_sets():
    nb = find_notebook("market_data_report")
    sets = demo_parameter_sets(nb)
    names = [s["dataset"] for s in sets]
    assert any(n.startswith("binance-") for n in names) and any(n.startswith("lobster-") for n in names)
    cells = json.loads(nb.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# ")
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")  # stored clean


def test_provenance_collect(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"abc")
    p = provenance.collect([f], {"k": 1}, libraries=["numpy"])
    # sha256("abc"), FIPS 180-2 appendix B.1 test vector
    assert p.data == {"f.bin": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    assert p.parameters == {"k": 1} and set(p.versions) == {"python", "numpy"}
    assert p.git_sha == "unknown" or len(p.git_sha.split("+")[0]) == 40
    assert provenance.git_sha(tmp_path) == "unknown"  # not a git checkout
    df = p.to_frame()
    assert list(df.columns) == ["item", "value"] and "data sha256: f.bin" in set(df["item"])
    assert json.loads(json.dumps(p.to_dict()))["parameters"] == {"k": 1}
    with pytest.raises(ConfigError):
        provenance.Provenance(data={}, git_sha="", parameters={}, versions={})


def test_static_chart_is_plain_bokeh_and_loaders_are_dropped():
    import holoviews as hv

    from mmlab.reports import StaticChart, bokeh_inline_html, drop_live_loaders

    chart = StaticChart(hv.Curve([(0, 1), (1, 3)]))._repr_html_()
    assert chart.startswith("<div") and "Bokeh.safely" in chart and "cdn." not in chart
    lib = bokeh_inline_html()
    assert len(lib) > 500_000 and "http" not in lib[:200]  # BokehJS itself, inline
    nb = nbformat.v4.new_notebook()
    loader = nbformat.v4.new_output("display_data", data={"application/javascript": "x", "application/vnd.holoviews_load.v0+json": "x"})
    static = nbformat.v4.new_output("display_data", data={"text/html": lib[:200]})
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[loader, static])]
    drop_live_loaders(nb)
    assert nb.cells[0].outputs == [static]
    # without static charts the live loader outputs are kept
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[loader])]
    drop_live_loaders(nb)
    assert len(nb.cells[0].outputs) == 1


def test_run_demo_prepares_data_and_renders_every_demo_set(tmp_path, monkeypatch, capsys):
    from mmlab.data import Catalog, _catalog
    from mmlab.reports import run_demo

    # keep it small: the demo needs one shipped chain, and the notebook reads it from the catalog
    monkeypatch.setattr(_catalog, "DEMO_DATASETS", ("cboe-spy-20230914",))
    monkeypatch.delenv("MMLAB_DATA_DIR", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["mmlab"] = {"demo_parameters": [{"dataset": "cboe-spy-20230914", "n": 2}]}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo"),
        nbformat.v4.new_code_cell("dataset = ''\nn = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "from mmlab.data import Catalog\nchain = Catalog().load(dataset)\n"
            "print(f'{dataset}: {len(chain)} rows, n={n}')"
        ),
    ]
    path = tmp_path / "nbs" / "demo_nb.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    messages = []
    out = run_demo(tmp_path / "reports", notebooks=[path], catalog=Catalog(tmp_path / "cat"), echo=messages.append,
                   progress=True)
    assert [p.name for p in out] == ["demo_nb-cboe-spy-20230914-2.html"]
    # the kernel found the data in the catalog run_demo prepared (7,292 contracts in the SPY file)
    assert "cboe-spy-20230914: 7292 rows, n=2" in out[0].read_text()
    assert "cboe-spy-20230914" in Catalog(tmp_path / "cat").names()
    assert messages[0].startswith("preparing data") and "MMLAB_DATA_DIR" not in __import__("os").environ
    # the tqdm bar on standard error counted the report; the index lists it
    err = capsys.readouterr().err
    assert "reports" in err and "1/1" in err and str(out[0]) in err
    assert messages[-1] == f"index: {tmp_path / 'reports' / 'index.html'}"
    assert out[0].name in (tmp_path / "reports" / "index.html").read_text()


@pytest.mark.parametrize("name", ["backtest_report", "strategy_comparison"])
def test_backtest_report_notebooks_declare_demo_sets_on_shipped_event_data(name):
    from mmlab.data import SHIPPED_SOURCES
    from mmlab.manager import BACKTEST_PRESETS, dataset_product

    nb = find_notebook(name)
    sets = demo_parameter_sets(nb)
    assert len(sets) >= 2
    for s in sets:  # each demo set is a shipped order-book data set with presets for its product
        assert SHIPPED_SOURCES[s["dataset"]].kind in ("binance", "lobster")
        product = dataset_product(s["dataset"])
        assert product in BACKTEST_PRESETS
        assert s.get("strategy", "grid") in BACKTEST_PRESETS[product]
    cells = json.loads(nb.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# ")
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "dataset = " in "".join(params[0]["source"])
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")  # stored clean
    assert any("static_charts()" in "".join(c["source"]) for c in cells)  # offline charts


def write_headline_notebook(path: Path, fail_required: bool = False) -> Path:
    """A tiny report in the shape of the shipped ones: title, parameters, a table, checks, the
    headline (tagged), then the verify cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Headline report"),
        nbformat.v4.new_code_cell("n = 3\nlabel = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import pandas as pd\nfrom mmlab.reports import Checks, Headline, table\nchecks = Checks()\n"
            "SECRET_CODE_MARKER = 1\n"
            "table(pd.DataFrame({'vol': [0.085185] * n}), {'vol': 'pct'}, caption='vols')"
        ),
        nbformat.v4.new_code_cell(
            f"checks.check('n is positive', n > 0)\nchecks.check('always', {not fail_required})\n"
            "checks.check('soft one', False, 'shown, not enforced', required=False)"
        ),
        nbformat.v4.new_code_cell(
            "Headline('Tiny: ' + label, 'summing', 'no data', [('n', str(n), 'a count')], checks, {'f.csv': 'ab' * 32})",
            metadata={"tags": ["headline"]},
        ),
        nbformat.v4.new_code_cell("checks.verify()"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_unknown_parameter_is_refused_before_anything_runs(tmp_path):
    from typer.testing import CliRunner

    from mmlab.cli import app
    from mmlab.reports import check_parameters, notebook_parameters

    nb = write_tiny_notebook(tmp_path / "tiny.ipynb")
    assert notebook_parameters(nb) == {"n": 2, "label": "default"}
    assert check_parameters(nb, {"n": 5}) == {"n": 5, "label": "default"}
    with pytest.raises(ConfigError, match=r"-p bogus_param: tiny.ipynb has no such parameter \(its parameters: n, label\)"):
        render_report(nb, {"bogus_param": 1}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists()  # refused before the output folder was even made
    res = CliRunner().invoke(app, ["report", str(nb), "-o", str(tmp_path / "r2"), "-p", "bogus_param", "1"])
    assert res.exit_code == 1 and "bogus_param" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r2").exists()
    # a shipped notebook: checked against its parameters cell
    with pytest.raises(ConfigError, match="its parameters: dataset, start, end, levels"):
        check_parameters(find_notebook("market_data_report"), {"dataset": "x", "level": 5})


def test_report_hides_code_opens_with_headline_and_is_indexed(tmp_path):
    from mmlab.reports import read_record, write_index

    nb = write_headline_notebook(tmp_path / "nbs" / "head.ipynb")
    out = render_report(nb, {"label": "y"}, tmp_path / "reports")
    html = out.read_text()
    # no code: no input area, no prompt, not the code's text; the outputs are there
    import re

    assert "SECRET_CODE_MARKER" not in html
    code_cells = re.findall(r'<div class="(jp-Cell jp-CodeCell[^"]*)"', html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)  # every code cell: output only
    assert not re.search(r'class="[^"]*\bjp-(InputPrompt|CodeMirrorEditor)\b', html)
    assert "8.52 %" in html and "data:text/csv;charset=utf-8;base64," in html
    # no script from the network (require.js, MathJax): the page works offline
    assert "cdnjs" not in html and "require.min.js" not in html
    # the headline comes right after the title, before the first table
    assert html.index("Headline report") < html.index("mmlab-headline") < html.index("8.52 %")
    rec = read_record(out)
    assert rec["title"] == "Tiny: y" and rec["parameters"] == {"n": 3, "label": "y"}
    assert rec["checks_passed"] == 2 and rec["checks_total"] == 3 and rec["checks_not_enforced"] == 1
    assert rec["data_hashes"] == {"f.csv": "ab" * 32} and rec["notebook"] == "head"
    assert rec["git_sha"] and rec["rendered"].endswith("UTC")
    index = write_index(tmp_path / "reports")
    page = index.read_text()
    assert f'href="{out.name}"' in page and "Tiny: y" in page and "2 / 3 passed" in page
    assert "abababababab" in page and "not enforced: soft one" in page
    assert sorted(p.name for p in out.parent.iterdir()) == ["head-y.html", "index.html"]
    # --show-code puts the code back
    shown = render_report(nb, {"label": "y"}, tmp_path / "with_code", show_code=True).read_text()
    assert "SECRET_CODE_MARKER" in shown


def test_failed_required_check_stops_the_report(tmp_path):
    nb = write_headline_notebook(tmp_path / "bad_check.ipynb", fail_required=True)
    with pytest.raises(ReportError, match="ChecksFailed.*always"):
        render_report(nb, {}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
