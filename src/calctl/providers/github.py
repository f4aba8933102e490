"""``github``: one issue per fingerprint, and a pull request with the patch.

- The issue's body carries the fingerprint in an HTML comment
  (``<!-- calctl:fingerprint fp1:… -->``). Before opening one, the repository's open
  issues are listed (``GET /repos/{repo}/issues?state=open``, newest first, up to 1000)
  and an issue carrying the marker gets a comment instead: never a duplicate. The
  listing is used rather than the search API, whose index lags by up to a minute.
- Rate limits: a primary limit (403/429 with ``x-ratelimit-remaining: 0``) waits
  until ``x-ratelimit-reset``, a secondary one (403/429 with ``retry-after``) that
  many seconds; a wait over ``[github] max_wait`` fails at once, saying when to retry.
  Other 403s (no permission) are not retried.
- With ``ctx.pull_request`` and a patch: the patch is committed on a temporary
  worktree of ``HEAD``, pushed to ``[github] remote`` as ``calctl/fix-<patch id>``
  and a pull request opened against the repository's default branch — so a review
  bot on the repository (CodeRabbit) reviews it. An open pull request carrying the
  marker already is reported, not duplicated.

The token comes from the variable ``[github] token_env`` names, sent only in the
``Authorization`` header; everything in a body comes from the scrubbed report.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from calctl.providers.base import ProviderContext, PublishResult

if TYPE_CHECKING:
    import httpx

    from calctl.documents import BugReport, Diagnosis

MAX_PAGES = 10
API_VERSION = "2022-11-28"


def marker(fingerprint: str) -> str:
    return f"<!-- calctl:fingerprint {fingerprint} -->"


class _Failed(Exception):
    pass


class GitHubPublisher:
    name = "github"

    # ------------------------------------------------------------ what is sent

    def outgoing(self, report: BugReport, diagnosis: Diagnosis | None,
                 ctx: ProviderContext) -> dict[str, Any] | None:
        """The issue that would be opened (a comment on an existing one has the same
        body); a pull request's body is built the same way."""
        return {"title": _title(report), "body": issue_body(report, diagnosis)}

    def publish(self, report: BugReport, diagnosis: Diagnosis | None,
                ctx: ProviderContext) -> PublishResult:
        from calctl.config import secret

        settings = ctx.settings.github
        repo = settings.repo.strip()
        if repo.count("/") != 1 or not all(repo.split("/")):
            return PublishResult(self.name, "failed", detail="set [github] repo to owner/name")
        token = secret(settings.token_env, ctx.environ)
        if token is None:
            return PublishResult(self.name, "failed", detail=f"no token: the environment "
                                 f"variable {settings.token_env} ([github] token_env) is not set")
        import httpx

        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION, "User-Agent": "calctl"}
        timeout = httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout))
        try:
            with httpx.Client(base_url=settings.api_url.rstrip("/"), headers=headers,
                              timeout=timeout) as client:
                return self._publish(client, repo, report, diagnosis, ctx)
        except _Failed as exc:
            return PublishResult(self.name, "failed", detail=str(exc).replace(token, "***"))

    def _publish(self, client: httpx.Client, repo: str, report: BugReport,
                 diagnosis: Diagnosis | None, ctx: ProviderContext) -> PublishResult:
        mark = marker(report.fingerprint)
        issue, pull = self._find(client, repo, mark, ctx)
        body = issue_body(report, diagnosis)
        data: dict[str, Any] = {"fingerprint": report.fingerprint}
        if issue is not None:
            comment = self._call(client, "POST", f"/repos/{repo}/issues/{issue['number']}"
                                 "/comments", ctx, {"body": body})
            action: Any = "commented"
            url = str(comment.get("html_url") or issue.get("html_url") or "")
            data["issue"] = issue.get("html_url", "")
        else:
            created = self._call(client, "POST", f"/repos/{repo}/issues", ctx,
                                 {"title": _title(report), "body": body})
            action, url = "created", str(created.get("html_url") or "")
            data["issue"] = url
            issue = created
        if not (ctx.pull_request and diagnosis is not None and diagnosis.patch is not None):
            return PublishResult(self.name, action, url=url, data=data)
        if pull is not None:
            data["pull_request"] = pull.get("html_url", "")
            return PublishResult(self.name, "pull-request", url=str(data["pull_request"]),
                                 detail="a pull request for this fingerprint is already open",
                                 data=data)
        pr_url = self._pull_request(client, repo, report, diagnosis, issue, ctx)
        data["pull_request"] = pr_url
        return PublishResult(self.name, "pull-request", url=pr_url, data=data)

    # ------------------------------------------------------------ the API

    def _call(self, client: httpx.Client, method: str, path: str, ctx: ProviderContext,
              body: Any = None, params: dict[str, str] | None = None) -> Any:
        from calctl.providers.http import send

        settings = ctx.settings.github
        outcome = send(client, method, path, json_body=body, params=params,
                       max_retries=settings.max_retries, retryable=_retryable,
                       max_wait=settings.max_wait, delay_for=_delay)
        response = outcome.response
        if outcome.too_long:
            raise _Failed(f"GitHub rate limit: asked to wait {outcome.too_long:.0f} s, over "
                          f"[github] max_wait ({settings.max_wait:.0f} s); try again later")
        if response is None:
            raise _Failed(f"GitHub ({settings.api_url}) could not be reached: {outcome.error}")
        if response.status_code >= 400:
            raise _Failed(f"GitHub answered {method} {path} with HTTP {response.status_code}"
                          f"{_message(response)}")
        try:
            return response.json()
        except ValueError:
            raise _Failed(f"GitHub's reply to {method} {path} is not JSON") from None

    def _find(self, client: httpx.Client, repo: str, mark: str, ctx: ProviderContext
              ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The open issue and the open pull request whose body carries ``mark``."""
        issue = pull = None
        params = {"state": "open", "per_page": "100", "sort": "created",
                  "direction": "desc"}
        path = f"/repos/{repo}/issues"
        for page in range(1, MAX_PAGES + 1):
            items = self._call(client, "GET", path, ctx, params={**params, "page": str(page)})
            if not isinstance(items, list):
                raise _Failed(f"GitHub's list of issues of {repo} is not a list")
            for item in items:
                if not isinstance(item, dict) or mark not in str(item.get("body") or ""):
                    continue
                if "pull_request" in item:
                    pull = pull or item
                else:
                    issue = issue or item
            if issue is not None or len(items) < 100:
                break
        return issue, pull

    def _pull_request(self, client: httpx.Client, repo: str, report: BugReport,
                      diagnosis: Diagnosis, issue: dict[str, Any], ctx: ProviderContext) -> str:
        import git

        from calctl.providers.worktree import WorktreeError, git_error, patched_worktree

        patch = diagnosis.patch
        assert patch is not None
        info = self._call(client, "GET", f"/repos/{repo}", ctx)
        base = str(info.get("default_branch") or "main") if isinstance(info, dict) else "main"
        branch = f"calctl/fix-{(patch.id or report.fingerprint.split(':')[-1])[:24]}"
        remote = ctx.settings.github.remote
        title = f"calctl: {diagnosis.summary}"[:200]
        try:
            with patched_worktree(ctx, patch, commit=title) as tree:
                tree.repo.git.push(remote, f"HEAD:refs/heads/{branch}")
        except WorktreeError as exc:
            raise _Failed(f"no pull request: {exc}") from None
        except git.GitCommandError as exc:
            raise _Failed(f"no pull request: git push to {remote} failed: {git_error(exc)}") \
                from None
        number = issue.get("number")
        body = (f"{diagnosis.explanation or diagnosis.summary}\n\n"
                + (f"Refs #{number}.\n\n" if number else "") + marker(report.fingerprint))
        pull = self._call(client, "POST", f"/repos/{repo}/pulls", ctx,
                          {"title": title, "head": branch, "base": base, "body": body})
        return str(pull.get("html_url") or "")


SECONDARY_WAIT = 60.0  # GitHub: "wait for at least one minute" when it names no time


def _delay(response: httpx.Response) -> float | None:
    """The wait a rate limit asks for: its headers, else a minute for a secondary limit
    that names no time (None: back off exponentially)."""
    from calctl.providers.http import header_delay

    delay = header_delay(response.headers)
    if delay is None and response.status_code in (403, 429) and \
            "rate limit" in _message(response).lower():
        return SECONDARY_WAIT
    return delay


def _retryable(response: httpx.Response) -> bool:
    from calctl.providers.http import default_retryable

    if response.status_code in (403, 429):
        # a rate limit says so (headers or message); any other 403 is a missing permission
        return _delay(response) is not None
    return default_retryable(response)


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return f": {str(message)[:300]}" if message else ""


def _title(report: BugReport) -> str:
    first = (report.error.strip().splitlines() or ["error"])[0]
    where = f" in {report.file}" if report.file else ""
    return f"calctl: {first[:150]}{where}"[:250]


def issue_body(report: BugReport, diagnosis: Diagnosis | None) -> str:
    """Markdown from the scrubbed report (and diagnosis), with the fingerprint marker."""
    fence = "````"
    parts = [f"**Error**: {report.error_type + ': ' if report.error_type else ''}"
             f"{report.error.strip()}"]
    if report.file:
        parts.append(f"**Where**: `{report.file}{':' + str(report.line) if report.line else ''}`")
    if report.snippet is not None:
        parts.append(f"{fence}\n" + "\n".join(report.snippet.lines) + f"\n{fence}")
    if report.traceback:
        parts.append(f"<details><summary>Traceback</summary>\n\n{fence}\n"
                     f"{report.traceback.strip()}\n{fence}\n</details>")
    if diagnosis is not None:
        parts.append(f"**Diagnosis** ({diagnosis.provider}, confidence "
                     f"{diagnosis.confidence:.2f}): {diagnosis.summary}")
        if diagnosis.explanation:
            parts.append(diagnosis.explanation)
        if diagnosis.patch is not None:
            patch_json = json.dumps(diagnosis.patch.to_dict(), indent=1, ensure_ascii=False)
            parts.append(f"<details><summary>Patch</summary>\n\n{fence}json\n{patch_json}\n"
                         f"{fence}\n</details>")
    parts.append(f"Fingerprint `{report.fingerprint}` · reported by calctl\n\n"
                 + marker(report.fingerprint))
    return "\n\n".join(parts)
