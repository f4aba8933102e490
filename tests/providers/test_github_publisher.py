"""The github publisher against a real HTTP server on 127.0.0.1 answering like GitHub's REST
API, and a real git repository whose remote is a local bare repository."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from prov_helpers import context, make_project, report

from calctl.documents import Diagnosis, Edit, Patch
from calctl.providers.base import ProviderContext
from calctl.providers.github import GitHubPublisher, marker

TOKEN = "ghp_" + "T" * 36
REPO = "acme/shop"


def _ctx(root: Path, server: Any, **extra: Any) -> ProviderContext:
    flags = {"github.repo": REPO, "github.api_url": server.url, "github.max_retries": 2}
    pull = extra.pop("pull_request", False)
    ctx = context(root, {"GITHUB_TOKEN": TOKEN}, **flags, **extra)
    return ProviderContext(root=ctx.root, settings=ctx.settings, environ=ctx.environ,
                           pull_request=pull)


def _issue(number: int, body: str, pull: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"number": number, "state": "open", "body": body,
                            "html_url": f"https://github.com/{REPO}/issues/{number}"}
    if pull:
        item["pull_request"] = {"url": "x"}
    return item


def test_creates_an_issue_with_the_fingerprint_marker(tmp_path: Path, http_server: Any) -> None:
    http_server.add("GET", f"/repos/{REPO}/issues", body=[_issue(3, "unrelated")])
    http_server.add("POST", f"/repos/{REPO}/issues", status=201,
                    body={"number": 9, "html_url": f"https://github.com/{REPO}/issues/9"})
    ctx = _ctx(make_project(tmp_path), http_server)
    result = GitHubPublisher().publish(report(), None, ctx)
    assert result.action == "created", result.detail
    assert result.url.endswith("/issues/9")
    listing, created = http_server.requests
    assert "state=open" in listing.path
    body = created.json()
    assert body == GitHubPublisher().outgoing(report(), None, ctx)
    assert marker("fp1:abc123") in body["body"] and "app/billing.py:2" in body["body"]
    assert created.headers["Authorization"] == f"Bearer {TOKEN}"
    assert created.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert TOKEN not in created.body.decode()


def test_same_fingerprint_comments_instead_of_a_duplicate(tmp_path: Path,
                                                          http_server: Any) -> None:
    mark = marker("fp1:abc123")
    http_server.add("GET", f"/repos/{REPO}/issues", body=[
        _issue(12, f"a pull request {mark}", pull=True), _issue(4, "other"),
        _issue(7, f"first report\n{mark}")])
    http_server.add("POST", f"/repos/{REPO}/issues/7/comments", status=201,
                    body={"html_url": f"https://github.com/{REPO}/issues/7#issuecomment-1"})
    result = GitHubPublisher().publish(report(), None, _ctx(make_project(tmp_path), http_server))
    assert result.action == "commented", result.detail
    assert result.url.endswith("#issuecomment-1")
    posted = [r for r in http_server.requests if r.method == "POST"]
    assert [r.path for r in posted] == [f"/repos/{REPO}/issues/7/comments"]
    assert mark in posted[0].json()["body"]


def test_secondary_rate_limit_waits_retry_after(tmp_path: Path, http_server: Any) -> None:
    http_server.add("GET", f"/repos/{REPO}/issues", status=403, headers={"retry-after": "1"},
                    body={"message": "You have exceeded a secondary rate limit."})
    http_server.add("GET", f"/repos/{REPO}/issues", body=[])
    http_server.add("POST", f"/repos/{REPO}/issues", status=201,
                    body={"number": 1, "html_url": f"https://github.com/{REPO}/issues/1"})
    started = time.monotonic()
    result = GitHubPublisher().publish(report(), None, _ctx(make_project(tmp_path), http_server))
    assert result.action == "created", result.detail
    assert time.monotonic() - started >= 0.95
    assert [r.method for r in http_server.requests] == ["GET", "GET", "POST"]


def test_primary_rate_limit_past_max_wait_fails_at_once(tmp_path: Path,
                                                        http_server: Any) -> None:
    reset = str(int(time.time()) + 3600)
    http_server.add("GET", f"/repos/{REPO}/issues", status=403, headers={
        "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        body={"message": "API rate limit exceeded"})
    started = time.monotonic()
    result = GitHubPublisher().publish(report(), None, _ctx(make_project(tmp_path), http_server))
    assert result.action == "failed" and "max_wait" in result.detail
    assert time.monotonic() - started < 5 and len(http_server.requests) == 1


def test_forbidden_is_not_retried_and_token_is_required(tmp_path: Path,
                                                        http_server: Any) -> None:
    http_server.add("GET", f"/repos/{REPO}/issues", status=403,
                    body={"message": "Resource not accessible by integration"})
    root = make_project(tmp_path)
    result = GitHubPublisher().publish(report(), None, _ctx(root, http_server))
    assert result.action == "failed" and "HTTP 403" in result.detail
    assert "Resource not accessible" in result.detail and len(http_server.requests) == 1
    no_token = context(root, {}, **{"github.repo": REPO, "github.api_url": http_server.url})
    missing = GitHubPublisher().publish(report(), None, no_token)
    assert missing.action == "failed" and "GITHUB_TOKEN" in missing.detail


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_pull_request_pushes_a_branch_to_the_remote(git_repo: Path, tmp_path: Path,
                                                    http_server: Any) -> None:
    app = git_repo / "app.py"
    app.write_text("def total(rows):\n    return sum(r.amount for r in rows)\n")
    _git(git_repo, "add", "app.py")
    _git(git_repo, "commit", "-q", "-m", "app")
    bare = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(git_repo, "remote", "add", "origin", str(bare))
    before = app.read_text()
    http_server.add("GET", f"/repos/{REPO}/issues", body=[])
    http_server.add("POST", f"/repos/{REPO}/issues", status=201,
                    body={"number": 5, "html_url": f"https://github.com/{REPO}/issues/5"})
    http_server.add("GET", f"/repos/{REPO}", body={"default_branch": "main"})
    http_server.add("POST", f"/repos/{REPO}/pulls", status=201,
                    body={"number": 6, "html_url": f"https://github.com/{REPO}/pull/6"})
    patch = Patch(id="p1", description="index rows", edits=[
        Edit(op="replace", path="app.py", search="r.amount", replace='r["amount"]')])
    diagnosis = Diagnosis(provider="rules", summary="rows are dicts", patch=patch)
    ctx = _ctx(git_repo, http_server, pull_request=True)
    result = GitHubPublisher().publish(report(file="app.py"), diagnosis, ctx)
    assert result.action == "pull-request", result.detail
    assert result.url.endswith("/pull/6") and result.data["issue"].endswith("/issues/5")
    pull = http_server.requests[-1].json()
    assert pull["head"] == "calctl/fix-p1" and pull["base"] == "main"
    assert "Refs #5." in pull["body"] and marker("fp1:abc123") in pull["body"]
    pushed = _git(bare, "show", "calctl/fix-p1:app.py")
    assert 'r["amount"]' in pushed
    # the user's checkout is as it was: no change, no leftover worktree
    assert app.read_text() == before
    assert _git(git_repo, "status", "--porcelain") == ""
    assert len(_git(git_repo, "worktree", "list").splitlines()) == 1


def test_secondary_limit_without_retry_after_waits_a_minute(tmp_path: Path,
                                                            http_server: Any) -> None:
    http_server.add("GET", f"/repos/{REPO}/issues", status=403,
                    body={"message": "You have exceeded a secondary rate limit."})
    root = make_project(tmp_path)
    # a minute is over this max_wait: not slept, failed at once with the reason
    result = GitHubPublisher().publish(report(), None, _ctx(root, http_server,
                                                            **{"github.max_wait": 5.0}))
    assert result.action == "failed" and "wait 60 s" in result.detail
    assert len(http_server.requests) == 1
