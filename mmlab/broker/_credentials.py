"""Credentials, from the environment only, never printed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mmlab.errors import ConfigError
from mmlab.redaction import register_secret

__all__ = ["Credentials", "credentials_from_env"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key, secret and passphrase; ``repr`` and ``str`` show no part of them.

    Each value is registered with the redaction layer when the object is made, so it is masked
    in journal rows, adapter errors and log records from then on.

    Examples
    --------
    >>> Credentials("abcd1234", "s3cr3t")
    Credentials(api_key='***', secret='***', passphrase='')
    """

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for value in (self.api_key, self.secret, self.passphrase):
            register_secret(value)

    def __repr__(self) -> str:
        shown = "'***'" if self.passphrase else "''"
        return f"Credentials(api_key='***', secret='***', passphrase={shown})"

    __str__ = __repr__

    def __reduce__(self):  # pickling would write the values out in the clear
        raise TypeError("Credentials cannot be pickled; read them from the environment instead")


def credentials_from_env(venue: str) -> Credentials:
    """Read ``MMLAB_<VENUE>_API_KEY`` and ``MMLAB_<VENUE>_API_SECRET`` (and ``_PASSPHRASE``).

    Raises
    ------
    ConfigError
        Naming the missing variables (never their values).
    """
    env = os.environ
    prefix = f"MMLAB_{venue.upper()}_"
    key, secret = env.get(prefix + "API_KEY", ""), env.get(prefix + "API_SECRET", "")
    missing = [n for n, v in ((prefix + "API_KEY", key), (prefix + "API_SECRET", secret)) if not v]
    if missing:
        raise ConfigError(f"credentials: set {' and '.join(missing)} in the environment")
    return Credentials(key, secret, env.get(prefix + "PASSPHRASE", ""))
