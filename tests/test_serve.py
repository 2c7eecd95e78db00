"""``linli serve``: one command runs the web server and the worker; Ctrl-C stops every process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True
    ).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_serve_answers_then_ctrl_c_stops_web_server_and_worker(tmp_path):
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="linli.settings",
        LINLI_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        WEB_WORKERS="2",
    )
    linli = [sys.executable, "-m", "linli"]
    subprocess.run([*linli, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    port = free_port()
    serve = subprocess.Popen(
        [*linli, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert serve.poll() is None, serve.stdout.read() if serve.stdout else ""
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.3)
        # A second server on the same port, on another database, must not start beside it.
        other = dict(env, DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}")
        second = subprocess.run(
            [*linli, "serve", "--port", str(port)],
            env=other,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"Port {port} on 127.0.0.1 is already in use" in second.stderr
        processes = descendants(serve.pid)
        assert len(processes) >= 3  # granian, its workers, and the background worker
        # What Ctrl-C in a terminal does: SIGINT to the whole foreground process group.
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=30)
        time.sleep(0.5)
        assert [pid for pid in processes if alive(pid)] == []
        assert serve.stdout is not None and "Linli stopped." in serve.stdout.read()
    finally:
        if serve.poll() is None:
            serve.kill()


def test_serve_refuses_a_port_that_a_reuse_port_listener_holds(tmp_path):
    """granian listens with SO_REUSEPORT; a plain listener is refused the same way."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="linli.settings", LINLI_VAR_DIR=str(tmp_path))
    for reuse_port in (True, False):
        with socket.socket() as holder:
            if reuse_port:
                holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            run = subprocess.run(
                [sys.executable, "-m", "linli", "serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert run.returncode == 1, run.stdout
        assert "already in use" in run.stderr
        assert "Linli is at" not in run.stdout


def test_serve_refuses_a_port_out_of_range(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="linli.settings", LINLI_VAR_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "linli", "serve", "--port", "70000"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "from 1 to 65535" in run.stderr


def _check_deploy(tmp_path: Path, **extra: str) -> str:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="linli.settings",
        LINLI_VAR_DIR=str(tmp_path),
        LINLI_SECURE="1",
        LINLI_SECRET_KEY="k" * 20 + "-production-like-secret-key-of-fifty-chars",
        LINLI_ALLOWED_HOSTS="linli.example.org",
        **extra,
    )
    # Not from this test run: LINLI_DEBUG, nor the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE
    # (tests/helpers/browser.py), which check --deploy rightly reports as an error.
    for name in ("LINLI_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"):
        env.pop(name, None)
    run = subprocess.run(
        [sys.executable, "-m", "linli", "check", "--deploy"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return run.stdout + run.stderr


def test_check_deploy_leaves_only_the_preload_decision(tmp_path):
    """Production settings: HSTS with subdomains; preload stays the operator's explained choice."""
    out = _check_deploy(tmp_path)
    assert "security.W021" in out
    assert "identified 1 issue" in out
    assert "no issues" in _check_deploy(tmp_path, LINLI_HSTS_PRELOAD="1")
