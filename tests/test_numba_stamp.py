"""One numba cache stamp over a compiled family (``mmlab.numba_stamp``).

numba's on-disk cache checks a function against its own source file only: a cached caller keeps
the machine code of a callee from another module after that module changes. The stamp makes
the whole family one cache key. Shown here with a two-module family compiled in fresh
processes: without the stamp the edited callee is not seen (the stale result, numba's
documented behaviour); with it, it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from mmlab.numba_stamp import family_stamp, stamped

CALLEE = "def helper_python(x):\n    return x + {k}\n"
CALLER = textwrap.dedent("""
    import glob, os, sys, types
    from numba import njit
    sys.path.insert(0, os.path.dirname(__file__))
    import callee
    from mmlab.numba_stamp import family_stamp, stamped

    def main_python(x):
        return helper(x) * 10

    STAMP = os.environ.get("STAMP") == "1"
    here = os.path.dirname(os.path.abspath(__file__))
    stamp = family_stamp("demo", glob.glob(os.path.join(here, "*.py"))) if STAMP else None
    ns = {}
    for name, f in (("helper", callee.helper_python), ("main", main_python)):
        code = stamped(f.__code__, stamp)
        g = types.FunctionType(code, ns, name)
        g.__module__ = f.__module__  # (numba re-imports it when loading from the cache)
        ns[name] = njit(cache=True)(g)
    print(ns["main"](1))
""")


def _family(tmp_path, k):
    (tmp_path / "callee.py").write_text(CALLEE.format(k=k))
    (tmp_path / "caller.py").write_text(CALLER)


def _run(tmp_path, stamp):
    env = {**os.environ, "STAMP": "1" if stamp else "0"}
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, str(tmp_path / "caller.py")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.strip().splitlines()[-1])


def test_an_edited_callee_is_recompiled_with_the_stamp(tmp_path):
    a, b = tmp_path / "plain", tmp_path / "stamped"
    a.mkdir()
    b.mkdir()
    for d in (a, b):
        _family(d, 1)
    assert _run(a, False) == 20 and _run(b, True) == 20  # (1 + 1) x 10
    for d in (a, b):
        _family(d, 2)  # the callee changes; the caller's file does not
    assert _run(a, False) == 20  # numba alone: the caller's cache keeps the old callee
    assert _run(b, True) == 30  # with the stamp: (1 + 2) x 10
    assert _run(b, True) == 30  # and the next process loads it from the cache


def test_the_stamp_follows_the_sources(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("x = 1\n")
    s1 = family_stamp("t", [str(f)])
    assert s1 is not None and os.path.isfile(s1)
    assert family_stamp("t", [str(f)]) == s1  # same sources, same stamp
    f.write_text("x = 2\n")
    s2 = family_stamp("t", [str(f)])
    assert s2 != s1 and os.path.isfile(s2)
    assert os.path.dirname(s1) == str(tmp_path / "__pycache__")  # beside them, git-ignored
    assert family_stamp("t", []) is None
    code = (lambda: 0).__code__
    assert stamped(code, None) is code and stamped(code, s2).co_filename == s2
