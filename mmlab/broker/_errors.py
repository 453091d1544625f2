"""The adapters' own error and the wrapper that keeps a client's words redacted."""

from __future__ import annotations

from mmlab.errors import MMLabError
from mmlab.redaction import redact

__all__ = ["VenueError", "client_call"]


class VenueError(MMLabError, RuntimeError):
    """A venue client (ccxt, ib_async) failed; the message is the client's, redacted."""


def client_call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; a failure becomes a :class:`VenueError` with a redacted message.

    The client's exception is not chained (neither ``__cause__`` nor ``__context__``): its text,
    which may hold a signed URL or an echoed key, never reaches a traceback.

    Examples
    --------
    >>> def fails():
    ...     raise ValueError("GET /order?signature=abc123")
    >>> client_call(fails)
    Traceback (most recent call last):
    ...
    mmlab.broker._errors.VenueError: ValueError: GET /order?signature=***
    """
    error = None
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        error = VenueError(redact(f"{type(exc).__name__}: {exc}"))
    raise error  # outside the except block: no __context__ to the client's exception
