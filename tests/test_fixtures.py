"""The shared fixtures behave as later tests rely on (real peers, real git)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def test_http_server_scripts_replies_in_order(http_server) -> None:
    http_server.add("POST", "/v1/chat/completions", status=429,
                    headers={"Retry-After": "1"}, body={"error": {"message": "slow down"}})
    http_server.add("POST", "/v1/chat/completions", body={"ok": True}, delay=0.2)
    request = urllib.request.Request(http_server.url + "/v1/chat/completions",
                                     data=b'{"q": 1}', method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("expected HTTP 429")
    except urllib.error.HTTPError as exc:
        assert exc.code == 429 and exc.headers["Retry-After"] == "1"
        exc.close()
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert json.load(reply) == {"ok": True}
    assert time.monotonic() - started >= 0.2
    assert [r.json() for r in http_server.requests] == [{"q": 1}, {"q": 1}]


def test_git_repo_is_real(git_repo: Path) -> None:
    log = subprocess.run(["git", "log", "--oneline"], cwd=git_repo, capture_output=True,
                         text=True, check=True)
    assert "initial" in log.stdout


def test_pg_url_is_a_fresh_database(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
