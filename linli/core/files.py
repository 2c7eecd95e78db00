"""Small file helpers that must be safe when several processes start at once."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_once(path: Path, make: str) -> str:
    """The text of ``path``, written with ``make`` (mode 600) if it does not exist yet.

    ``linli serve`` starts a web server and a job worker together, and each makes the local keys
    it needs on a fresh ``var/``. Written in place, one process could read the other's half-written
    file, or overwrite keys the other had already used. Here the text goes to a file of its own,
    which is then linked to ``path`` only if nothing is there yet (``link`` never replaces): every
    process reads the one file that won, always whole."""
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as out:  # mkstemp makes it mode 600
            out.write(make)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process was first: use its file
        except OSError:
            # A file system without hard links: create the file exclusively instead, which still
            # never replaces one (a reader might then see it half-written).
            with contextlib.suppress(FileExistsError):
                _write_new(path, make)
    finally:
        os.unlink(scratch)
    return path.read_text()


def _write_new(path: Path, text: str) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as out:
        out.write(text)
