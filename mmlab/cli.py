"""The ``mmlab`` command line (typer). Every command has ``--help``."""

from __future__ import annotations

import typer

import mmlab

app = typer.Typer(
    name="mmlab",
    help="mmlab: research workbench for derivatives market making.",
    no_args_is_help=True,
    add_completion=False,
)


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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
