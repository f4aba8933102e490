"""Bench: `calctl report`'s redaction throughput and the memory of `report --log`.

1. Redaction: calctl.scrub.Scrubber over a generated 50 MB log (read and scrubbed in
   1 MB pieces of whole lines), in MB/s, beside detect-secrets scanning the same file
   (its `scan_file` with default settings). Target: calctl / detect-secrets >= 1.0.
2. Memory: the peak RSS of `calctl report --dry-run --json --log` on a generated 1 GB log
   against a 1 MB one (each log has an error near its start and its last error at the
   end). Target: 1 GB / 1 MB <= 1.2.

    python bench/report.py [--log-mb 50] [--big-mb 1024] [--detect-secrets-mb N]

`--detect-secrets-mb` scans only the first N MB with detect-secrets (it runs at well
under 1 MB/s; the default scans the whole file, ~10 minutes at 50 MB). Prints a table;
exits 1 when a target is missed. Figures come from one run on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REDACTION_TARGET = 1.0
MEMORY_TARGET = 1.2
MB = 1 << 20

WORDS = ("user", "login", "request", "served", "cache", "miss", "GET", "POST", "/api/v1/items",
         "status=200", "took", "ms", "worker", "started", "connection", "pool", "size",
         "queue", "retry", "upstream", "timeout", "order", "cart")
SECRETS = (
    "password=Hunter2Hunter2", "token=ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1JkLmNbVcX",
    "Authorization: Bearer abcDEF123ghiJKL456mnoPQR789", "AKIAZ3MPLQ7TRW5KX2NB",
    "postgresql://app:S3cretPw@db/shop", "mail alice.smith@example.org",
    "key sk-proj-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1JkLmNbVcXz0PoIuYtReWq",
)


def generate_log(path: Path, megabytes: int, *, seed: int = 13) -> None:
    """About ``megabytes`` MB of application log, one line in 500 carrying a secret, an
    error near the start and the last error at the end."""
    rng = random.Random(seed)
    lines = []
    for n in range(20_000):
        words = " ".join(rng.choice(WORDS) for _ in range(10))
        extra = f" {rng.choice(SECRETS)}" if n % 500 == 0 else ""
        lines.append(f"2026-11-30T10:{n // 3600 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z INFO "
                     f"app.worker[{1000 + n % 50}] {words} id={rng.randrange(10**9)}{extra}\n")
    block = "".join(lines).encode()
    error = (b"Traceback (most recent call last):\n"
             b'  File "/srv/shop/app/cart.py", line 9, in total\n'
             b"    amount += prices.price_of(item)\n"
             b"KeyError: 'price of banana'\n")
    with open(path, "wb") as out:
        out.write(error.replace(b"KeyError", b"ValueError"))
        written = 0
        while written < megabytes * MB:
            piece = block[: megabytes * MB - written]
            out.write(piece)
            written += len(piece)
        if not piece.endswith(b"\n"):
            out.write(b"\n")
        out.write(error)


def pieces(path: Path, size: int = MB) -> list[str]:
    """The file as pieces of whole lines of about ``size`` bytes (read before timing)."""
    out = []
    with open(path, "rb") as handle:
        rest = b""
        while chunk := handle.read(size):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            out.append(chunk[:cut].decode("utf-8", "replace"))
            rest = chunk[cut:]
        if rest:
            out.append(rest.decode("utf-8", "replace"))
    return out


def calctl_throughput(path: Path) -> tuple[float, int]:
    from calctl.scrub import Scrubber

    text = pieces(path)
    scrubber = Scrubber(environ={})
    scrubber.scrub("warm up password=x")  # builds the rules (imports detect-secrets)
    started = time.perf_counter()
    for piece in text:
        scrubber.scrub(piece)
    elapsed = time.perf_counter() - started
    return path.stat().st_size / MB / elapsed, sum(scrubber.counts.values())


def detect_secrets_throughput(path: Path, megabytes: int | None) -> tuple[float, int, float]:
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    target = path
    if megabytes is not None:
        target = path.with_suffix(".head.log")
        with open(path, "rb") as src, open(target, "wb") as dst:
            data = src.read(megabytes * MB)
            dst.write(data[: data.rfind(b"\n") + 1])
    started = time.perf_counter()
    with default_settings():
        found = sum(1 for _ in scan_file(str(target)))
    elapsed = time.perf_counter() - started
    size = target.stat().st_size / MB
    return size / elapsed, found, size


RSS = ("import resource, subprocess, sys\n"
       "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
       "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def peak_rss(project: Path, log: Path) -> tuple[int, float]:
    """(peak RSS in KiB, seconds) of `calctl report --dry-run --json --log LOG`."""
    calctl = str(Path(sys.executable).parent / "calctl")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RSS, calctl, "report", "--dry-run", "--json",
                           "--log", str(log)], cwd=project, capture_output=True, text=True,
                          check=True)
    elapsed = time.perf_counter() - started
    code, rss = map(int, proc.stdout.split())
    if code != 0:
        raise SystemExit(f"calctl report exited {code} on {log}")
    return rss, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=50)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--detect-secrets-mb", type=int, default=None)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="calctl-bench-report-") as tmp:
        root = Path(tmp)
        project = root / "shop"
        (project / "app").mkdir(parents=True)
        (project / "calctl.toml").write_text("[report]\nproviders = []\n")
        os.environ.pop("CALCTL_STATE_DIR", None)

        log = root / "redaction.log"
        generate_log(log, args.log_mb)
        ours, count = calctl_throughput(log)
        theirs, found, scanned = detect_secrets_throughput(log, args.detect_secrets_mb)
        ratio = ours / theirs
        ok &= ratio >= REDACTION_TARGET
        print(f"{'redaction':<34} | {'MB':>7} | {'MB/s':>8} | {'found':>6}")
        print(f"{'-' * 34}-+-{'-' * 7}-+-{'-' * 8}-+-{'-' * 6}")
        print(f"{'calctl Scrubber':<34} | {log.stat().st_size / MB:7.1f} | {ours:8.2f} | "
              f"{count:6d}")
        print(f"{'detect-secrets scan_file':<34} | {scanned:7.1f} | {theirs:8.3f} | "
              f"{found:6d}")
        print(f"ratio calctl/detect-secrets: {ratio:.1f}x (target >= {REDACTION_TARGET}x)")
        print()

        small, big = root / "small.log", root / "big.log"
        generate_log(small, 1)
        generate_log(big, args.big_mb)
        log.unlink()
        small_rss, small_s = peak_rss(project, small)
        big_rss, big_s = peak_rss(project, big)
        big.unlink()
        mem_ratio = big_rss / small_rss
        ok &= mem_ratio <= MEMORY_TARGET
        print(f"{'report --dry-run --log':<34} | {'log MB':>7} | {'peak MB':>8} | {'wall s':>6}")
        print(f"{'-' * 34}-+-{'-' * 7}-+-{'-' * 8}-+-{'-' * 6}")
        print(f"{'small':<34} | {1:7d} | {small_rss / 1024:8.1f} | {small_s:6.1f}")
        print(f"{'large':<34} | {args.big_mb:7d} | {big_rss / 1024:8.1f} | {big_s:6.1f}")
        print(f"ratio large/small peak memory: {mem_ratio:.2f}x (target <= {MEMORY_TARGET}x)")
        print(json.dumps({"redaction_mb_s": round(ours, 2), "detect_secrets_mb_s":
                          round(theirs, 3), "redaction_ratio": round(ratio, 1),
                          "memory_ratio": round(mem_ratio, 3)}))
    return 0 if ok else 1


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
