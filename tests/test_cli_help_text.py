"""The `mmlab backtest --help` text names the required parameters of every engine strategy, and
every command's help renders without ragged line breaks."""

from __future__ import annotations

import inspect
import re

from typer.testing import CliRunner

from mmlab.backtest.engine._strategies import STRATEGY_CLASSES, strategy_class
from mmlab.cli import app, backtest


def _required(cls) -> list[str]:
    sig = inspect.signature(cls)
    return [n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty]


def test_backtest_help_lists_the_required_parameters_of_every_strategy():
    doc = inspect.getdoc(backtest)
    line = next(p for p in doc.split("\n\n") if p.startswith("Required parameters:"))
    listed = dict(re.findall(r"([a-z-]+): ([A-Za-z_, ]+?)(?=;|\. )", line.split(":", 1)[1]))
    assert set(listed) == set(STRATEGY_CLASSES)
    for name, params in listed.items():
        assert [p.strip() for p in params.split(",")] == _required(strategy_class(name)), name


def test_help_paragraphs_are_single_lines():
    # typer prints the single line breaks of a help's later paragraphs, and the terminal wraps the
    # lines again: ragged help. Each later paragraph is therefore one source line.
    from typer.main import get_command

    cli = get_command(app)
    ctx_cmds = [cli.commands[n] for n in cli.commands]
    ctx_cmds += [c for g in ctx_cmds if hasattr(g, "commands") for c in g.commands.values()]
    for cmd in ctx_cmds:
        paragraphs = inspect.cleandoc(cmd.help or "").split("\n\n")
        for par in paragraphs[1:]:
            assert "\n" not in par, (cmd.name, par)
    res = CliRunner().invoke(app, ["backtest", "--help"])
    assert res.exit_code == 0 and "adaptive" in res.output
