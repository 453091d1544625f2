"""Argument handling shared by the pricing functions: flags, broadcasting, output shapes.

Every public pricing function accepts scalars, lists, NumPy arrays or pandas Series, broadcast
like NumPy.  To keep the numba kernels simple and the scalar path fast, each argument reaches a
kernel as a 1-D float64 array of length 1 (a scalar, read at index 0 for every element) or of the
full broadcast size ``n`` (read at index ``i``).  Only arguments whose shape differs from the
broadcast shape (e.g. ``(n, 1)`` against ``(1, m)``) are materialised.
"""

from __future__ import annotations

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["as_flags", "broadcast_inputs", "flag_scalar", "reshape_output", "scalars"]

_FLAG_WORDS = {"c": 1.0, "call": 1.0, "p": -1.0, "put": -1.0}


_SCALAR_TYPES = (float, int, np.float64)


def scalars(*args) -> bool:
    """True when every argument is a plain scalar number (the fast single-option path).

    Examples
    --------
    >>> scalars(1.0, 2, np.float64(3.0)), scalars(1.0, [2.0])
    (True, False)
    """
    return all(type(a) in _SCALAR_TYPES for a in args)


def flag_scalar(flag) -> float | None:
    """+1.0/-1.0 for a single string flag, None for anything else (then use :func:`as_flags`).

    Examples
    --------
    >>> flag_scalar("p"), flag_scalar(["c"])
    (-1.0, None)
    """
    if type(flag) is str:
        v = _FLAG_WORDS.get(flag.lower())
        if v is None:
            raise ConfigError(f"flag: expected 'c' or 'p', got {flag!r}")
        return v
    return None


def as_flags(flag) -> np.ndarray:
    """Convert option flags to a float64 array of +1 (call) / -1 (put).

    Parameters
    ----------
    flag : str, int or array-like
        ``'c'``/``'p'`` (also ``'call'``/``'put'``, any case), or the numbers +1/-1.

    Returns
    -------
    numpy.ndarray
        +1.0 for calls and -1.0 for puts, with the shape of ``flag``.

    Raises
    ------
    ConfigError
        On any other value (the error names the argument and the first bad element).

    Examples
    --------
    >>> as_flags(["c", "P", "call"])
    array([ 1., -1.,  1.])
    """
    if isinstance(flag, str):
        v = _FLAG_WORDS.get(flag.lower())
        if v is None:
            raise ConfigError(f"flag: expected 'c' or 'p', got {flag!r}")
        return np.array(v)
    arr = np.asarray(flag)
    if arr.dtype.kind == "O":  # e.g. a pandas object column of 'c'/'p'
        try:
            arr = arr.astype(str)
        except (TypeError, ValueError):
            raise ConfigError("flag: expected 'c'/'p' strings or +1/-1 numbers") from None
    if arr.dtype.kind in "iuf":
        out = arr.astype(np.float64)
        bad = ~((out == 1.0) | (out == -1.0))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ConfigError(f"flag: numeric flags must be +1 or -1, element {i} is {out.ravel()[i]!r}")
        return out
    if arr.dtype.kind == "U" and arr.dtype.itemsize == 4:
        # one-character flags: compare code points (fast on millions of options)
        cp = arr.view(np.uint32)
        out = np.where((cp == 99) | (cp == 67), 1.0, np.where((cp == 112) | (cp == 80), -1.0, np.nan))
        bad = np.isnan(out)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ConfigError(f"flag: expected 'c' or 'p', element {i} is {arr.ravel()[i]!r}")
        return out
    if arr.dtype.kind in "USO":
        low = np.char.lower(arr.astype(str))
        out = np.full(arr.shape, np.nan)
        for word, v in _FLAG_WORDS.items():
            out[low == word] = v
        bad = np.isnan(out)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ConfigError(
                f"flag: expected 'c' or 'p', element {i} is {arr.ravel()[i]!r}"
            )
        return out
    raise ConfigError(f"flag: expected 'c'/'p' strings or +1/-1 numbers, got dtype {arr.dtype}")


def broadcast_inputs(**named) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast named arguments; return the shape and kernel-ready 1-D float64 arrays.

    Parameters
    ----------
    **named : array-like
        The arguments in kernel order (names are used in error messages only).

    Returns
    -------
    shape : tuple of int
        The broadcast shape.
    arrays : list of numpy.ndarray
        One contiguous 1-D float64 array per argument, of length 1 or ``prod(shape)``.

    Raises
    ------
    ConfigError
        If the shapes do not broadcast, or an argument is not numeric.

    Examples
    --------
    >>> shape, (a, b) = broadcast_inputs(S=100.0, K=[90.0, 100.0, 110.0])
    >>> shape, a, b
    ((3,), array([100.]), array([ 90., 100., 110.]))
    """
    arrays = []
    for name, v in named.items():
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name}: not numeric ({exc})") from None
        arrays.append(a)
    shapes = {a.shape for a in arrays if a.shape != ()}
    try:
        if not shapes:
            shape = ()
        elif len(shapes) == 1:
            (shape,) = shapes
        else:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        desc = ", ".join(f"{k}{a.shape}" for k, a in zip(named, arrays, strict=True))
        raise ConfigError(f"arguments do not broadcast together: {desc}") from None
    out = []
    for a in arrays:
        if a.size == 1:
            out.append(a.reshape(1))
        elif a.shape == shape:
            out.append(np.ascontiguousarray(a).reshape(-1))
        else:
            out.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1))
    return shape, out


def reshape_output(values: np.ndarray, shape: tuple[int, ...]):
    """Give a kernel's flat output the broadcast shape (a NumPy float for scalar inputs).

    Examples
    --------
    >>> reshape_output(np.array([1.5]), ())
    np.float64(1.5)
    """
    if shape == ():
        return values.reshape(())[()]
    return values.reshape(shape)
