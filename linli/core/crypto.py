"""Personal identifiers at rest: AES-GCM encryption with rotating keys, and HMAC blind indexes.

An encrypted value is stored as ``<key id>$<base64(nonce ‖ ciphertext ‖ tag)>``. The key id names the
key that wrote it, so keys can be rotated: new writes use the current key, old values stay readable
while their key is still configured, and ``linli rotate-keys`` re-encrypts them with the current one.

Ciphertext differs on every write, so it cannot be searched or made unique. Beside each encrypted
column sits a *blind index*: an HMAC of the normalized value under a separate index key. Equal values
give equal indexes, so an exact search or a uniqueness constraint works on the index without the
database ever holding the value. The index key is not rotated (every index would have to be
recomputed at once); keep it as carefully as the data keys.

Keys come from the environment:

- ``LINLI_FIELD_KEYS``: comma-separated ``id:base64key`` pairs, current key first, each 32 bytes
  (``python3 -c "import os,base64;print('k1:'+base64.b64encode(os.urandom(32)).decode())"``).
- ``LINLI_INDEX_KEY``: base64 of 32 bytes.

When unset (a local run), both are generated once into ``var/keys.json`` (mode 600) and reused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from linli.core.files import create_once

NONCE = 12
SEPARATOR = "$"


class DecryptionError(Exception):
    """A stored value could not be decrypted: its key is gone or the data was altered."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes] = field(repr=False)  # never in a log or a traceback
    current: str
    index_key: bytes = field(repr=False)
    # Made once, not per call: an import encrypts two values and computes two indexes for each of
    # a million rows, and building these is much of the cost of one call.
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)
    _prefix: str = field(init=False, repr=False, compare=False)
    _inner: Any = field(init=False, repr=False, compare=False)  # keyed SHA-256 states (HMAC)
    _outer: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # HMAC (RFC 2104) over SHA-256's 64-byte block; a longer key is hashed first.
        key = self.index_key
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        pad = key.ljust(64, b"\0")
        made = {
            "_ciphers": {self.current: AESGCM(self.keys[self.current])},
            "_prefix": f"{self.current}{SEPARATOR}",
            "_inner": hashlib.sha256(bytes(b ^ 0x36 for b in pad)),
            "_outer": hashlib.sha256(bytes(b ^ 0x5C for b in pad)),
        }
        for name, value in made.items():
            object.__setattr__(self, name, value)

    def _cipher(self, key_id: str) -> AESGCM:
        if key_id not in self._ciphers:
            self._ciphers[key_id] = AESGCM(self.keys[key_id])
        return self._ciphers[key_id]

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext.encode(), None)
        return self._prefix + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        key_id, _, body = token.partition(SEPARATOR)
        if key_id not in self.keys or not body:
            raise DecryptionError(f"no key {key_id!r} for a stored value")
        raw = base64.b64decode(body)
        try:
            return self._cipher(key_id).decrypt(raw[:NONCE], raw[NONCE:], None).decode()
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("a stored value failed its integrity check") from exc

    def key_id_of(self, token: str) -> str:
        return token.partition(SEPARATOR)[0]

    def blind_index(self, value: str, purpose: str) -> str:
        """The HMAC-SHA256 of ``value`` for one purpose (``"citizen_id"``, ``"phone"``…): 128
        bits, hex. Computed from the two keyed SHA-256 states made once (a test holds it to
        ``hmac``'s result), at half the cost of copying an ``hmac`` object."""
        inner = self._inner.copy()
        inner.update(f"{purpose}\0{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest[:16].hex()


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be 32 bytes, got {len(key)}")
    return key


def _local_keys(path: Path) -> dict[str, Any]:
    fresh = {
        "field_keys": [["k1", base64.b64encode(os.urandom(32)).decode()]],
        "index_key": base64.b64encode(os.urandom(32)).decode(),
    }
    loaded: dict[str, Any] = json.loads(create_once(path, json.dumps(fresh, indent=1)))
    return loaded


def load_keyring(field_keys: str | None, index_key: str | None, local_path: Path) -> Keyring:
    if not field_keys or not index_key:
        local = _local_keys(local_path)
        pairs = [f"{k}:{v}" for k, v in local["field_keys"]]
        field_keys = field_keys or ",".join(pairs)
        index_key = index_key or local["index_key"]
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in field_keys.split(","):
        key_id, sep, text = item.strip().partition(":")
        if not sep or not key_id or SEPARATOR in key_id:
            raise ImproperlyConfigured("LINLI_FIELD_KEYS holds id:base64key pairs")
        keys[key_id] = _decode_key(text, f"field key {key_id}")
        order.append(key_id)
    return Keyring(keys, order[0], _decode_key(index_key, "LINLI_INDEX_KEY"))


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return load_keyring(
        os.environ.get("LINLI_FIELD_KEYS"),
        os.environ.get("LINLI_INDEX_KEY"),
        Path(settings.VAR_DIR) / "keys.json",
    )


def blind(value: str, purpose: str) -> str:
    """The blind index of ``value`` for ``purpose`` (``"phone"``, ``"id:<type>"``), or "" for no
    value: what an exact search or a uniqueness check compares instead of the value."""
    return keyring().blind_index(value, purpose) if value else ""


if TYPE_CHECKING:  # django-stubs' fields are generic (what is set, what is read); Django's are not
    _TextField = models.TextField[str, str]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """A text column stored encrypted. Search it through its blind index, never directly."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return keyring().decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        # An equality test against ciphertext can never match: refuse it loudly rather than
        # return nothing quietly.
        if lookup_name not in {"isnull"}:
            raise TypeError(
                f"{self.name} is encrypted: look it up by its blind index, not with {lookup_name}"
            )
        return super().get_lookup(lookup_name)
