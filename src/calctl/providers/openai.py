"""``openai``: any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM,
llama.cpp's server, LM Studio).

What leaves the machine is :meth:`OpenAIProvider.outgoing`: the model name, two
messages (the instructions and the scrubbed bug report as JSON) and the reply format;
the API key travels only in the ``Authorization`` header, read from the variable
``[openai] api_key_env`` names. The reply is asked for in three ways, each one
tried when the server rejects the previous with a 400/422: ``json_schema`` (strict
structured output), ``json_object`` (JSON mode) and plain text with SEARCH/REPLACE
blocks (read by the patch parser). Whatever comes back is untrusted: a cut-off,
refused, empty or malformed reply, or edits the patch engine refuses, is a failed
result with its reason — never a partial patch.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from calctl.providers.base import ProviderContext, ProviderResult

if TYPE_CHECKING:
    import httpx

    from calctl.documents import BugReport, Diagnosis

Format = Literal["json_schema", "json_object", "text"]
FORMATS: tuple[Format, ...] = ("json_schema", "json_object", "text")
RAW_CAP = 200_000
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "explanation", "confidence", "edits"],
    "properties": {
        "summary": {"type": "string"},
        "explanation": {"type": "string"},
        "confidence": {"type": "number"},
        "edits": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "search", "replace"],
                "properties": {
                    "path": {"type": "string"},
                    "search": {"type": "string"},
                    "replace": {"type": "string"},
                },
            },
        },
    },
}

INSTRUCTIONS = (
    "You diagnose a failure in a software project from a bug report. The report is "
    "scrubbed: secrets appear as [REDACTED:<type>], paths are relative to the project "
    "root. Find the cause and, when you are sure, the smallest fix.\n"
)
JSON_INSTRUCTIONS = INSTRUCTIONS + (
    "Answer with one JSON object: {\"summary\": one sentence, \"explanation\": a short "
    "paragraph, \"confidence\": a number from 0 to 1, \"edits\": [{\"path\": file relative "
    "to the project root, \"search\": exact text now in the file, copied from the report's "
    "snippet, \"replace\": the new text}]}. Leave edits empty when you are not sure. Never "
    "edit tests, CI files or configuration."
)
TEXT_INSTRUCTIONS = INSTRUCTIONS + (
    "Answer with a one-sentence summary on the first line, a short explanation, then the fix "
    "as SEARCH/REPLACE blocks: the file path (relative to the project root) alone on a line, "
    "then '<<<<<<< SEARCH', the exact text now in the file, '=======', the new text, "
    "'>>>>>>> REPLACE'. Give no block when you are not sure. Never edit tests, CI files or "
    "configuration."
)
_FENCED = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.S)


class _Failed(Exception):
    def __init__(self, reason: str, *, reached: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reached = reached


class OpenAIProvider:
    name = "openai"
    offline = False

    # ------------------------------------------------------------ the request

    def body(self, report: BugReport, ctx: ProviderContext, fmt: Format) -> dict[str, Any]:
        report_json = json.dumps(report.to_dict(), ensure_ascii=False, indent=1)
        body: dict[str, Any] = {
            "model": ctx.settings.openai.model,
            "messages": [
                {"role": "system",
                 "content": TEXT_INSTRUCTIONS if fmt == "text" else JSON_INSTRUCTIONS},
                {"role": "user", "content": "Bug report:\n" + report_json},
            ],
        }
        if fmt == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "diagnosis", "strict": True, "schema": SCHEMA},
            }
        elif fmt == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def outgoing(self, report: BugReport, ctx: ProviderContext) -> dict[str, Any] | None:
        """The first request's body; a fallback differs only in ``response_format`` and
        the instructions (the report sent is the same)."""
        return self.body(report, ctx, "json_schema")

    # ------------------------------------------------------------ the exchange

    def diagnose(self, report: BugReport, ctx: ProviderContext) -> ProviderResult:
        from calctl.config import secret

        settings = ctx.settings.openai
        key = secret(settings.api_key_env, ctx.environ)
        if key is None and urlsplit(settings.base_url).hostname not in LOOPBACK:
            return ProviderResult(
                self.name, reached=False,
                reason=f"no API key: the environment variable {settings.api_key_env} "
                       "([openai] api_key_env) is not set")
        tokens = 0
        raw = ""
        try:
            import httpx

            timeout = httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout))
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            with httpx.Client(timeout=timeout, headers=headers, follow_redirects=False) as client:
                for fmt in FORMATS:
                    response = self._post(client, report, ctx, fmt, key)
                    if response is None:
                        continue  # the server rejected this reply format: try the next
                    reply, used = _json_reply(response)
                    tokens += used
                    content = _content(reply)
                    raw = content[:RAW_CAP]
                    diagnosis = self._diagnosis(content, fmt, report, ctx)
                    return ProviderResult(self.name, diagnosis=diagnosis, tokens=tokens,
                                          raw=raw)
            raise _Failed("the endpoint rejected every reply format (json_schema, "
                          "json_object, text)")
        except _Failed as exc:
            reason = exc.reason.replace(key, "***") if key else exc.reason
            return ProviderResult(self.name, reason=reason, reached=exc.reached,
                                  tokens=tokens, raw=raw)

    def _post(self, client: httpx.Client, report: BugReport, ctx: ProviderContext,
              fmt: Format, key: str | None) -> httpx.Response | None:
        from calctl.providers.http import send

        settings = ctx.settings.openai
        url = settings.base_url.rstrip("/") + "/chat/completions"
        outcome = send(client, "POST", url, json_body=self.body(report, ctx, fmt),
                       max_retries=settings.max_retries, retryable=_retryable,
                       max_wait=max(60.0, settings.timeout))
        response = outcome.response
        tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
        if outcome.too_long:
            raise _Failed(f"{url} asked to wait {outcome.too_long:.0f} s before trying again "
                          "(rate limited); not waiting that long")
        if response is None:
            raise _Failed(f"{url} could not be reached: {outcome.error} ({tries})",
                          reached=False)
        status = response.status_code
        if 200 <= status < 300:
            return response
        code, message = _error_of(response)
        said = f": {message}" if message else ""
        if status in (400, 422) and fmt != "text":
            return None
        if status in (401, 403):
            raise _Failed(f"{url} refused the API key from {settings.api_key_env} "
                          f"(HTTP {status}{', ' + code if code else ''}){said}")
        if code == "insufficient_quota":
            raise _Failed(f"the account behind {settings.api_key_env} has no quota left "
                          f"(insufficient_quota; not retried){said}")
        raise _Failed(f"{url} answered HTTP {status}{' ' + code if code else ''} after "
                      f"{tries}{said}")

    # ------------------------------------------------------------ the reply

    def _diagnosis(self, content: str, fmt: Format, report: BugReport,
                   ctx: ProviderContext) -> Diagnosis:
        from calctl.documents import Diagnosis, Edit

        if fmt == "text":
            summary, explanation, edits = _from_text(content)
            confidence = 0.5
        else:
            summary, explanation, confidence, edits = _from_json(content)
        patch = None
        if edits:
            patch = _checked_patch([Edit(op="replace", path=p, search=s, replace=r)
                                    for p, s, r in edits], summary, report, ctx)
        return Diagnosis(provider=self.name, summary=summary, explanation=explanation,
                         confidence=confidence, patch=patch, report_id=report.report_id,
                         fingerprint=report.fingerprint)


def _retryable(response: httpx.Response) -> bool:
    from calctl.providers.http import default_retryable

    if response.status_code == 429 and _error_of(response)[0] == "insufficient_quota":
        return False
    return default_retryable(response)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error reply; ``code`` may come as a string or an integer."""
    try:
        data = response.json()
    except ValueError:
        return "", response.text.strip()[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):
        return "", error[:300]
    if not isinstance(error, dict):
        return "", ""
    code = error.get("code")
    kind = error.get("type")
    text = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    if not text and isinstance(kind, str):
        text = kind
    if kind == "insufficient_quota":
        text = "insufficient_quota"
    message = error.get("message")
    return text, (str(message)[:300] if message else "")


