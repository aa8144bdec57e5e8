"""Keyed pseudonyms for raw person numbers (HMAC-SHA256).

A pseudonym is the first 32 hexadecimal digits (128 bits) of HMAC-SHA256(key, number),
where the number is the raw person number with spaces removed. The same key always gives
the same pseudonym, so extracts delivered at different times link up; without the key a
pseudonym cannot be traced back. The key is held outside the data: in the environment
variable ``TILTAK_PSEUDONYM_KEY`` or in a key file. Neither the key nor a raw number is
ever written to the store; only a fingerprint of the key (an HMAC of a fixed text) is kept,
so that a load with a different key can be recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from monitoring.errors import MonitoringError

KEY_ENV = "TILTAK_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
PSEUDONYM_HEX_DIGITS = 32
_FINGERPRINT_TEXT = b"tiltak pseudonym key fingerprint v1"


class PseudonymKeyError(MonitoringError):
    """The pseudonym key is missing, unreadable or too weak."""

    exit_code = 2


@dataclass(frozen=True)
class PseudonymKey:
    """A secret key for pseudonyms. Its ``repr`` never shows the secret."""

    secret: bytes = field(repr=False)
    origin: str = "given"

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"pseudonym key from {self.origin} is too short: expected at least "
                f"{MIN_KEY_BYTES} bytes; got {len(self.secret)}"
            )

    @property
    def fingerprint(self) -> str:
        """A public fingerprint: equal keys give equal fingerprints."""
        return hmac.new(self.secret, _FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, raw: str) -> str:
        """The pseudonym of one raw person number."""
        return pseudonymise([raw], self)[0]  # type: ignore[return-value]


MAX_KEY_FILE_BYTES = 4096
"""A key file is one short line; more (e.g. /dev/urandom given by mistake) is refused."""


def key_from_file(path: str | Path) -> PseudonymKey:
    """Read a key file (trailing newlines are ignored)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:  # a pipe such as <(pass show key) works too
            secret = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise PseudonymKeyError(f"{path}: cannot read the key file: {exc.strerror or exc}") from None
    if len(secret) > MAX_KEY_FILE_BYTES:
        raise PseudonymKeyError(f"{path}: the key file holds more than {MAX_KEY_FILE_BYTES} bytes; "
                                "expected a short secret (one line)")
    return PseudonymKey(secret.rstrip(b"\r\n"), origin=f"key file {path}")


def resolve_key(key: "PseudonymKey | str | bytes | None" = None, key_file: str | Path | None = None) -> PseudonymKey | None:
    """The key to use: an explicit key, else the key file, else ``$TILTAK_PSEUDONYM_KEY``."""
    if isinstance(key, PseudonymKey):
        return key
    if isinstance(key, (str, bytes)):
        secret = key.encode("utf-8") if isinstance(key, str) else key
        return PseudonymKey(secret, origin="the pseudonym_key argument")
    if key_file is not None:
        return key_from_file(key_file)
    env = os.environ.get(KEY_ENV)
    if env:
        return PseudonymKey(env.encode("utf-8"), origin=f"${KEY_ENV}")
    return None


def normalise_number(raw: str) -> str:
    """A raw person number without spaces (``'010190 12345'`` -> ``'01019012345'``)."""
    return "".join(raw.split())


def pseudonymise(values: Iterable[str | None], key: PseudonymKey) -> list[str | None]:
    """Pseudonyms of raw person numbers (None stays None). Each distinct number is hashed once."""
    inner = hmac.new(key.secret, digestmod=hashlib.sha256)
    cache: dict[str, str] = {}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        number = normalise_number(value)
        if not number:
            out.append(None)
            continue
        pseudonym = cache.get(number)
        if pseudonym is None:
            mac = inner.copy()
            mac.update(number.encode("utf-8"))
            pseudonym = cache[number] = mac.hexdigest()[:PSEUDONYM_HEX_DIGITS]
        out.append(pseudonym)
    return out
