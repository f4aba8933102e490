"""``coderabbit``: the CodeRabbit CLI reviews the patch, as an advisory opinion.

When ``coderabbit`` is on PATH, the patch is written (uncommitted) on a temporary git
worktree of ``HEAD`` and ``coderabbit review --plain --type uncommitted --no-color``
runs there (through :mod:`calctl.processes`: output capped, a timeout, the whole
process tree ended). Its plain-text findings (``File:``, ``Line:``, ``Type:``, then
the comment, blocks separated by ``====`` lines) are recorded as an advisory
``diagnosis`` (no patch of its own) in the publish result's data. Without the CLI the
result is a ``failed`` one saying how to install it. The CLI itself sends the diff
to CodeRabbit's service under the user's own login: calctl sends nothing.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING, Any

from calctl.providers.base import ProviderContext, PublishResult

if TYPE_CHECKING:
    from calctl.documents import BugReport, Diagnosis

EXECUTABLE = "coderabbit"
ARGS = ("review", "--plain", "--type", "uncommitted", "--no-color")
TIMEOUT = 900.0  # reviews take minutes
TAIL_BYTES = 1024 * 1024
INSTALL_HINT = ("install it with `curl -fsSL https://cli.coderabbit.ai/install.sh | sh` "
                "and log in with `coderabbit auth login`")
_RULE = re.compile(r"^\s*={5,}\s*$", re.M)
_FIELD = re.compile(r"^\s*(File|Line|Type|Comment|Prompt for AI Agent)\s*:\s*(.*)$", re.I)


def parse_review(text: str) -> list[dict[str, str]]:
    """The findings of ``coderabbit review --plain`` output: file, line, type, comment."""
    findings = []
    for block in _RULE.split(text):
        entry: dict[str, str] = {}
        current = ""
        for line in block.splitlines():
            m = _FIELD.match(line)
            if m:
                current = m.group(1).lower().replace(" ", "_")
                entry[current] = m.group(2).strip()
            elif current in ("comment", "prompt_for_ai_agent"):
                entry[current] = (entry[current] + "\n" + line).strip("\n")
        if "file" in entry:
            findings.append({"file": entry["file"], "line": entry.get("line", ""),
                             "type": entry.get("type", ""),
                             "comment": entry.get("comment", "").strip()})
    return findings


class CodeRabbitPublisher:
    name = "coderabbit"

    def outgoing(self, report: BugReport, diagnosis: Diagnosis | None,
                 ctx: ProviderContext) -> dict[str, Any] | None:
        """calctl sends nothing itself; the CLI reviews the patched files."""
        return None

    def publish(self, report: BugReport, diagnosis: Diagnosis | None,
                ctx: ProviderContext) -> PublishResult:
        environ = dict(ctx.environ) if ctx.environ else dict(os.environ)
        exe = shutil.which(EXECUTABLE, path=environ.get("PATH", os.defpath))
        if exe is None:
            return PublishResult(self.name, "failed", detail=(
                f"the CodeRabbit CLI ({EXECUTABLE}) is not installed or not on PATH; "
                + INSTALL_HINT))
        if diagnosis is None or diagnosis.patch is None:
            return PublishResult(self.name, "skipped", detail="no patch to review")
        from calctl.processes import run
        from calctl.providers.worktree import WorktreeError, patched_worktree

        try:
            with patched_worktree(ctx, diagnosis.patch) as tree:
                done = run([exe, *ARGS], cwd=tree.top, timeout=TIMEOUT, env=environ,
                           tail_bytes=TAIL_BYTES)
        except WorktreeError as exc:
            return PublishResult(self.name, "failed", detail=f"no review: {exc}")
        except OSError as exc:
            return PublishResult(self.name, "failed", detail=f"{exe} could not start: "
                                 f"{exc.strerror or exc}")
        output = done.output.decode("utf-8", "replace")
        if done.timed_out:
            return PublishResult(self.name, "failed",
                                 detail=f"coderabbit review ran over {TIMEOUT:.0f} s")
        if done.returncode != 0:
            last = (output.strip().splitlines() or ["no output"])[-1]
            return PublishResult(self.name, "failed", detail=(
                f"coderabbit review exited {done.returncode}: {last[:300]}"))
        findings = parse_review(output)
        advisory = _advisory(findings, report, diagnosis)
        return PublishResult(self.name, "reviewed",
                             detail=f"{len(findings)} review comment"
                                    f"{'s' if len(findings) != 1 else ''}",
                             data={"findings": findings, "diagnosis": advisory.to_dict(),
                                   "output": output[-20_000:]})


def _advisory(findings: list[dict[str, str]], report: BugReport,
              diagnosis: Diagnosis) -> Diagnosis:
    from calctl.documents import Diagnosis

    lines = [f"- {f['file']}{':' + f['line'] if f['line'] else ''} ({f['type'] or 'comment'}): "
             f"{f['comment'].splitlines()[0] if f['comment'] else ''}" for f in findings]
    summary = (f"CodeRabbit reviewed the patch of {diagnosis.provider}: "
               + (f"{len(findings)} comment{'s' if len(findings) != 1 else ''}"
                  if findings else "no comments"))
    return Diagnosis(provider="coderabbit", summary=summary, explanation="\n".join(lines),
                     confidence=0.0, report_id=report.report_id,
                     fingerprint=report.fingerprint)
