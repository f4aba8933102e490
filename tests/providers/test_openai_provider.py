"""The openai provider against a real HTTP server on 127.0.0.1 answering like the Chat
Completions API: every documented shape of success, error, rate limit and bad reply."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from prov_helpers import (
    APP,
    api_error,
    chat_reply,
    context,
    diagnosis_json,
    make_project,
    report,
)

from calctl.providers.base import ProviderContext
from calctl.providers.openai import OpenAIProvider

KEY = "sk-test-0123456789abcdefghijklmnop"
ROUTE = "/v1/chat/completions"


def _ctx(tmp_path: Path, server: Any, **flags: Any) -> ProviderContext:
    root = make_project(tmp_path)
    return context(root, {"OPENAI_API_KEY": KEY}, **{
        "openai.base_url": server.url + "/v1", "openai.model": "test-model",
        "openai.max_retries": 2, "openai.timeout": 5.0, **flags})


def test_schema_valid_answer_gives_a_validated_patch(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json(), tokens=77))
    ctx = _ctx(tmp_path, http_server)
    result = OpenAIProvider().diagnose(report(), ctx)
    assert result.reached and result.diagnosis is not None, result.reason
    patch = result.diagnosis.patch
    assert patch is not None and patch.edits[0].path == "app/billing.py"
    assert result.diagnosis.confidence == 0.8 and result.tokens == 77
    assert result.raw and "rows are dicts" in result.raw
    (sent,) = http_server.requests
    body = sent.json()
    assert body == OpenAIProvider().outgoing(report(), ctx)  # exactly what --dry-run shows
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in sent.body.decode()
    # the project is untouched: a diagnosis only proposes
    assert (ctx.root / "app" / "billing.py").read_text() == APP


def test_400_to_json_schema_falls_back_to_json_object(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=400, body=api_error(
        "Invalid parameter: 'response_format' of type 'json_schema' is not supported with "
        "this model.", None))
    http_server.add("POST", ROUTE, body=chat_reply("```json\n" + diagnosis_json() + "\n```"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is not None and result.diagnosis.patch is not None, result.reason
    formats = [r.json()["response_format"]["type"] for r in http_server.requests]
    assert formats == ["json_schema", "json_object"]


def test_text_fallback_reads_search_replace_blocks(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=400, body=api_error("response_format unsupported", None))
    http_server.add("POST", ROUTE, status=400, body=api_error("response_format unsupported", None))
    text = ("Rows are dicts.\nIndex them.\n\napp/billing.py\n<<<<<<< SEARCH\n"
            "    return sum(r.amount for r in rows)\n=======\n"
            "    return sum(r[\"amount\"] for r in rows)\n>>>>>>> REPLACE\n")
    http_server.add("POST", ROUTE, body=chat_reply(text))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is not None and result.diagnosis.patch is not None, result.reason
    assert result.diagnosis.summary == "Rows are dicts."
    assert "response_format" not in http_server.requests[-1].json()


def test_429_with_retry_after_then_success(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=429, headers={"Retry-After": "1"},
                    body=api_error("Rate limit reached", "rate_limit_exceeded", "requests"))
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json()))
    started = time.monotonic()
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is not None and result.diagnosis.patch is not None, result.reason
    assert time.monotonic() - started >= 0.95  # the server's wait, honoured
    assert len(http_server.requests) == 2


def test_retry_after_ms_is_honoured(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=503, headers={"retry-after-ms": "300"})
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json()))
    started = time.monotonic()
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is not None, result.reason
    assert time.monotonic() - started >= 0.28


def test_500s_until_the_retry_cap(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=500, body=api_error("server error", None, "server"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server,
                                                      **{"openai.max_retries": 2}))
    assert result.diagnosis is None and result.reached
    assert len(http_server.requests) == 3  # the first try and two retries
    assert "HTTP 500" in result.reason and "3 attempts" in result.reason


def test_401_is_not_retried(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=401, body=api_error(
        "Incorrect API key provided: sk-test***mnop.", "invalid_api_key"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and len(http_server.requests) == 1
    assert "refused the API key from OPENAI_API_KEY (HTTP 401, invalid_api_key)" in result.reason
    assert KEY not in result.reason


def test_insufficient_quota_is_not_retried(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=429, headers={"Retry-After": "1"}, body=api_error(
        "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and len(http_server.requests) == 1
    assert "insufficient_quota" in result.reason and "no quota left" in result.reason


def test_integer_error_code_is_read(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, status=404, body=api_error("model not found", 404, "NotFound"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and len(http_server.requests) == 1
    assert "HTTP 404 404" in result.reason and "model not found" in result.reason


def test_read_timeout_is_unreachable(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json()), delay=1.5)
    result = OpenAIProvider().diagnose(report(), _ctx(
        tmp_path, http_server, **{"openai.timeout": 0.3, "openai.max_retries": 1}))
    assert result.diagnosis is None and not result.reached
    assert "timed out" in result.reason and "2 attempts" in result.reason


def test_connection_refused_and_missing_key_are_unreachable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = make_project(tmp_path)
    ctx = context(root, {"OPENAI_API_KEY": KEY}, **{
        "openai.base_url": f"http://127.0.0.1:{port}/v1", "openai.max_retries": 0})
    result = OpenAIProvider().diagnose(report(), ctx)
    assert not result.reached and "could not be reached" in result.reason
    remote = context(root, {}, **{"openai.base_url": "https://api.example.invalid/v1"})
    result = OpenAIProvider().diagnose(report(), remote)
    assert not result.reached and "OPENAI_API_KEY" in result.reason


def test_malformed_json_reply_fails_clearly(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply('{"summary": "half a thought", "edits": ['))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and result.reached
    assert "invalid JSON" in result.reason


def test_body_that_is_not_json_fails_clearly(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body="<html>gateway</html>")
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and "not JSON" in result.reason


def test_finish_reason_length_is_a_failed_diagnosis(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json()[:40], finish="length"))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and "cut off" in result.reason and result.tokens == 42


def test_refusal_and_empty_choices_fail(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(None, refusal="I can't help with that."))
    http_server.add("POST", ROUTE, body={"id": "x", "choices": [], "usage": {"total_tokens": 3}})
    ctx = _ctx(tmp_path, http_server)
    first = OpenAIProvider().diagnose(report(), ctx)
    assert first.diagnosis is None and "refused: I can't help" in first.reason
    second = OpenAIProvider().diagnose(report(), ctx)
    assert second.diagnosis is None and "no choices" in second.reason


def test_edit_outside_the_project_is_refused(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json(
        path="../../etc/passwd", search="root:x:0:0", replace="root::0:0")))
    ctx = _ctx(tmp_path, http_server)
    result = OpenAIProvider().diagnose(report(), ctx)
    assert result.diagnosis is None
    assert "do not validate" in result.reason and "leaves the project root" in result.reason


def test_edit_whose_search_text_is_absent_is_refused(tmp_path: Path, http_server: Any) -> None:
    http_server.add("POST", ROUTE, body=chat_reply(diagnosis_json(search="no such text")))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is None and "search text not found" in result.reason


def test_answer_without_edits_is_a_diagnosis_without_patch(tmp_path: Path,
                                                           http_server: Any) -> None:
    reply = json.loads(diagnosis_json())
    reply["edits"] = []
    http_server.add("POST", ROUTE, body=chat_reply(json.dumps(reply)))
    result = OpenAIProvider().diagnose(report(), _ctx(tmp_path, http_server))
    assert result.diagnosis is not None and result.diagnosis.patch is None


def test_small_model_answering_badly_changes_nothing(tmp_path: Path, http_server: Any) -> None:
    # a small local model: no structured output, then prose with a broken block
    http_server.add("POST", ROUTE, status=400, body={"error": "response_format not supported"})
    http_server.add("POST", ROUTE, status=400, body={"error": "response_format not supported"})
    http_server.add("POST", ROUTE, body=chat_reply(
        "Sure! The bug is in billing.\napp/billing.py\n<<<<<<< SEARCH\nreturn sum(\n"))
    ctx = _ctx(tmp_path, http_server)
    result = OpenAIProvider().diagnose(report(), ctx)
    assert result.diagnosis is None and result.reached
    assert "SEARCH/REPLACE blocks do not parse" in result.reason
    assert (ctx.root / "app" / "billing.py").read_text() == APP
    http_server.routes.clear()  # the next answer: an error with HTTP 200
    http_server.add("POST", ROUTE, body={"error": {"message": "model 'x' not loaded"}})
    again = OpenAIProvider().diagnose(report(), ctx)
    assert again.diagnosis is None and "model 'x' not loaded" in again.reason
