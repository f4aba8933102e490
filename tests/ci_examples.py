"""The calctl commands in the repository's CI files (action.yml, examples/ci/*.yml), and
a way to run them as the CI would: a shell line through bash, the installed ``calctl``
first on PATH (the real entry point), with the step's ``env:``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "action.yml"
GITHUB = REPO / "examples" / "ci" / "github-actions.yml"
GITLAB = REPO / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


@dataclass(frozen=True)
class Command:
    source: str          # file and step, for messages
    line: str            # the shell line as written
    env: dict[str, str] = field(default_factory=dict)  # the step's env, expressions as written


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _calctl_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("calctl")]


def action_commands() -> list[Command]:
    steps = load(ACTION)["runs"]["steps"]
    return [Command(f"action.yml step {n}", line, dict(step.get("env") or {}))
            for n, step in enumerate(steps) for line in _calctl_lines(step.get("run", ""))]


def github_commands() -> list[Command]:
    out = []
    for job_name, job in load(GITHUB)["jobs"].items():
        for n, step in enumerate(job["steps"]):
            for line in _calctl_lines(step.get("run", "")):
                out.append(Command(f"github-actions.yml {job_name} step {n}", line,
                                   dict(step.get("env") or {})))
    return out


def gitlab_commands() -> list[Command]:
    out = []
    for job_name, job in load(GITLAB).items():
        if not isinstance(job, dict) or "script" not in job:
            continue  # stages, variables, default …
        for key in ("before_script", "script", "after_script"):
            for line in job.get(key) or []:
                if str(line).strip().startswith("calctl"):
                    out.append(Command(f"gitlab-ci.yml {job_name} {key}", str(line).strip()))
    return out


def action_defaults() -> dict[str, str]:
    return {name: str(spec.get("default", "")) for name, spec in load(ACTION)["inputs"].items()}


_EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def step_env(command: Command, inputs: dict[str, str]) -> dict[str, str]:
    """The step's env with ``${{ inputs.X }}`` replaced by ``inputs`` (GitHub's job)."""
    def value(text: Any) -> str:
        return _EXPRESSION.sub(lambda m: inputs[m.group(1)], str(text))

    return {name: value(text) for name, text in command.env.items()}


def run_line(command: Command, cwd: Path, *, env: dict[str, str] | None = None,
             prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """``bash -c LINE`` in ``cwd``, as a CI runner would, with the installed calctl first
    on PATH; ``prefix`` runs bash under another program (unshare …)."""
    bindir = str(Path(sys.executable).parent)
    full = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    full.pop("DATABASE_URL", None)
    full["PATH"] = bindir + os.pathsep + full.get("PATH", "")
    full.update(env or {})
    return subprocess.run([*(prefix or []), "bash", "-c", command.line], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)
