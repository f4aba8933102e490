"""A code fault healed by the `openai` provider (a real HTTP server on 127.0.0.1):
the right fix is verified and kept; a wrong one is rolled back byte-for-byte."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from support import files_and_links

ROUTE = "/v1/chat/completions"

CALC = '''"""Cart arithmetic."""


def total(prices):
    """The sum of every price."""
    return sum(prices[i] for i in range(len(prices) - 1))
'''

TEST = '''from app.calc import total


def test_total():
    assert total([1, 2, 3]) == 6
'''


def code_project(root: Path, server_url: str, extra: str = "") -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "calc.py").write_text(CALC, encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text(TEST, encoding="utf-8")
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    (root / "calctl.toml").write_text(
        '[report]\nproviders = ["memory", "rules", "openai"]\n\n'
        f'[openai]\nbase_url = "{server_url}/v1"\nmodel = "local-model"\nmax_retries = 0\n\n'
        + extra + '\n[[guard.checks]]\nname = "tests"\ntype = "command"\n'
        f"run = {json.dumps(run)}\ntimeout = 60\nheal = true\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def chat_reply(content: str) -> dict[str, Any]:
    """A Chat Completions response as OpenAI documents it."""
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 2, "total_tokens": 42}}


def answer_with(server: Any, new_range: str) -> None:
    """A server that takes no response_format (llama.cpp-style): two 400s, then a
    text reply holding a SEARCH/REPLACE block."""
    refused = {"error": {"message": "response_format is not supported", "code": None,
                         "type": "invalid_request_error", "param": None}}
    server.add("POST", ROUTE, status=400, body=refused)
    server.add("POST", ROUTE, status=400, body=refused)
    server.add("POST", ROUTE, body=chat_reply(
        "The loop stops one item early.\n\napp/calc.py\n<<<<<<< SEARCH\n"
        "    return sum(prices[i] for i in range(len(prices) - 1))\n=======\n"
        f"    return sum(prices[i] for i in {new_range})\n>>>>>>> REPLACE\n"))


def heal_runs(root: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / ".calctl" / "calctl.db") as conn:
        return conn.execute("SELECT provider, status, patch_id FROM calctl_heal_runs").fetchall()


def test_openai_fix_is_verified_and_kept(tmp_path: Path, calctl: Any, http_server: Any) -> None:
    project = code_project(tmp_path / "shop", http_server.url)
    answer_with(http_server, "range(len(prices))")
    done = calctl("guard", "once", "--heal", "--json", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    run = done.json()
    assert run["healthy"] is True and run["checks"][0]["status"] == "healthy"
    [outcome] = run["heal"]
    assert outcome["outcome"] == "verified" and outcome["provider"] == "openai"
    assert outcome["files"] == ["app/calc.py"]
    assert outcome["verification"][0]["command"] == "check tests (command)"
    assert "range(len(prices)))" in (project / "app" / "calc.py").read_text()
    # what left the machine is the scrubbed report, with the test's failure in it
    sent = [r.json() for r in http_server.requests]
    assert "response_format" not in sent[-1]
    assert "test_calc.py" in json.dumps(sent[-1]["messages"])
    assert heal_runs(project) == [("openai", "verified", outcome["patch_id"])]
    # learned: the same fault next time is fixed from memory (the server is not asked)
    asked = len(http_server.requests)
    (project / "app" / "calc.py").write_text(CALC, encoding="utf-8")
    again = calctl("guard", "once", "--heal", "--json", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.json()["heal"][0]["provider"] == "memory"
    assert len(http_server.requests) == asked


def test_wrong_fix_is_rolled_back_byte_for_byte(tmp_path: Path, calctl: Any,
                                               http_server: Any) -> None:
    project = code_project(tmp_path / "shop", http_server.url)
    answer_with(http_server, "range(1, len(prices))")  # still one item short
    before = files_and_links(project)
    done = calctl("guard", "once", "--heal", "--json", cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    run = done.json()
    assert run["healthy"] is False
    [outcome] = run["heal"]
    assert outcome["outcome"] == "failed" and outcome["rolled_back"] is True
    assert outcome["patch_status"] == "rolled_back"
    assert "check tests (command)" in outcome["reason"]
    after = {k: v for k, v in files_and_links(project).items()
             if not k.startswith((".calctl/", ".git/")) and "__pycache__" not in k}
    assert after == {k: v for k, v in before.items()
                     if not k.startswith((".calctl/", ".git/")) and "__pycache__" not in k}
    assert heal_runs(project) == [("openai", "failed", outcome["patch_id"])]
    with sqlite3.connect(project / ".calctl" / "calctl.db") as conn:
        assert conn.execute("SELECT count(*) FROM calctl_fix_memory").fetchone() == (0,)
        status = conn.execute("SELECT status FROM guardian_patch_applications").fetchall()
    assert status == [("rolled_back",)]
