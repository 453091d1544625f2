"""Secret redaction: keep API keys, secrets and signatures out of everything mmlab writes.

A top-level module of its own: the venue adapters (:mod:`mmlab.broker`, which re-exports it)
and the trading journal (:mod:`mmlab.runtime`) both use it, and neither imports the other for it.

Two nets, applied together by :func:`redact`:

- **known values**: every secret registered with :func:`register_secret` (each
  :class:`~mmlab.broker.Credentials` registers its key, secret and passphrase) and every value of
  an environment variable whose name looks secret (``*API_KEY*``, ``*SECRET*``, ``*PASSWORD*``,
  ``*PASSPHRASE*``, ``*TOKEN*``, ``*PRIVATE_KEY*``), read at each call, at least
  :data:`MIN_SECRET_LENGTH` characters long. Wherever such a value appears it becomes ``***``.
- **secret-looking fields**, whatever their value: query and form parameters
  (``signature=``, ``apiKey=``, ``api_key=``, ``secret=``, ``password=``, ``token=`` ...),
  header lines and quoted mapping entries (``'X-MBX-APIKEY': '...'``, ``"Authorization": ...``)
  and an exchange's ``API-key <value>`` phrase.

:func:`install_log_redaction` makes every log record of the process pass through :func:`redact`
(a log-record factory, plus a :class:`RedactingFilter` on the root handlers and ccxt's loggers);
venue adapters call it when they are built, so ccxt's DEBUG lines (which print request headers)
never carry the key.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback

__all__ = ["MASK", "MIN_SECRET_LENGTH", "RedactingFilter", "install_log_redaction",
           "known_secrets", "redact", "register_secret"]

#: Shorter environment values are not treated as secrets (they would match ordinary text).
MIN_SECRET_LENGTH = 6

#: What a secret becomes.
MASK = "***"

_SECRET_ENV_NAME = re.compile(r"API_?KEY|API_?SECRET|SECRET|PASSWORD|PASSPHRASE|TOKEN|PRIVATE_?KEY",
                              re.IGNORECASE)

_FIELD = (r"(?:signature|sign|api[-_]?key|apikey|api[-_]?secret|secret[-_]?key|secret|password"
          r"|passwd|passphrase|access[-_]?token|refresh[-_]?token|token|x-mbx-apikey|x-api-key"
          r"|ok-access-key|ok-access-sign|ok-access-passphrase|authorization|cookie)")

_PATTERNS = (
    # query strings and form bodies: ...&signature=abc&apiKey=xyz
    (re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_FIELD})=([^&\s'\",;}}\])]+)"), rf"\1={MASK}"),
    # quoted mapping entries (JSON, Python reprs): 'X-MBX-APIKEY': 'abc'
    (re.compile(rf"(?i)(['\"]{_FIELD}['\"]\s*:\s*)(['\"])(?:(?!\2).)*\2"), rf"\1\2{MASK}\2"),
    # header lines: Authorization: Bearer abc
    (re.compile(rf"(?im)^(\s*{_FIELD})\s*:\s*\S.*$"), rf"\1: {MASK}"),
    # an exchange's words: "Invalid API-key SECRETKEY123"
    (re.compile(r"(?i)(api[-_ ]?key\W{0,3})([A-Za-z0-9+/=_-]{12,})"), rf"\1{MASK}"),
)

_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember ``value`` as a secret: :func:`redact` masks it from now on (process-wide)."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def known_secrets() -> list[str]:
    """Every secret known now: the registered ones and the secret environment values, longest first.

    The environment is read at each call (values shorter than :data:`MIN_SECRET_LENGTH` are not
    secrets); longest first, so that replacing them in turn leaves no partial leftovers.

    Returns
    -------
    list of str

    Examples
    --------
    >>> register_secret("Qv7-another-planted-value")
    >>> "Qv7-another-planted-value" in known_secrets()
    True
    >>> register_secret("short")  # below MIN_SECRET_LENGTH: ignored
    >>> "short" in known_secrets()
    False
    """
    with _lock:
        found = set(_registered)
    for name, value in os.environ.items():
        if len(value) >= MIN_SECRET_LENGTH and _SECRET_ENV_NAME.search(name):
            found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first: no partial leftovers


def redact(text: object) -> str:
    """``text`` (or its ``str``) with every known secret and secret-looking field masked.

    Examples
    --------
    >>> redact("GET https://fapi.example/v1/order?symbol=BTCUSDT&signature=9f2c1ab&timestamp=1")
    'GET https://fapi.example/v1/order?symbol=BTCUSDT&signature=***&timestamp=1'
    >>> redact("{'X-MBX-APIKEY': 'k3yk3yk3y', 'Content-Type': 'application/json'}")
    "{'X-MBX-APIKEY': '***', 'Content-Type': 'application/json'}"
    >>> register_secret("Zx9-planted-value")
    >>> redact("binanceusdm 401 Invalid API-key, IP, or permissions: Zx9-planted-value")
    'binanceusdm 401 Invalid API-key, IP, or permissions: ***'
    """
    s = text if isinstance(text, str) else str(text)
    for secret in known_secrets():
        if secret in s:
            s = s.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        s = pattern.sub(repl, s)
    return s


def _scrub(record: logging.LogRecord) -> None:
    """Format ``record`` now and keep only the redacted text (message, traceback, stack)."""
    if getattr(record, "_mmlab_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep its parts, redacted, so logging can report it
        message = f"{record.msg!r} % {record.args!r}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # formatters print exc_text when it is set: the traceback goes out redacted
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._mmlab_redacted = True


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record it sees (and never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


_FILTER = RedactingFilter()
_installed = False

#: Loggers that print request headers, URLs and bodies at DEBUG.
_CLIENT_LOGGERS = ("ccxt", "ccxt.base.exchange", "ccxt.async_support.base.exchange", "ib_async",
                   "urllib3", "aiohttp.client")


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (idempotent).

    Installs a log-record factory (so a record is redacted when it is created, whichever logger
    and handler it then goes through) and a :class:`RedactingFilter` on the root logger's
    handlers and on the loggers of the clients the venue adapters use (ccxt, ib_async,
    urllib3, aiohttp).
    """
    global _installed
    with _lock:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args, **kwargs):
                record = previous(*args, **kwargs)
                _scrub(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True
    for name in _CLIENT_LOGGERS:
        lg = logging.getLogger(name)
        if _FILTER not in lg.filters:
            lg.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
