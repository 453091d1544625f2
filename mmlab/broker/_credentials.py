"""Credentials, from the environment only, never printed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from mmlab.errors import ConfigError

__all__ = ["Credentials", "credentials_from_env"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and secret; ``repr`` and ``str`` never show them.

    Examples
    --------
    >>> Credentials("abcd1234", "s3cr3t")
    Credentials(api_key='ab...34', secret='***')
    """

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    def __repr__(self) -> str:
        k = self.api_key
        shown = f"{k[:2]}...{k[-2:]}" if len(k) > 4 else "***"
        return f"Credentials(api_key={shown!r}, secret='***')"

    __str__ = __repr__


def credentials_from_env(venue: str, environ: Mapping[str, str] | None = None) -> Credentials:
    """Read ``MMLAB_<VENUE>_API_KEY`` and ``MMLAB_<VENUE>_API_SECRET`` (and ``_PASSPHRASE``).

    Raises
    ------
    ConfigError
        Naming the missing variables (never their values).
    """
    env = os.environ if environ is None else environ
    prefix = f"MMLAB_{venue.upper()}_"
    key, secret = env.get(prefix + "API_KEY", ""), env.get(prefix + "API_SECRET", "")
    missing = [n for n, v in ((prefix + "API_KEY", key), (prefix + "API_SECRET", secret)) if not v]
    if missing:
        raise ConfigError(f"credentials: set {' and '.join(missing)} in the environment")
    return Credentials(key, secret, env.get(prefix + "PASSPHRASE", ""))
