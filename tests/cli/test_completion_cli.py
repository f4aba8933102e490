"""Shell completion (Typer's own) and the root's help, through the real console script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NO_DETECTION = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}  # name the shell


def test_help_lists_completion_and_shows_verbose_as_a_counter(calctl: Any) -> None:
    shown = calctl("--help")
    assert shown.returncode == 0
    assert "--install-completion" in shown.stdout and "--show-completion" in shown.stdout
    (verbose,) = [line for line in shown.stdout.splitlines() if "--verbose" in line]
    assert "-v" in verbose and "counter (-v, -vv)" in verbose
    assert "<int>" not in verbose and "default: 0" not in shown.stdout
    options = [line.strip("│ ").split()[0] for line in shown.stdout.splitlines()
               if line.strip("│ ").startswith("--")]
    assert "--store-url" in options and "--database-url" not in options  # hidden


def test_show_completion_prints_the_script(calctl: Any) -> None:
    for shell, marker in (("bash", "_CALCTL_COMPLETE=complete_bash"),
                          ("zsh", "_CALCTL_COMPLETE=complete_zsh"),
                          ("fish", "complete --command calctl")):
        script = calctl("--show-completion", shell, env=NO_DETECTION)
        assert script.returncode == 0, script.stderr
        assert marker in script.stdout


def test_the_script_completes_commands_and_options(calctl: Any) -> None:
    def complete(words: str) -> list[str]:
        cword = str(len(words.split()) - 1)
        done = calctl(env={"_CALCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
                           "COMP_CWORD": cword})
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("calctl mig") == ["migrate"]
    assert complete("calctl migrate ap") == ["apply"]
    assert "--lock-timeout" in complete("calctl migrate apply --lo")
    assert "--quiet" in complete("calctl migrate apply --qu")  # -q after the name too
    assert complete("calctl --sto") == ["--store-url"]


def test_install_completion_writes_the_shells_files(calctl: Any, tmp_path: Path) -> None:
    done = calctl("--install-completion", "bash", env={**NO_DETECTION, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "bash completion installed in" in done.stdout
    script = tmp_path / ".bash_completions" / "calctl.sh"
    assert "_CALCTL_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()
