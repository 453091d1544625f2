"""The `mmlab` command line: data import/list/show on a temporary catalog, report, serve."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mmlab.cli import app, parse_params
from mmlab.data import SHIPPED_SOURCES, Catalog
from mmlab.errors import ConfigError

runner = CliRunner()


def test_data_import_list_show(catalog_tmp):
    spy = SHIPPED_SOURCES["cboe-spy-20230914"].paths()[0]
    res = runner.invoke(app, ["data", "import", str(spy)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("cboe-spy-20230914: 7292 rows, kind option_chain")
    # importing again is a no-op: same entry, same file
    first = Catalog(catalog_tmp).show("cboe-spy-20230914")
    res = runner.invoke(app, ["data", "import", "cboe-spy-20230914"])  # a shipped name works too
    assert res.exit_code == 0, res.output
    assert Catalog(catalog_tmp).show("cboe-spy-20230914") == first

    res = runner.invoke(app, ["data", "list"])
    assert res.exit_code == 0, res.output
    assert str(catalog_tmp.resolve()) in res.output and "cboe-spy-20230914" in res.output
    assert "7292" in res.output
    assert "lobster-aapl-20120621-l10" in res.output  # listed among the not-yet-converted

    res = runner.invoke(app, ["data", "show", "cboe-spy-20230914"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    assert shown["sha256"] == first["sha256"] and shown["loader"] == "load_option_chain"
    assert shown["t_start"].endswith("(2023-09-14T20:31:00+00:00)")


def test_data_errors_exit_nonzero(catalog_tmp, tmp_path):
    res = runner.invoke(app, ["data", "show", "no-such-set"])
    assert res.exit_code == 1 and "no-such-set" in res.output
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    res = runner.invoke(app, ["data", "import", str(bad)])
    assert res.exit_code == 1 and "x.csv" in res.output
    res = runner.invoke(app, ["data", "import", "--catalog", str(tmp_path / "c2"), str(tmp_path / "missing.gz")])
    assert res.exit_code == 1 and "missing.gz" in res.output


def test_report_command_renders_tiny_notebook(tmp_path):
    import nbformat

    nb = tmp_path / "tiny.ipynb"
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [
        nbformat.v4.new_markdown_cell("# Tiny"),
        nbformat.v4.new_code_cell("n = 2\nlabel = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("total = sum(range(n))\nprint(f'total={total} label={label}')"),
    ]
    nbformat.write(book, nb)
    out_dir = tmp_path / "reports"
    res = runner.invoke(app, ["report", str(nb), "-p", "n", "4", "-p", "label", "cli", "-o", str(out_dir)])
    assert res.exit_code == 0, res.output
    out = out_dir / "tiny-4-cli.html"
    assert res.output.strip() == str(out)
    assert "total=6 label=cli" in out.read_text()  # sum(range(4)) = 6: "4" arrived as an int
    res = runner.invoke(app, ["report", "no_such_notebook", "-o", str(out_dir)])
    assert res.exit_code == 1 and "no_such_notebook" in res.output


def test_parse_params():
    assert parse_params(["-p", "a", "1", "--param", "b", "x"]) == {"a": 1, "b": "x"}
    with pytest.raises(ConfigError):
        parse_params(["-p", "a"])
    with pytest.raises(ConfigError):
        parse_params(["a", "1"])


def test_serve_binds_loopback_by_default(monkeypatch):
    from mmlab import dashboards

    calls = []
    monkeypatch.delenv(dashboards.PASSWORD_ENV, raising=False)
    monkeypatch.setattr(dashboards, "run_server", lambda settings, scripts: calls.append((settings, scripts)))
    res = runner.invoke(app, ["serve", "--port", "5999"])
    assert res.exit_code == 0, res.output
    settings, scripts = calls[0]
    assert settings.address == "127.0.0.1" and settings.port == 5999 and not settings.show
    assert not settings.auth and settings.origins[:2] == ("127.0.0.1:5999", "localhost:5999")
    assert any(p.name == "market_data.py" for p in scripts) and all(p.is_file() for p in scripts)


def test_demo_help_mentions_reports():
    res = runner.invoke(app, ["demo", "--help"])
    assert res.exit_code == 0 and "report" in res.output


def test_data_import_several_files_and_stream(catalog_tmp):
    # two option chains are two data sets; importing both twice converts nothing the second time
    a = SHIPPED_SOURCES["deribit-btc-20200521"].paths()[0]
    b = SHIPPED_SOURCES["usd-swap-quotes-20231019"].paths()[0]
    res = runner.invoke(app, ["data", "import", str(a), str(b)])
    assert res.exit_code == 0, res.output
    assert "deribit-btc-20200521: 326 rows" in res.output and "usd-swap-quotes-20231019: 18 rows" in res.output
    assert res.output.count("(converted)") == 2
    res = runner.invoke(app, ["data", "import", str(a), str(b)])
    assert res.output.count("already converted") == 2, res.output
    assert sorted(Catalog(catalog_tmp).names()) == ["deribit-btc-20200521", "usd-swap-quotes-20231019"]
    res = runner.invoke(app, ["data", "import", "--name", "x", str(a), str(b)])
    assert res.exit_code == 1 and "--name" in res.output