def _json_reply(response: httpx.Response) -> tuple[dict[str, Any], int]:
    try:
        reply = response.json()
    except ValueError:
        raise _Failed("the endpoint's reply is not JSON (is base_url a Chat Completions "
                      "API?)") from None
    if not isinstance(reply, dict):
        raise _Failed("the endpoint's reply is not a JSON object")
    usage = reply.get("usage")
    used = usage.get("total_tokens") if isinstance(usage, dict) else None
    return reply, used if isinstance(used, int) and not isinstance(used, bool) else 0


def _content(reply: dict[str, Any]) -> str:
    error = reply.get("error")
    if error and not reply.get("choices"):  # some servers answer errors with HTTP 200
        said = error.get("message") if isinstance(error, dict) else error
        raise _Failed(f"the endpoint answered an error: {str(said)[:300]}")
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _Failed("the reply has no choices (an empty answer)")
    choice: dict[str, Any] = choices[0] if isinstance(choices[0], dict) else {}
    found = choice.get("message")
    message: dict[str, Any] = found if isinstance(found, dict) else {}
    if choice.get("finish_reason") == "length":
        raise _Failed("the reply was cut off at the token limit (finish_reason: length); "
                      "nothing of it is used")
    refusal = message.get("refusal")
    if refusal:
        raise _Failed(f"the model refused: {str(refusal)[:300]}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise _Failed("the reply's message has no content")
    return content


def _from_json(content: str) -> tuple[str, str, float, list[tuple[str, str, str]]]:
    text = content.strip()
    fenced = _FENCED.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _Failed("the reply is not the JSON object asked for (invalid JSON)") from None
    if not isinstance(data, dict):
        raise _Failed("the reply is not the JSON object asked for")
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise _Failed("the reply has no summary")
    explanation = data.get("explanation")
    confidence = data.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        confidence = 0.0
    edits = data.get("edits", [])
    if not isinstance(edits, list):
        raise _Failed("the reply's edits are not a list")
    out = []
    for index, edit in enumerate(edits):
        if not isinstance(edit, dict) or not all(
                isinstance(edit.get(k), str) for k in ("path", "search", "replace")):
            raise _Failed(f"edit {index} of the reply is not {{path, search, replace}} strings")
        out.append((edit["path"], edit["search"], edit["replace"]))
    return (summary.strip()[:500], explanation if isinstance(explanation, str) else "",
            min(1.0, max(0.0, float(confidence))), out)


def _from_text(content: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    from calctl.errors import DocumentError
    from calctl.patch.parse import parse_patch_text

    prose = content.split("<<<<<<<", 1)[0].strip().splitlines()
    summary = next((line.strip() for line in prose if line.strip()), "")
    if not summary:
        raise _Failed("the reply has no summary")
    explanation = "\n".join(prose[1:]).strip()
    if "<<<<<<<" not in content:
        return summary[:500], explanation, []
    try:
        patch = parse_patch_text(content, source="the reply")
    except DocumentError as exc:
        raise _Failed(f"the reply's SEARCH/REPLACE blocks do not parse: {exc.message}") \
            from None
    return summary[:500], explanation, [(e.path, e.search or "", e.replace or "")
                                        for e in patch.edits if e.op == "replace"]


def _checked_patch(edits: list[Any], summary: str, report: BugReport,
                   ctx: ProviderContext) -> Any:
    from calctl.documents import Patch
    from calctl.ids import new_id
    from calctl.providers.validation import patch_problems

    patch = Patch(id=new_id(), description=summary, edits=edits, report_id=report.report_id,
                  fingerprint=report.fingerprint)
    problems = patch_problems(patch, ctx)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _Failed(f"the proposed edits do not validate: {problems[0]}{more}")
    return patch
