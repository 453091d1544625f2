"""Fast line scanner for Binance websocket dumps (numba kernel with a plain-Python twin).

The scanner reads ``<local ns> <combined-stream JSON>`` lines straight from the decompressed bytes
and extracts the fields mmlab needs. It is only a *fast path*: it accepts exactly the compact shape
Binance sends (no whitespace, no escapes, plain decimal strings) and marks every other line
``kind = 0`` so that :mod:`mmlab.data._binance` parses it with orjson, which is the authority for
every error message. Prices and quantities are decoded as ``mantissa / 10**k`` (both exact
doubles, one correctly rounded division), which equals Python's ``float(text)`` bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import register_jitable

__all__ = [
    "KIND_BBO",
    "KIND_DEPTH",
    "KIND_SLOW",
    "KIND_SNAPSHOT",
    "KIND_TRADE",
    "N_FLAG",
    "N_FLT",
    "N_INT",
    "scan_lines",
    "scan_lines_python",
]

KIND_SLOW = 0  #: not handled by the fast path (snapshot, malformed, unusual): parse with orjson
KIND_DEPTH = 1  #: diff depth update (``<sym>@depth``, ``@depth@100ms``, ``@depth@0ms``)
KIND_TRADE = 2  #: ``<sym>@trade``
KIND_BBO = 3  #: ``<sym>@bookTicker``
KIND_SNAPSHOT = 4  #: REST depth snapshot ``{"lastUpdateId": ...}`` (set by the slow path only)

# integer columns (absent = -1)
I_E, I_T, I_UF, I_UL, I_PU, I_TID = 0, 1, 2, 3, 4, 5
N_INT = 6
# float columns: trade p, q / bookTicker b, B, a, A
F_P, F_Q, F_A, F_AQ = 0, 1, 2, 3
N_FLT = 4
# flag columns: m (buyer is maker: -1 absent, 0, 1); X (-1 absent, 1 MARKET, 0 other);
# e (0 absent, 1 depthUpdate, 2 trade, 3 bookTicker, 9 other)
G_M, G_X, G_E = 0, 1, 2
N_FLAG = 3

_POW10 = np.array([10.0**k for k in range(23)])
_MAX_MANT = 9007199254740992  # 2**53

_LIT_STREAM = np.frombuffer(b'{"stream":"', dtype=np.uint8).copy()
_LIT_DATA = np.frombuffer(b'","data":{', dtype=np.uint8).copy()
_W_DEPTH = np.frombuffer(b"depth", dtype=np.uint8).copy()
_W_TRADE = np.frombuffer(b"trade", dtype=np.uint8).copy()
_W_BBO = np.frombuffer(b"bookTicker", dtype=np.uint8).copy()
_W_DEPTHUPDATE = np.frombuffer(b"depthUpdate", dtype=np.uint8).copy()
_W_MARKET = np.frombuffer(b"MARKET", dtype=np.uint8).copy()


@register_jitable
def _match(buf, pos, end, lit):
    n = lit.shape[0]
    if pos + n > end:
        return False
    for j in range(n):
        if buf[pos + j] != lit[j]:
            return False
    return True


@register_jitable
def _span_eq(buf, s, n, lit):
    if n != lit.shape[0]:
        return False
    for j in range(n):
        if buf[s + j] != lit[j]:
            return False
    return True


@register_jitable
def _parse_uint(buf, pos, end):
    """Unsigned integer at pos -> (value, new pos) or (0, -1)."""
    v = 0
    start = pos
    while pos < end:
        c = buf[pos]
        if c < 48 or c > 57:
            break
        if v > 922337203685477579:  # next digit could overflow int64
            return 0, -1
        v = v * 10 + (int(c) - 48)
        pos += 1
    if pos == start:
        return 0, -1
    return v, pos


@register_jitable
def _parse_decstr(buf, pos, end):
    """A quoted plain decimal ``"123.45"`` at pos -> (value, pos after the quote) or (0.0, -1)."""
    if pos >= end or buf[pos] != 34:
        return 0.0, -1
    pos += 1
    m = 0
    k = 0
    ndig = 0
    dot = False
    while pos < end:
        c = buf[pos]
        if c >= 48 and c <= 57:
            m = m * 10 + (int(c) - 48)
            if m > _MAX_MANT:
                return 0.0, -1
            ndig += 1
            if dot:
                k += 1
        elif c == 46 and not dot:
            dot = True
        elif c == 34:
            break
        else:
            return 0.0, -1
        pos += 1
    if pos >= end or ndig == 0 or k > 22:
        return 0.0, -1
    return m / _POW10[k], pos + 1


@register_jitable
def _skip_string(buf, pos, end):
    """Skip a quoted string without escapes -> pos after the closing quote, or -1."""
    if pos >= end or buf[pos] != 34:
        return -1
    pos += 1
    while pos < end:
        c = buf[pos]
        if c == 34:
            return pos + 1
        if c == 92 or c < 32:
            return -1
        pos += 1
    return -1


@register_jitable
def _skip_number(buf, pos, end):
    start = pos
    while pos < end:
        c = buf[pos]
        if (c >= 48 and c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69:
            pos += 1
        else:
            break
    if pos == start:
        return -1
    return pos


@register_jitable
def _scan_line(buf, s, e, i, ints, flts, flags, lvl_px, lvl_qty, lvl_side, lvl_line, n_lvl):
    """Scan one line; returns (kind, local_ts, new n_lvl). kind 0 leaves n_lvl untouched."""
    n0 = n_lvl
    while e > s and (buf[e - 1] == 13 or buf[e - 1] == 32):
        e -= 1
    ts, pos = _parse_uint(buf, s, e)
    if pos < 0 or pos - s != 19 or pos >= e or buf[pos] != 32:
        return 0, 0, n0
    pos += 1
    if not _match(buf, pos, e, _LIT_STREAM):
        return 0, ts, n0
    pos += _LIT_STREAM.shape[0]
    # stream name: <symbol>@<kind>[@<speed>]
    ns = pos
    at = -1
    while pos < e and buf[pos] != 34:
        if buf[pos] == 64 and at < 0:
            at = pos
        if buf[pos] == 92:
            return 0, ts, n0
        pos += 1
    if pos >= e or at < 0:
        return 0, ts, n0
    suf = at + 1
    sufn = pos - suf
    kind = 0
    if sufn >= 5 and _match(buf, suf, pos, _W_DEPTH) and (sufn == 5 or buf[suf + 5] == 64):
        kind = 1
    elif _span_eq(buf, suf, sufn, _W_TRADE):
        kind = 2
    elif _span_eq(buf, suf, sufn, _W_BBO):
        kind = 3
    if kind == 0 or ns == at:
        return 0, ts, n0
    if not _match(buf, pos, e, _LIT_DATA):
        return 0, ts, n0
    pos += _LIT_DATA.shape[0]
    for j in range(ints.shape[1]):
        ints[i, j] = -1
    for j in range(flts.shape[1]):
        flts[i, j] = np.nan
    flags[i, 0] = -1
    flags[i, 1] = -1
    flags[i, 2] = 0
    got_b = False
    got_bq = False
    got_a = False
    got_aq = False
    got_p = False
    got_q = False
    first = True
    while True:
        if pos >= e:
            return 0, ts, n0
        if buf[pos] == 125:  # '}'
            pos += 1
            break
        if not first:
            if buf[pos] != 44:
                return 0, ts, n0
            pos += 1
        first = False
        if pos >= e or buf[pos] != 34:
            return 0, ts, n0
        ks = pos + 1
        pos = _skip_string(buf, pos, e)
        if pos < 0 or pos >= e or buf[pos] != 58:
            return 0, ts, n0
        kl = pos - 1 - ks
        pos += 1
        if pos >= e:
            return 0, ts, n0
        k0 = buf[ks]
        kc = 0  # key code: char for 1-letter keys, 1 for 'pu', 0 unknown
        if kl == 1:
            kc = k0
        elif kl == 2 and k0 == 112 and buf[ks + 1] == 117:
            kc = 1
        c = buf[pos]
        if c == 34:  # string value
            if kc == 112 or kc == 113 or kc == 98 or kc == 66 or kc == 97 or kc == 65:
                if kind == 1 and (kc == 98 or kc == 97):
                    return 0, ts, n0
                v, pos = _parse_decstr(buf, pos, e)
                if pos < 0:
                    return 0, ts, n0
                if kc == 112 or kc == 98:
                    flts[i, 0] = v
                    got_p = got_p or kc == 112
                    got_b = got_b or kc == 98
                elif kc == 113 or kc == 66:
                    flts[i, 1] = v
                    got_q = got_q or kc == 113
                    got_bq = got_bq or kc == 66
                elif kc == 97:
                    flts[i, 2] = v
                    got_a = True
                else:
                    flts[i, 3] = v
                    got_aq = True
            else:
                vs = pos + 1
                pos = _skip_string(buf, pos, e)
                if pos < 0:
                    return 0, ts, n0
                vn = pos - 1 - vs
                if kc == 101:  # "e"
                    if _span_eq(buf, vs, vn, _W_DEPTHUPDATE):
                        flags[i, 2] = 1
                    elif _span_eq(buf, vs, vn, _W_TRADE):
                        flags[i, 2] = 2
                    elif _span_eq(buf, vs, vn, _W_BBO):
                        flags[i, 2] = 3
                    else:
                        flags[i, 2] = 9
                elif kc == 88:  # "X"
                    flags[i, 1] = 1 if _span_eq(buf, vs, vn, _W_MARKET) else 0
        elif c >= 48 and c <= 57:  # unsigned integer
            if kc == 69 or kc == 84 or kc == 85 or kc == 117 or kc == 1 or kc == 116:
                v, pos = _parse_uint(buf, pos, e)
                if pos < 0:
                    return 0, ts, n0
                if kc == 69:
                    ints[i, 0] = v
                elif kc == 84:
                    ints[i, 1] = v
                elif kc == 85:
                    ints[i, 2] = v
                elif kc == 117:
                    ints[i, 3] = v
                elif kc == 1:
                    ints[i, 4] = v
                else:
                    ints[i, 5] = v
            else:
                pos = _skip_number(buf, pos, e)
                if pos < 0:
                    return 0, ts, n0
        elif c == 116 or c == 102:  # true / false
            if c == 116 and pos + 4 <= e and buf[pos + 1] == 114 and buf[pos + 2] == 117 \
                    and buf[pos + 3] == 101:
                val = 1
                pos += 4
            elif c == 102 and pos + 5 <= e and buf[pos + 1] == 97 and buf[pos + 2] == 108 \
                    and buf[pos + 3] == 115 and buf[pos + 4] == 101:
                val = 0
                pos += 5
            else:
                return 0, ts, n0
            if kc == 109:  # "m"
                flags[i, 0] = val
        elif c == 91:  # array: only depth levels [["px","qty"],...]
            if kind != 1 or not (kc == 98 or kc == 97):
                return 0, ts, n0
            side = 1 if kc == 98 else 2
            if kc == 98:
                got_b = True
            else:
                got_a = True
            pos += 1
            if pos < e and buf[pos] == 93:
                pos += 1
            else:
                while True:
                    if pos >= e or buf[pos] != 91:
                        return 0, ts, n0
                    px, pos = _parse_decstr(buf, pos + 1, e)
                    if pos < 0 or pos >= e or buf[pos] != 44:
                        return 0, ts, n0
                    qty, pos = _parse_decstr(buf, pos + 1, e)
                    if pos < 0 or pos >= e or buf[pos] != 93:
                        return 0, ts, n0
                    pos += 1
                    if n_lvl >= lvl_px.shape[0]:
                        return 0, ts, n0
                    lvl_px[n_lvl] = px
                    lvl_qty[n_lvl] = qty
                    lvl_side[n_lvl] = side
                    lvl_line[n_lvl] = i
                    n_lvl += 1
                    if pos >= e:
                        return 0, ts, n0
                    if buf[pos] == 44:
                        pos += 1
                    elif buf[pos] == 93:
                        pos += 1
                        break
                    else:
                        return 0, ts, n0
        else:
            return 0, ts, n0
    if pos >= e or buf[pos] != 125 or pos + 1 != e:
        return 0, ts, n0
    # required fields and consistency of "e" with the stream name
    ecode = flags[i, 2]
    if kind == 1:
        if not (got_b and got_a) or ints[i, 2] < 0 or ints[i, 3] < 0 or ecode != 1:
            return 0, ts, n0
        if ints[i, 0] < 0 and ints[i, 1] < 0:
            return 0, ts, n0
    elif kind == 2:
        if not (got_p and got_q) or flags[i, 0] < 0 or ecode != 2:
            return 0, ts, n0
        if ints[i, 0] < 0 and ints[i, 1] < 0:
            return 0, ts, n0
    else:
        if not (got_b and got_bq and got_a and got_aq) or ints[i, 3] < 0:
            return 0, ts, n0
        if ecode != 0 and ecode != 3:
            return 0, ts, n0
    return kind, ts, n_lvl


def scan_lines_python(buf, starts, ends, local_ts, kind, ints, flts, flags,
                      lvl_px, lvl_qty, lvl_side, lvl_line):
    """Scan every line ``buf[starts[i]:ends[i]]``; fill the per-line and per-level arrays.

    Returns the number of depth levels written. Lines the fast path does not handle get
    ``kind[i] = 0`` and contribute no levels. Plain-Python twin of :func:`scan_lines`.

    Examples
    --------
    >>> line = (b'1723161255088169167 {"stream":"btcusdt@trade","data":{"e":"trade",'
    ...         b'"E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,'
    ...         b'"p":"61800.30","q":"0.006","X":"MARKET","m":false}}')
    >>> buf = np.frombuffer(line, dtype=np.uint8)
    >>> out = _alloc(1, 4)
    >>> scan_lines_python(buf, np.array([0]), np.array([len(line)]), *out)
    0
    >>> local_ts, kind, ints, flts, flags = out[:5]
    >>> int(kind[0]), int(local_ts[0]), int(ints[0, 1]), float(flts[0, 0]), int(flags[0, 0])
    (2, 1723161255088169167, 1723161256322, 61800.3, 0)
    """
    n_lvl = 0
    for i in range(starts.shape[0]):
        k, ts, n_lvl = _scan_line(buf, starts[i], ends[i], i, ints, flts, flags,
                                  lvl_px, lvl_qty, lvl_side, lvl_line, n_lvl)
        kind[i] = k
        local_ts[i] = ts
    return n_lvl


scan_lines = njit(cache=True)(scan_lines_python)


def _alloc(n_lines: int, n_levels: int):
    """Output arrays for :func:`scan_lines` (per line, then per level)."""
    return (
        np.zeros(n_lines, dtype=np.int64),
        np.zeros(n_lines, dtype=np.int8),
        np.full((n_lines, N_INT), -1, dtype=np.int64),
        np.full((n_lines, N_FLT), np.nan, dtype=np.float64),
        np.zeros((n_lines, N_FLAG), dtype=np.int8),
        np.empty(n_levels, dtype=np.float64),
        np.empty(n_levels, dtype=np.float64),
        np.empty(n_levels, dtype=np.int8),
        np.empty(n_levels, dtype=np.int64),
    )
