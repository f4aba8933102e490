"""Bench: `calctl guard once` — concurrency, and start-up for cron.

1. 50 `http` checks against a loopback server that answers after 200 ms, beside the same
   with 1 check: the checks run at once, so the wall time of 50 stays near that of 1.
   Target: time(50) / time(1) <= 1.5.
2. `guard once` with one healthy check (a `tcp` check on the loopback server; an `http`
   one is shown too), start-up included, beside `calctl --version`: cron runs it every
   minute. Target: <= 1.5x.

    python bench/guard.py [--runs N]

Runs the real console script (median of N runs, interleaved). Prints a table; exits 1
when a ratio is over its target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TARGET = 1.5
DELAY = 0.2
CALCTL = [str(Path(sys.executable).parent / "calctl")]


class Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        time.sleep(DELAY)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 50 checks connect at once; the default backlog is 5


def project(root: Path, checks: list[dict[str, object]]) -> Path:
    root.mkdir(parents=True)
    (root / ".git").mkdir()
    lines = []
    for check in checks:
        lines.append("[[guard.checks]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in check.items()]
        lines.append("")
    (root / "calctl.toml").write_text("\n".join(lines))
    return root


CPU: dict[str, list[float]] = {}


def timed(argv: list[str], cwd: Path, env: dict[str, str], expect: int = 0,
          label: str = "") -> float:
    """Wall seconds of one run (its CPU seconds, user + system, go to CPU[label])."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime
                                     + after.ru_stime - before.ru_stime)
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}/health"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    with tempfile.TemporaryDirectory(prefix="calctl-bench-guard-") as tmp:
        base = Path(tmp)
        many = project(base / "many", [{"name": f"web{i:02d}", "type": "http", "url": url}
                                       for i in range(50)])
        one = project(base / "one", [{"name": "web", "type": "http", "url": url}])
        tcp = project(base / "tcp", [{"name": "port", "type": "tcp", "port": port}])
        once = [*CALCTL, "guard", "once", "-q"]
        for root in (many, one, tcp):  # the store and state directory are made once
            timed(once, root, env)
        times: dict[str, list[float]] = {k: [] for k in ("50", "1", "tcp", "http", "version")}
        for _ in range(args.runs):
            times["50"].append(timed(once, many, env, label="50"))
            times["1"].append(timed(once, one, env, label="1"))
            times["tcp"].append(timed(once, tcp, env, label="tcp"))
            times["version"].append(timed([*CALCTL, "--version"], base, env, label="version"))
        times["http"] = times["1"]
    server.shutdown()
    median = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in CPU.items() if k}
    cpu["http"] = cpu["1"]
    concurrency = median["50"] / median["1"]
    startup = median["tcp"] / median["version"]
    print(f"guard once, median of {args.runs} runs (loopback server answers after "
          f"{DELAY * 1000:.0f} ms)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| run | wall s | CPU s | ratio (wall) |")
    print("|---|---|---|---|")
    print(f"| 50 http checks | {median['50']:.3f} | {cpu['50']:.3f} | {concurrency:.2f}x of 1 "
          f"check (target <= {TARGET}) |")
    print(f"| 1 http check | {median['1']:.3f} | {cpu['1']:.3f} | |")
    print(f"| 1 tcp check (healthy) | {median['tcp']:.3f} | {cpu['tcp']:.3f} | {startup:.2f}x "
          f"of --version (target <= {TARGET}) |")
    print(f"| 1 http check (healthy) | {median['http']:.3f} | {cpu['http']:.3f} | "
          f"{median['http'] / median['version']:.2f}x of --version (incl. the 200 ms answer) |")
    print(f"| calctl --version | {median['version']:.3f} | {cpu['version']:.3f} | |")
    return 0 if concurrency <= TARGET and startup <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
