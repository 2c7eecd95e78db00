"""``linli serve``: the web server (granian, WSGI) and the background worker, as one command.

Ctrl-C (or SIGTERM) stops both; if either dies, the other is stopped too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Linli with granian and run the background worker beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("LINLI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="Serve pages only.")

    def handle(self, *args: Any, **options: Any) -> None:
        _refuse_busy_port(options["host"], options["port"])
        bin_dir = os.path.dirname(sys.executable)
        granian = os.path.join(bin_dir, "granian")
        web_cmd = [
            granian,
            "--interface",
            "wsgi",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--blocking-threads",
            "4",
            "--log-level",
            "warning",
            "linli.wsgi:application",
        ]
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "linli.settings"),
        )

        # Each child runs in a session of its own, so that this command alone decides when they
        # stop: Ctrl-C reaches only us, and we stop each child's whole process group (granian's
        # worker processes included), never leaving one behind.
        def spawn(cmd: list[str]) -> subprocess.Popen[bytes]:
            return subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603

        children = [spawn(web_cmd)]
        if not options["no_worker"]:
            children.append(spawn([sys.executable, "-m", "linli", "worker"]))
        self.stdout.write(
            f"Linli is at http://{options['host']}:{options['port']}/  (Ctrl-C stops it)"
        )
        stopping = False

        def _stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGHUP, _stop)
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.3)
        finally:
            for child in children:
                _signal_group(child, signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                _signal_group(child, signal.SIGKILL)  # whatever of the group is still there
        self.stdout.write("Linli stopped.")


def _refuse_busy_port(host: str, port: int) -> None:
    """Stop here when something already listens on the address.

    granian binds with SO_REUSEPORT, so a second server on the same port would start without a word
    and the kernel would share the requests between them, whatever database each one uses. A plain
    bind (SO_REUSEADDR only, so connections of a server just stopped do not count) fails while any
    socket listens there, ours or anyone's.
    """
    if not 0 < port < 65536:
        raise CommandError(f"--port takes a number from 1 to 65535, not {port}.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CommandError(f"Cannot serve on {host!r}: {exc.strerror}.") from exc
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise CommandError(
                        f"Port {port} on {host} is already in use (is another Linli serving "
                        "there?). Stop it, or serve on another port with --port."
                    ) from exc
                raise CommandError(f"Cannot serve on {host}:{port}: {exc.strerror}.") from exc


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)
