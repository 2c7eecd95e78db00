"""Encryption at rest and blind indexes: round trips, tampering, and key rotation."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from linli.core.crypto import DecryptionError, load_keyring


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


INDEX = key()


def test_round_trip_and_fresh_ciphertext_every_time(tmp_path):
    ring = load_keyring(f"k1:{key()}", INDEX, tmp_path / "unused.json")
    a, b = ring.encrypt("440106199003071234"), ring.encrypt("440106199003071234")
    assert a != b and a.startswith("k1$")
    assert "440106" not in a
    assert ring.decrypt(a) == ring.decrypt(b) == "440106199003071234"


def test_blind_index_is_stable_per_purpose_and_keyed(tmp_path):
    ring = load_keyring(f"k1:{key()}", INDEX, tmp_path / "x.json")
    other = load_keyring(f"k1:{key()}", key(), tmp_path / "x.json")
    assert ring.blind_index("13812345678", "phone") == ring.blind_index("13812345678", "phone")
    assert ring.blind_index("13812345678", "phone") != ring.blind_index("13812345678", "id")
    assert ring.blind_index("13812345678", "phone") != other.blind_index("13812345678", "phone")


def test_tampered_or_orphaned_values_are_refused(tmp_path):
    ring = load_keyring(f"k1:{key()}", INDEX, tmp_path / "x.json")
    token = ring.encrypt("秘密")
    raw = bytearray(base64.b64decode(token.split("$", 1)[1]))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt("k1$" + base64.b64encode(bytes(raw)).decode())
    with pytest.raises(DecryptionError):
        ring.decrypt("k9$" + token.split("$", 1)[1])


def test_rotation_reads_old_values_and_writes_with_the_new_key(tmp_path):
    old_key = key()
    before = load_keyring(f"k1:{old_key}", INDEX, tmp_path / "x.json")
    stored = before.encrypt("110105194912310021")
    after = load_keyring(f"k2:{key()},k1:{old_key}", INDEX, tmp_path / "x.json")
    assert after.decrypt(stored) == "110105194912310021"
    assert after.encrypt("x").startswith("k2$")
    assert after.blind_index("a", "p") == before.blind_index("a", "p")  # the index key stays


def test_local_keys_are_made_once_and_kept_private(tmp_path):
    path = tmp_path / "keys.json"
    first = load_keyring(None, None, path)
    second = load_keyring(None, None, path)
    assert first == second
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    "field_keys, index",
    [
        ("k1", INDEX),
        ("k1:notbase64!", INDEX),
        (f"k1:{base64.b64encode(b'short').decode()}", INDEX),
        (f"k1:{key()}", "bad!"),
    ],
    # Named, not labelled with the random keys: pytest-xdist needs every worker to collect the
    # same test ids.
    ids=["no-key", "not-base64", "short-key", "bad-index"],
)
def test_bad_configuration_is_a_clear_error(tmp_path, field_keys, index):
    with pytest.raises(ImproperlyConfigured):
        load_keyring(field_keys, index, tmp_path / "x.json")
