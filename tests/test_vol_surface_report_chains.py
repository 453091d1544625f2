"""The vol-surface report renders on the shipped chains that exercise its thin-expiry and
no-forward rules (rendering one notebook takes ~15 s; kept to two chains)."""

from pathlib import Path

import nbformat
import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "vol_surface_report.ipynb"


def _outputs(nb) -> str:
    """All text/markdown/plain outputs of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append(data.get("text/markdown", "") + data.get("text/plain", "") + out.get("text", ""))
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("chain", "strict", "expected"),
    [
        # cboe_spy_2023-09-14.csv: SPY 2023-09-15 has 7 fitted quotes, its fitted ATM vol 0.1138 vs
        # market 0.1458 (3.2 vol points): listed as not checked. strict=False because SPY 2023-12-15
        # has 73.75 % of 80 fitted vols inside the bid-ask (below the 80 % acceptance). The same-day
        # SPY 2023-09-14 expiry is quoted after its close (t = -5.9e-5 y): listed as expired.
        ("cboe_spy_2023-09-14.csv", False, ["ATM vol not checked** on 1 thin", "SPY 2023-09-15 20:00",
                                            "expired (t <= 0)", "dropped: expired"]),
        # cboe_ndx_2022-02-04.csv: NDXP 2022-12-16 has 0 parity pairs (2 quotes, none usable), so no
        # forward: dropped before the fit and listed with the reason; the rest passes strict checks.
        ("cboe_ndx_2022-02-04.csv", True, ["1 expiry(ies) dropped before the fit",
                                           "no forward: 0 parity pairs", "dropped: no forward"]),
    ],
)
def test_report_renders(chain, strict, expected, tmp_path):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"chain": chain, "strict": strict},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    text = _outputs(nbformat.read(out, 4))
    for s in expected:
        assert s in text, s
