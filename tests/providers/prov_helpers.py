"""Helpers for the provider tests: a small project, its settings, a bug report, a context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from calctl.config import Settings
from calctl.documents import BugReport, Snippet
from calctl.providers.base import ProviderContext

APP = "def total(rows):\n    return sum(r.amount for r in rows)\n"


def make_project(tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "calctl.toml").write_text(config, encoding="utf-8")
    (root / "app" / "billing.py").write_text(APP, encoding="utf-8")
    return root


def settings_for(root: Path, **flags: Any) -> Settings:
    return Settings.resolve({"state_dir": str(root / ".calctl"), **flags}, cwd=root, env={})


def context(root: Path, environ: Mapping[str, str] | None = None, **flags: Any
            ) -> ProviderContext:
    return ProviderContext(root=root, settings=settings_for(root, **flags),
                           environ=dict(environ or {}))


def report(**fields: Any) -> BugReport:
    base: dict[str, Any] = {
        "fingerprint": "fp1:abc123",
        "error": "AttributeError: 'dict' object has no attribute 'amount'",
        "error_type": "AttributeError",
        "file": "app/billing.py",
        "line": 2,
        "snippet": Snippet(path="app/billing.py", first_line=1, lines=APP.splitlines(),
                           error_line=2),
        "report_id": "rep-1",
    }
    base.update(fields)
    return BugReport(**base)


def chat_reply(content: str | None, *, finish: str = "stop", refusal: str | None = None,
               tokens: int = 42) -> dict[str, Any]:
    """A Chat Completions response as OpenAI documents it."""
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content,
                                 "refusal": refusal}}],
        "usage": {"prompt_tokens": tokens - 2, "completion_tokens": 2, "total_tokens": tokens},
    }


def diagnosis_json(path: str = "app/billing.py", search: str = "r.amount",
                   replace: str = 'r["amount"]') -> str:
    return json.dumps({
        "summary": "rows are dicts, not objects",
        "explanation": "Index the row instead of reading an attribute.",
        "confidence": 0.8,
        "edits": [{"path": path, "search": search, "replace": replace}],
    })


def api_error(message: str, code: str | int | None, type_: str = "invalid_request_error"
              ) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}
