"""Load benchmark: gunicorn on the embedded default (SQLite) and on PostgreSQL, driven at a fixed request rate.

    .venv/bin/python bench/load.py                       # both engines, 100 req/s for 20 s each
    .venv/bin/python bench/load.py --engines sqlite --rate 50 --duration 10

For each engine: a throwaway data directory (and, for PostgreSQL, a throwaway database `schoolgate_load` on
127.0.0.1:5432, user postgres), `migrate`, `createcachetable`, `seed_demo`, `collectstatic`, then gunicorn with
production settings (SECRET_KEY set, DEBUG off, ALLOWED_HOSTS=127.0.0.1, HTTPS as if behind a TLS proxy). The
demo teachers (non-senior, so no authenticator code) log in once through the real login form; then an
open-loop generator starts one request every 1/rate seconds, whatever the server's speed, for `duration`
seconds: public pages (news, RSS and Atom feeds, the public policy, "our social media"), logged-in dashboards
and post lists, the draft form and saved drafts. Latency is measured from when the request was due, so a
server that falls behind is charged for the queue it builds (no coordinated omission).

Bounded and local: the server listens on 127.0.0.1 only, at most MAX_REQUESTS requests and MAX_SECONDS per
engine, every process it starts is stopped at the end (or on Ctrl-C), and the temporary data is removed.
Not collected by pytest (bench/ is outside testpaths).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MAX_REQUESTS = 20_000
MAX_SECONDS = 120
DRAIN_SECONDS = 15  # after the last request is due, how long the queue may take to empty
NEVER_SENT = "never sent: the server fell too far behind"
PG_URL = "postgres://postgres@127.0.0.1:5432/schoolgate_load"
# The demo's non-senior teachers (schoolgate/schools/demo_data.py): a password is enough for them.
DEMO_TEACHERS = [("applebee-wood", "a.green@applebeewood.example"), ("raleigh", "b.taylor@raleigh.example")]
TARGET_P95_MS = 100


def demo_password() -> str:
    # Read from the demo data's source: importing it needs Django set up, which this process never does.
    text = (ROOT / "schoolgate" / "schools" / "demo_data.py").read_text()
    return re.search(r'^DEMO_PASSWORD = "([^"]+)"', text, re.MULTILINE).group(1)


# One cycle of the mix: 11 public requests, 9 logged-in ones (of which 2 save a draft).
MIX = [
    "news",
    "dashboard",
    "rss",
    "policy",
    "posts",
    "news",
    "social",
    "dashboard",
    "atom",
    "draft_form",
    "news",
    "draft_save",
    "rss",
    "dashboard",
    "policy",
    "posts",
    "social",
    "dashboard",
    "news",
    "draft_save",
]


@dataclass
class Session:
    """A logged-in person: cookies kept by hand (they are Secure, as in production) and their school."""

    slug: str
    cookies: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)

    def take(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


@dataclass
class Result:
    kind: str
    due: float
    done: float
    status: int
    error: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def reset_postgres(*, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS schoolgate_load WITH (FORCE)")
        if not drop_only:
            connection.execute("CREATE DATABASE schoolgate_load")


def environment(engine: str, tmp: Path, port: int) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCHOOLGATE_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="False",
        ALLOWED_HOSTS="127.0.0.1",
        SCHOOLGATE_DATA_DIR=str(tmp / "data"),
        SCHOOLGATE_KEY_DIR=str(tmp / "keys"),
        SITE_URL=f"https://127.0.0.1:{port}",
        # As behind a TLS-terminating proxy: the generator sends X-Forwarded-Proto: https.
        BEHIND_TLS_PROXY="True",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if engine == "postgres":
        env["DATABASE_URL"] = PG_URL
    return env


def start_server(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    gunicorn = Path(PYTHON).with_name("gunicorn")
    command = [str(gunicorn), "schoolgate.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if threads > 1:
        command += ["--threads", str(threads)]
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "schoolgate-bench-load"}


def log_in(client: httpx.Client, base: str, slug: str, email: str) -> Session:
    session = Session(slug=slug)
    form = client.get("/accounts/login/", headers=HEADERS)
    session.take(form)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"login": email, "password": demo_password(), "csrfmiddlewaretoken": token},
        headers={**HEADERS, "Cookie": session.header(), "Referer": f"{base}/accounts/login/"},
    )
    session.take(answer)
    if answer.status_code != 302:
        raise RuntimeError(f"logging in {email} answered {answer.status_code}, not a redirect")
    new = client.get(f"/s/{slug}/posts/new/", headers={**HEADERS, "Cookie": session.header()})
    if new.status_code != 200:
        raise RuntimeError(f"{email}: the draft form answered {new.status_code}")
    session.take(new)
    session.accounts = re.findall(r'name="accounts" value="(\d+)"', new.text)
    return session


class Generator:
    def __init__(self, port: int, sessions: list[Session], *, threads: int):
        self.base = f"https://127.0.0.1:{port}"
        # The URL says https (as the proxy would); the bytes go to gunicorn's plain HTTP on loopback.
        transport = httpx.HTTPTransport(retries=0, limits=httpx.Limits(max_connections=threads))
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30, follow_redirects=False
        )
        self.sessions = sessions
        self.drafts = itertools.count(1)
        self.lock = threading.Lock()

    def request(self, kind: str, number: int) -> tuple[int, str]:
        session = self.sessions[number % len(self.sessions)]
        slug = session.slug
        public = {
            "news": f"/p/{slug}/news/",
            "rss": f"/p/{slug}/news/rss/",
            "atom": f"/p/{slug}/news/atom/",
            "policy": f"/p/{slug}/policy/",
            "social": f"/p/{slug}/social-media/",
        }
        if kind in public:
            response = self.client.get(public[kind], headers=HEADERS)
            return response.status_code, "" if response.status_code == 200 else f"HTTP {response.status_code}"
        headers = {**HEADERS, "Cookie": session.header()}
        if kind == "draft_save":
            with self.lock:
                n = next(self.drafts)
            data = {
                "text": f"Class news {n}: our visit to the museum went well.",
                "accounts": session.accounts[:1],
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            }
            response = self.client.post(
                f"/s/{slug}/posts/new/", data=data, headers={**headers, "Referer": f"{self.base}/s/{slug}/posts/new/"}
            )
            ok = response.status_code == 302
            return response.status_code, "" if ok else f"draft not saved (HTTP {response.status_code})"
        path = {"dashboard": f"/s/{slug}/", "posts": f"/s/{slug}/posts/", "draft_form": f"/s/{slug}/posts/new/"}[kind]
        response = self.client.get(path, headers=headers)
        return response.status_code, "" if response.status_code == 200 else f"HTTP {response.status_code}"

    def run(self, *, rate: float, duration: float, threads: int) -> tuple[list[Result], float]:
        total = min(int(rate * duration), MAX_REQUESTS)
        results: list[Result] = []

        def one(kind: str, number: int, due: float) -> None:
            try:
                status, error = self.request(kind, number)
            except httpx.HTTPError as exc:
                status, error = 0, f"{exc.__class__.__name__}: {exc}"
            results.append(Result(kind=kind, due=due, done=time.monotonic(), status=status, error=error))

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        futures = {}
        start = time.monotonic() + 0.2
        for number in range(total):
            due = start + number / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            futures[pool.submit(one, MIX[number % len(MIX)], number, due)] = (MIX[number % len(MIX)], due)
        sent_for = time.monotonic() - start
        # A server far behind would keep the queue busy for minutes: what has not started by then is an error.
        concurrent.futures.wait(futures, timeout=DRAIN_SECONDS)
        pool.shutdown(wait=True, cancel_futures=True)
        for future, (kind, due) in futures.items():
            if future.cancelled():
                late = Result(kind=kind, due=due, done=time.monotonic(), status=0, error=NEVER_SENT)
                results.append(late)
        return results, sent_for


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


GROUPS = {
    "public": {"news", "rss", "atom", "policy", "social"},
    "logged-in pages": {"dashboard", "posts", "draft_form"},
    "draft saves": {"draft_save"},
}


def report(engine: str, results: list[Result], sent_for: float, rate: float) -> dict:
    if not results:
        print(f"{engine}: no requests completed")
        return {}
    span = max(r.done for r in results if r.error != NEVER_SENT) - min(r.due for r in results)
    lines = [f"\n== {engine}: {len(results)} requests, offered {rate:g}/s for {sent_for:.1f} s"]
    lines.append(f"{'kind':<18}{'n':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    rows = [("all", results)] + [(g, [r for r in results if r.kind in kinds]) for g, kinds in GROUPS.items()]
    rows += [(kind, [r for r in results if r.kind == kind]) for kind in dict.fromkeys(MIX)]
    summary = {}
    for name, group in rows:
        if not group:
            continue
        answered = [r for r in group if r.error != NEVER_SENT]
        latencies = [(r.done - r.due) * 1000 for r in answered] or [float("nan")]
        errors = sum(1 for r in group if r.error)
        figures = {
            "n": len(group),
            "rps": len(answered) / span,
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "errors": errors,
        }
        summary[name] = figures
        lines.append(
            f"{name:<18}{figures['n']:>6}{figures['rps']:>8.1f}{figures['p50']:>9.1f}"
            f"{figures['p95']:>9.1f}{figures['p99']:>9.1f}{errors:>8}"
        )
    overall = summary["all"]
    meets = overall["p95"] < TARGET_P95_MS and overall["errors"] == 0 and overall["rps"] >= 0.95 * rate
    lines.append(
        f"target: p95 < {TARGET_P95_MS} ms at {rate:g} req/s, 0 errors -> "
        f"{'MEETS' if meets else 'MISSES'} (p95 {overall['p95']:.0f} ms, {overall['rps']:.1f} req/s, "
        f"{overall['errors']} errors)"
    )
    first_errors = sorted({r.error for r in results if r.error})[:5]
    if first_errors:
        lines.append("errors seen: " + " | ".join(first_errors))
    print("\n".join(lines), flush=True)
    return summary


def bench_engine(engine: str, args) -> dict:
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix=f"schoolgate-load-{engine}-"))
    env = environment(engine, tmp, port)
    server = None
    try:
        if engine == "postgres":
            reset_postgres()
        print(f"[{engine}] migrate, createcachetable, seed_demo, collectstatic ...", flush=True)
        run_manage(env, "migrate", "--noinput")
        run_manage(env, "createcachetable")
        run_manage(env, "seed_demo")
        run_manage(env, "collectstatic", "--noinput", "-v0")
        server = start_server(env, port, args.workers, args.gunicorn_threads)
        print(f"[{engine}] gunicorn on 127.0.0.1:{port}, {args.workers} workers; logging in ...", flush=True)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            sessions = [log_in(client, f"https://127.0.0.1:{port}", slug, email) for slug, email in DEMO_TEACHERS]
        for session in sessions:
            if not session.accounts:
                print(f"[{engine}] note: the demo teacher at {session.slug} may post on no account", flush=True)
        generator = Generator(port, sessions, threads=args.threads)
        # A short warm-up (templates, connections), not counted.
        generator.run(rate=min(args.rate, 20), duration=2, threads=args.threads)
        print(f"[{engine}] {args.rate:g} req/s for {args.duration:g} s ...", flush=True)
        results, sent_for = generator.run(rate=args.rate, duration=args.duration, threads=args.threads)
        generator.client.close()
        return report(engine, results, sent_for, args.rate)
    finally:
        if server is not None:
            stop_server(server)
        if engine == "postgres":
            reset_postgres(drop_only=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second offered (default 100)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per engine (default 20)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3, as bin/up)")
    parser.add_argument("--gunicorn-threads", type=int, default=1, help="threads per gunicorn worker (default 1)")
    parser.add_argument("--threads", type=int, default=32, help="client threads, i.e. the most requests in flight")
    args = parser.parse_args()
    if not 0 < args.rate * args.duration <= MAX_REQUESTS or args.duration > MAX_SECONDS:
        parser.error(f"at most {MAX_REQUESTS} requests and {MAX_SECONDS} s per engine")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores", flush=True)
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine not in {"sqlite", "postgres"}:
            parser.error(f"unknown engine {engine!r}")
        bench_engine(engine, args)


if __name__ == "__main__":
    main()
