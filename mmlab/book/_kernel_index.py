"""Order-book kernels: the order-id hash table and the price ranks, each with its plain-Python twin.

* Order id -> slot: an open-addressing hash table (linear probing, backward-shift deletion):
  ``hkey`` ids, ``hval`` slots (-1 empty); its size is a power of two kept at least twice the
  number of resting orders by the caller.
* A price level is its rank in ``tab``, the sorted integer ticks of every price the book has
  seen (see :mod:`mmlab.book._kernel_base` for the whole state layout).

``hash_get`` and ``rehash`` are the numba kernels, ``hash_get_python`` and ``rehash_python`` their
twins (built from the same code by :func:`~mmlab.book._kernel_base.compile_family`).
"""

from __future__ import annotations

import numpy as np

from mmlab.book._kernel_base import cached_njit, compile_family

__all__ = ["hash_get", "hash_get_python", "rehash", "rehash_python"]

_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0x9E3779B1)  # odd 32-bit multipliers: 32 x 32-bit products never overflow
_C2 = np.uint64(0x85EBCA77)
_S32 = np.uint64(32)
_S15 = np.uint64(15)


# -- order-id hash table ------------------------------------------------------------------------


def _hhome_python(key, mask):
    """Home bucket of an order id: both 32-bit halves multiplied by odd constants, high bits
    folded down (ids whose low bits are all zero still spread)."""
    h = ((key & _M32) * _C1) ^ ((key >> _S32) * _C2)
    h = h ^ (h >> _S32)
    h = h ^ (h >> _S15)
    return np.int64(h & mask)


def hash_get_python(hkey, hval, key):
    """Slot of order id ``key``, or -1."""
    mask = np.uint64(hval.shape[0] - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0:
        if hkey[i] == key:
            return hval[i]
        i = (i + 1) & (hval.shape[0] - 1)
    return -1


def _hput_python(hkey, hval, key, slot):
    mask = np.uint64(hval.shape[0] - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0:
        i = (i + 1) & (hval.shape[0] - 1)
    hkey[i] = key
    hval[i] = slot


def _hdel_python(hkey, hval, key):
    n = hval.shape[0]
    mask = np.uint64(n - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0 and hkey[i] != key:
        i = (i + 1) & (n - 1)
    if hval[i] < 0:
        return
    j = i
    while True:  # backward-shift deletion keeps probe chains intact
        j = (j + 1) & (n - 1)
        if hval[j] < 0:
            break
        k = _hhome(hkey[j], mask)
        if (i <= j and (k <= i or k > j)) or (i > j and k <= i and k > j):
            hkey[i] = hkey[j]
            hval[i] = hval[j]
            i = j
    hval[i] = -1


def rehash_python(ord_i, ord_id, hkey, hval):
    """Fill an empty table (``hval`` all -1) with every live order."""
    for o in range(ord_i.shape[0]):
        if ord_i[o, 0] != 0:
            _hput(hkey, hval, ord_id[o], o)


# -- price ranks ---------------------------------------------------------------------------------


def _lower_python(tab, v):
    """First index ``i`` with ``tab[i] >= v`` (``len(tab)`` if none)."""
    lo = 0
    hi = tab.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if tab[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _find_python(tab, v):
    """Index of tick ``v`` in ``tab``, or -1."""
    i = _lower(tab, v)
    if i < tab.shape[0] and tab[i] == v:
        return i
    return -1



_FAMILY = ("_lower", "_find", "_hhome", "hash_get", "_hput", "_hdel", "rehash")
#: inlined into their callers at compile time
_INLINE = frozenset({"_hhome", "hash_get"})

_py = compile_family(globals(), _FAMILY, {}, None)
_nb = compile_family(globals(), _FAMILY, {}, cached_njit, _INLINE)
hash_get_python = _py["hash_get"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
rehash_python = _py["rehash"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
hash_get = _nb["hash_get"]
rehash = _nb["rehash"]

# the plain-Python family under the names the functions call, bound here for readers and
# linters; each family (Python and compiled) calls through its own namespace (compile_family)
_lower = _py["_lower"]
_find = _py["_find"]
_hhome = _py["_hhome"]
_hput = _py["_hput"]
_hdel = _py["_hdel"]
