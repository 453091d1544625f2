"""One numba cache stamp for a family of compiled functions that call each other.

numba's on-disk cache checks a cached function against its *own* source file only. A compiled
function that calls (or inlines) functions from other modules keeps their old machine code
after those modules change: an upgrade or an edit of a helper module then runs stale code until
the cache is deleted. :func:`family_stamp` writes a small stamp file whose name and content
carry the hash of every source file of the family; the family's functions are compiled with
their code objects pointing at it (:func:`stamped`), so a change in any of the sources is a
different stamp and a fresh cache entry, and an unchanged tree loads from the cache as before.

The stamp lives in a ``__pycache__`` directory beside the sources (ignored by git), or under
the temporary directory when the package is read-only; numba keeps the cache beside it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import types
from collections.abc import Iterable

__all__ = ["family_stamp", "stamped"]


def family_stamp(tag: str, sources: Iterable[str]) -> str | None:
    """The path of the stamp file of the family ``tag`` over ``sources`` (created if needed;
    ``None`` when no directory is writable: the functions then keep their own files)."""
    paths = sorted({os.path.abspath(p) for p in sources})
    if not paths:
        return None
    h = hashlib.sha256()
    for p in paths:
        h.update(os.path.basename(p).encode())
        with open(p, "rb") as f:
            h.update(f.read())
    digest = h.hexdigest()[:20]
    body = (f"# numba cache stamp of the compiled family {tag!r} (mmlab.numba_stamp)\n"
            f"# sha256 of its {len(paths)} source files: {h.hexdigest()}\n")
    for d in (os.path.join(os.path.dirname(paths[0]), "__pycache__"),
              os.path.join(tempfile.gettempdir(), "mmlab-numba-stamps")):
        path = os.path.join(d, f"{tag}_{digest}.py")
        try:
            if not os.path.exists(path):
                os.makedirs(d, exist_ok=True)
                tmp = f"{path}.{os.getpid()}.tmp"
                with open(tmp, "w") as f:
                    f.write(body)
                os.replace(tmp, path)  # atomic: a concurrent process sees all or nothing
            return path
        except OSError:
            continue
    return None


def stamped(code: types.CodeType, stamp: str | None) -> types.CodeType:
    """``code`` re-attributed to the family's stamp file (unchanged when there is none)."""
    return code if stamp is None else code.replace(co_filename=stamp)
