"""``linli worker``: the background worker.

Runs outbox messages as they come, and the periodic housekeeping (expired sessions, old login
throttles). Later modules add their periodic sweeps to ``PERIODIC``. Several workers may run at once.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from linli.accounts.actions import purge_expired_throttles
from linli.cases.workflow import sweep
from linli.core import outbox
from linli.network.coverage import refresh


def _clear_sessions() -> None:
    call_command("clearsessions")


def _purge_throttles() -> None:
    purge_expired_throttles()


def _case_sweep() -> None:
    sweep()


# (name, every N seconds, function)
def _network_coverage() -> None:
    refresh()


PERIODIC: list[tuple[str, int, Callable[[], None]]] = [
    ("clearsessions", 3600, _clear_sessions),
    ("purge-login-throttles", 3600, _purge_throttles),
    # Overdue flags and closing resolved cases left unrated: see linli.cases.workflow.sweep.
    ("case-sweep", 300, _case_sweep),
    # The buildings' visit coverage that street and district pages add up: network.coverage.
    ("network-coverage", 600, _network_coverage),
]


class Command(BaseCommand):
    help = "Run the background worker: outbox messages and periodic housekeeping."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Process what is due, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        stop = False

        def _stop(signum: int, frame: Any) -> None:
            nonlocal stop
            stop = True

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        last_run: dict[str, float] = {}
        self.stdout.write(f"linli worker {worker_id} started")
        try:
            self.loop(worker_id, options, last_run, lambda: stop)
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        self.stdout.write("linli worker stopped")

    def loop(
        self,
        worker_id: str,
        options: dict[str, Any],
        last_run: dict[str, float],
        stopped: Callable[[], bool],
    ) -> None:
        while not stopped():
            close_old_connections()
            done = outbox.run_once(worker_id)
            now = time.monotonic()
            for name, every, func in PERIODIC:
                if now - last_run.get(name, -every) >= every:
                    last_run[name] = now
                    try:
                        func()
                    except Exception as exc:
                        self.stderr.write(f"periodic job {name} failed: {exc}")
            if options["once"]:
                break
            if not done:
                time.sleep(options["interval"])
