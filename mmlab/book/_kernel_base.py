"""Order-book kernels, the shared part: the state layout, the quantity tolerance and the compiler
that builds each kernel module's numba family from its plain-Python twins.

The kernels are pure functions over NumPy arrays, split by concept: the order-id hash table and
price ranks (``_kernel_index``), price levels and their FIFO queues (``_kernel_levels``) and
the event application (``_kernel``).

State layout (all NumPy arrays, updated in place):

* Levels are indexed by rank in ``tab``, the sorted integer ticks of every price the book has
  seen: level ``x`` of side ``s`` (0 = bid, 1 = ask) is the price ``tab[x] * tick``. (Real feeds
  carry far-away prices -- Binance diffs span 560 to 621,000 USDT -- so a dense tick array would
  be huge; ranks keep the arrays as small as the set of prices and still ordered.)
  ``lvl_q[s, 0, x]`` is the total quantity there, ``lvl_q[s, 1, x]`` the part held by *known*
  (L3) orders; the rest is *anonymous* (L2 updates, snapshots, orders resting before the stream
  began) and sits at the front of the queue. Known orders form a FIFO doubly-linked list
  per level: ``lvl_i[s, 0, x]`` head, ``lvl_i[s, 1, x]`` tail (-1: none).
* Order slot ``o``: ``ord_i[o] = (live, side, x, prev, next)``, remaining ``ord_q[o]``, id
  ``ord_id[o]``. Dead slots are recycled through a free list (threaded through ``next``).
* Order id -> slot: an open-addressing hash table (linear probing, backward-shift deletion):
  ``hkey`` ids, ``hval`` slots (-1 empty); its size is a power of two kept at least twice the
  number of resting orders by the caller.
* ``meta = (best bid x, best ask x, #bid levels, #ask levels, free-list head, slots used,
  events applied, book events applied)``; best is -1 when a side is empty.

Each kernel module writes its functions once in plain Python (``*_python``) and builds two
families from the same code with :func:`compile_family`: the plain-Python twin and the numba
kernels (``cache=True``: compiled once, then loaded from ``__pycache__``). A family's helper
names are bound to the same family's versions, including those of the modules below it, so the
twin runs the identical algorithm without numba.

Numba's cache checks only the file a kernel is written in, so the compiled family is attributed
to one stamp over all the kernel modules (:mod:`mmlab.numba_stamp`): an edit in a lower module
(``_kernel_index`` or ``_kernel_levels``) recompiles the kernels that inline or call it.
"""

from __future__ import annotations

import glob
import os
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from numba import njit

from mmlab.numba_stamp import family_stamp, stamped

__all__ = ["GRID_TOL", "QTY_EPS", "cached_njit", "compile_family"]

#: Quantities at or below this are zero (an emptied level is removed).
QTY_EPS = 1e-10
#: Prices further than this (in ticks) from a whole tick are off the grid.
GRID_TOL = 1e-6


def cached_njit(f: Callable[..., Any] | None = None, **kw: Any) -> Any:
    """``numba.njit(cache=True, **kw)``, used bare (``cached_njit(f)``) or with options."""
    if f is None:
        return njit(cache=True, **kw)
    return njit(cache=True)(f)


def compile_family(
    source: Mapping[str, Any],
    names: Iterable[str],
    bound: Mapping[str, Any],
    jit: Callable[..., Any] | None,
    inline: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The functions ``names`` of a kernel module with their helper names bound in a private
    namespace.

    Parameters
    ----------
    source : mapping
        The module's globals: ``name + "_python"`` is the source of each function, the other
        entries the constants its code reads.
    names : iterable of str
        The family's functions, callees before their callers.
    bound : mapping
        The families of the modules below, of the same kind (plain Python or compiled).
    jit : callable or None
        ``None`` gives the plain-Python family; :func:`cached_njit` the compiled one.
    inline : frozenset of str
        Names compiled with ``inline="always"`` (a call passing a dozen arrays costs more than
        the work these do).

    Returns
    -------
    dict
        Name -> function.
    """
    ns = dict(source)
    ns.update(bound)
    fam: dict[str, Any] = {}
    # one cache stamp over every kernel module: a compiled caller inlines its callees from the
    # modules below, so an edit there must recompile it too (mmlab.numba_stamp)
    here = os.path.dirname(os.path.abspath(__file__))
    stamp = None if jit is None else family_stamp(
        "book_kernels", glob.glob(os.path.join(here, "_kernel*.py")))
    for name in names:
        f = source[name + "_python"]
        g = types.FunctionType(stamped(f.__code__, stamp), ns, name, f.__defaults__)
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        g.__qualname__ = name
        if jit is not None:
            g = jit(inline="always")(g) if name in inline else jit(g)
        ns[name] = g
        fam[name] = g
    return fam
