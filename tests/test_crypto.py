"""Encryption at rest and blind indexes: round trips, tampering, and key rotation."""

from __future__ import annotations

import base64
import hmac
import multiprocessing
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from linli.core.crypto import DecryptionError, Keyring, load_keyring
from linli.core.files import create_once


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


def test_blind_index_is_hmac_sha256(tmp_path):
    ring = load_keyring(f"k1:{key()}", INDEX, tmp_path / "x.json")
    for value in ("440106199003071234", "+8613812345678", "", "名字\0with nul"):
        expected = hmac.new(base64.b64decode(INDEX), f"id:citizen\0{value}".encode(), "sha256")
        assert ring.blind_index(value, "id:citizen") == expected.digest()[:16].hex()
    # A key longer than SHA-256's block is hashed first, as HMAC says.
    long_key = os.urandom(100)
    ring = Keyring({"k1": base64.b64decode(key())}, "k1", long_key)
    assert ring.blind_index("x", "p") == hmac.new(long_key, b"p\0x", "sha256").digest()[:16].hex()


def _keys_in_another_process(path, start, out):
    start.wait()
    ring = load_keyring(None, None, path)
    out.put((ring.keys, ring.index_key))


def test_processes_starting_together_share_one_set_of_local_keys(tmp_path):
    # `linli serve` starts a web server and a job worker at once on a fresh var/: they must not
    # each make keys of their own (data one encrypted, the other could not read) nor read the
    # other's half-written file.
    context = multiprocessing.get_context("fork")
    path = tmp_path / "var" / "keys.json"
    start, out = context.Barrier(8), context.Queue()
    processes = [
        context.Process(target=_keys_in_another_process, args=(path, start, out)) for _ in range(8)
    ]
    for process in processes:
        process.start()
    seen = [out.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert all(s == seen[0] for s in seen)
    assert load_keyring(None, None, path).index_key == seen[0][1]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no scratch file left


def test_create_once_keeps_the_first_text(tmp_path):
    path = tmp_path / "secret_key"
    assert create_once(path, "first") == "first"
    assert create_once(path, "second") == "first"
    assert path.read_text() == "first"


def test_create_once_without_hard_links(tmp_path, monkeypatch):
    def no_links(source, target):
        raise PermissionError("this file system has no hard links")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "secret_key"
    assert create_once(path, "first") == "first"
    assert create_once(path, "second") == "first"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_keys_are_not_in_the_keyrings_repr(tmp_path):
    ring = load_keyring(f"k1:{key()}", INDEX, tmp_path / "x.json")
    shown = repr(ring)
    assert "k1" in shown
    assert repr(ring.keys["k1"]) not in shown and repr(ring.index_key) not in shown
