"""The numba kernels against their plain-Python source, run with ``NUMBA_DISABLE_JIT=1``.

The ``*_python`` twins of the loop kernels call numba-compiled scalar helpers; this test runs
the *whole* stack (helpers included) as plain Python in a subprocess and compares it with the
compiled results in this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np

from mmlab.pricing import bachelier_greeks, bsm_greeks, implied_vol

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from mmlab.pricing import bachelier_greeks, bsm_greeks, implied_vol
    a = np.load(sys.argv[1])
    g = bsm_greeks(a["flag"], a["S"], a["K"], a["t"], a["r"], a["sig"], a["q"])
    iv, code = implied_vol(a["price"], a["flag"], a["S"], a["K"], a["t"], a["r"], a["q"])
    b = bachelier_greeks(a["flag"], a["F"], a["K"] / 50, a["t"], a["r"], a["sig"] * 3)
    ivn, coden = implied_vol(a["bprice"], a["flag"], a["F"], a["K"] / 50, a["t"], a["r"],
                             model="bachelier")
    np.savez(sys.argv[2], greeks=np.array([g[k] for k in g.keys()]), iv=iv, code=code,
             bgreeks=np.array([b[k] for k in b.keys()]), ivn=ivn, coden=coden)
    """
)


def test_compiled_equals_plain_python(tmp_path):
    rng = np.random.default_rng(5)
    n = 150
    a = dict(
        flag=np.where(rng.random(n) < 0.5, 1.0, -1.0),
        S=np.full(n, 100.0),
        K=100 * np.exp(rng.uniform(-0.8, 0.8, n)),
        t=np.r_[0.0, rng.uniform(1e-4, 3, n - 1)],
        r=rng.uniform(-0.01, 0.08, n),
        q=rng.uniform(0, 0.04, n),
        sig=rng.uniform(0.02, 1.5, n),
        F=rng.normal(0, 3, n),
    )
    g = bsm_greeks(a["flag"], a["S"], a["K"], a["t"], a["r"], a["sig"], a["q"])
    a["price"] = g.price
    b = bachelier_greeks(a["flag"], a["F"], a["K"] / 50, a["t"], a["r"], a["sig"] * 3)
    a["bprice"] = b.price
    np.savez(tmp_path / "in.npz", **a)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "in.npz"),
                    str(tmp_path / "out.npz")], check=True, env=env, timeout=300)
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["greeks"], np.array([g[k] for k in g.keys()]), rtol=1e-13,
                               atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(out["bgreeks"], np.array([b[k] for k in b.keys()]), rtol=1e-13,
                               atol=1e-15, equal_nan=True)
    iv, code = implied_vol(a["price"], a["flag"], a["S"], a["K"], a["t"], a["r"], a["q"])
    np.testing.assert_array_equal(out["code"], code)
    np.testing.assert_allclose(out["iv"], iv, rtol=1e-13, equal_nan=True)
    ivn, coden = implied_vol(a["bprice"], a["flag"], a["F"], a["K"] / 50, a["t"], a["r"],
                             model="bachelier")
    np.testing.assert_array_equal(out["coden"], coden)
    np.testing.assert_allclose(out["ivn"], ivn, rtol=1e-13, equal_nan=True)
    assert np.sum(code == 0) > 100 and np.sum(coden == 0) > 100
