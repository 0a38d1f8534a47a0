"""One real Bluesky network per test run (tools/bsky-peer), shared by every pytest-xdist worker.

The first test that asks for it installs (once per checkout) and starts the peer under a file lock and
writes a state file beside the lock in the run's shared temp dir; every other worker reads that file.
The controller process stops the peer when the run ends (root conftest.py); a watchdog in bsky-peer.sh
stops it too if the run is killed.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

PEER_DIR = Path(__file__).resolve().parents[3] / "tools" / "bsky-peer"
SCRIPT = PEER_DIR / "bsky-peer.sh"
STATE_FILE = "bsky-peer.json"
LOCK_FILE = "bsky-peer.lock"
INSTALL_TIMEOUT = 600
START_TIMEOUT = 180
PORT_NAMES = ("PLC_PORT", "PDS_PORT", "BSKY_PORT", "OZONE_PORT", "PG_PORT", "REDIS_PORT")


class PeerUnavailable(Exception):
    """The peer could not be installed or started; the message says why and what to look at."""


@dataclass(frozen=True)
class TestAccount:
    __test__ = False  # not a test class, despite the name

    handle: str
    did: str
    password: str  # the account's main password
    app_password: str  # what Schoolgate is given
    session: str  # an SDK session string from the main password, for the test's own reads and writes


@dataclass(frozen=True)
class BskyPeer:
    pds_url: str
    appview_url: str
    state_dir: str

    def create_account(self, prefix: str = "user") -> TestAccount:
        """A fresh account on the PDS, with an app password, as a person would make before connecting."""
        from atproto import Client, Session, models

        handle = f"{prefix}{uuid.uuid4().hex[:10]}.test"
        password = uuid.uuid4().hex
        created = Client(base_url=self.pds_url).com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(handle=handle, email=f"{handle}@example.com", password=password)
        )
        # createAccount already returns a session: logging in again would cost a password hash (~0.4 s).
        session = Session(handle, created.did, created.access_jwt, created.refresh_jwt, self.pds_url).export()
        app_password = (
            self.client(session)
            .com.atproto.server.create_app_password(models.ComAtprotoServerCreateAppPassword.Data(name="schoolgate"))
            .password
        )
        return TestAccount(
            handle=handle, did=created.did, password=password, app_password=app_password, session=session
        )

    def client(self, session: str):
        """An SDK client logged in with a session string (TestAccount.session)."""
        from atproto import Client

        client = Client(base_url=self.pds_url)
        client.login(session_string=session, fetch_bsky_profile=False)
        return client


def shared_dir(base_temp: Path, *, is_worker: bool) -> Path:
    """The run's temp dir that every xdist worker shares (each worker's own base temp is inside it)."""
    return base_temp.parent if is_worker else base_temp


def shared_peer(run_dir: Path) -> BskyPeer:
    """The run's peer, started by whichever process asks first; PeerUnavailable if it cannot run."""
    state_file = run_dir / STATE_FILE
    with FileLock(run_dir / LOCK_FILE, timeout=INSTALL_TIMEOUT + START_TIMEOUT):
        if not state_file.exists():
            state = _start(run_dir)
            state_file.write_text(json.dumps(state))
        state = json.loads(state_file.read_text())
    if state["status"] != "running":
        raise PeerUnavailable(state["message"])
    return BskyPeer(pds_url=state["pds"], appview_url=state["bsky"], state_dir=state["state_dir"])


def stop_shared_peer(run_dir: Path) -> None:
    """Stop the run's peer if a test started one (called once, by the controller, at the end of the run)."""
    state_file = run_dir / STATE_FILE
    if not state_file.exists():
        return
    state = json.loads(state_file.read_text())
    if state.get("status") == "running":
        subprocess.run(  # noqa: S603 - our own script
            [str(SCRIPT), "stop"], env={**os.environ, "BSKY_PEER_STATE": state["state_dir"]}, check=False, timeout=60
        )
    state_file.write_text(json.dumps({**state, "status": "stopped", "message": "the test run has ended"}))


def _start(run_dir: Path) -> dict:
    state_dir = run_dir / "bsky-peer"
    try:
        _install_once()
        ports = dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES)), strict=True))
        env = {
            **os.environ,
            **{name: str(port) for name, port in ports.items()},
            "BSKY_PEER_STATE": str(state_dir),
            # The xdist controller (our parent) or this process: the peer goes when it does.
            "BSKY_PEER_OWNER_PID": str(os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()),
        }
        started = time.monotonic()
        result = _run([str(SCRIPT), "start", "full"], env=env, timeout=START_TIMEOUT)
        ready = next(line for line in result.stdout.splitlines() if line.startswith("READY "))
        urls = json.loads(ready.removeprefix("READY "))
        return {
            "status": "running",
            "pds": f"http://127.0.0.1:{ports['PDS_PORT']}",
            "bsky": f"http://127.0.0.1:{ports['BSKY_PORT']}",
            "state_dir": str(state_dir),
            "started_in": round(time.monotonic() - started, 1),
            "network": urls,
        }
    except PeerUnavailable as error:
        subprocess.run(  # noqa: S603 - our own script; clean up whatever half-started
            [str(SCRIPT), "stop"], env={**os.environ, "BSKY_PEER_STATE": str(state_dir)}, check=False, timeout=60
        )
        return {"status": "failed", "message": str(error), "state_dir": str(state_dir)}


def _install_once() -> None:
    # Two test runs in one checkout may both need the install: the lock keeps them from racing npm.
    with FileLock(PEER_DIR / ".install.lock", timeout=INSTALL_TIMEOUT):
        if not (PEER_DIR / "node_modules" / ".package-lock.json").exists():
            _run([str(SCRIPT), "install"], env=dict(os.environ), timeout=INSTALL_TIMEOUT)


def _run(command: list[str], *, env: dict, timeout: int) -> subprocess.CompletedProcess:
    what = " ".join(Path(part).name if part == command[0] else part for part in command)
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as error:
        raise PeerUnavailable(f"`{what}` took longer than {timeout} s.") from error
    except OSError as error:
        raise PeerUnavailable(f"`{what}` could not run: {error}") from error
    if result.returncode != 0 or (command[1] == "start" and "READY " not in result.stdout):
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise PeerUnavailable(
            f"`{what}` failed (exit {result.returncode}). The Bluesky connector tests need a local Bluesky network "
            f"(tools/bsky-peer: Node 22 from npm, PostgreSQL and Redis). Output:\n{output}"
        )
    return result


def _free_ports(count: int) -> list[int]:
    # Below Linux's ephemeral range (32768+), where the network's own services take theirs, and free now.
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, 32000)  # noqa: S311 - not a secret
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports
