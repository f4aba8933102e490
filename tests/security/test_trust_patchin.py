"""What a patch brings in, attacked for real (issue 10, items 6 and 11).

Item 6: a patch may not switch off or redirect its own verification by touching the
files that decide what a verify command runs (pytest.ini, conftest.py, pyproject.toml,
Makefile, package.json, the script the command names, a module that shadows the one
it runs, …): the real CLI, a real project with a real failing test, a real pytest.

Item 11: malformed patch inputs (lone surrogates, integers past any column, modes a
patch may not set, a diff's mode lines) end in exit 2 naming the field — never exit
70 — and nothing in the project changes.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from calctl.config import Settings
from calctl.errors import UsageError
from calctl.store import open_store
from support import entries as snapshot
from support import patch_doc as doc
from support import write

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


WRONG_FIX = {"op": "replace", "path": "app/calc.py", "search": "return a - b",
             "replace": "return a * b"}
COLLECT_ONLY = "[pytest]\naddopts = --collect-only -q\n"


def apply(calctl: Any, root: Path, text: str, *args: str) -> Any:
    patch = root.parent / "patch.json"
    patch.write_text(text, encoding="utf-8")
    return calctl("patch", "apply", str(patch), "--json", *args, cwd=root)


def assert_refused(result: Any, *words: str) -> dict[str, Any]:
    assert result.returncode == 1, result.stdout + result.stderr
    data = result.json()
    assert data["status"] == "refused"
    reasons = " ".join(data["reasons"])
    for word in words:
        assert word in reasons, reasons
    return data  # type: ignore[no-any-return]


# ---------------------------------------------------------------- item 6


def test_pytest_ini_collect_only_cannot_switch_off_verification(calctl: Any, app: Path,
                                                                 tmp_path: Path) -> None:
    before, outside = snapshot(app), snapshot(tmp_path)
    # the wrong fix alone is caught: the verify command really judges
    alone = apply(calctl, app, doc(WRONG_FIX), "--verify", PYTEST)
    assert alone.returncode == 1 and alone.json()["status"] == "rolled_back", alone.stdout
    assert snapshot(app) == before

    attack = doc(WRONG_FIX, {"op": "create", "path": "pytest.ini", "content": COLLECT_ONLY})
    result = apply(calctl, app, attack, "--verify", PYTEST)
    assert_refused(result, "pytest.ini", "protected", "'pytest.ini'", "configuration")
    assert snapshot(app) == before
    assert {k: v for k, v in snapshot(tmp_path).items() if k != "patch.json"} == {
        k: v for k, v in outside.items() if k != "patch.json"}

    # Allowed explicitly, the same patch goes through — and fools pytest, which is why
    # it is the user's call, not the patch's.
    allowed = apply(calctl, app, attack, "--verify", PYTEST, "--allow-protected")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.json()["status"] == "verified"
    assert (app / "pytest.ini").read_text() == COLLECT_ONLY
    assert "a * b" in (app / "app" / "calc.py").read_text()


def test_allow_protected_from_config_also_allows(calctl: Any, app: Path) -> None:
    write(app / "calctl.toml", '[migrate]\ndir = "migrations"\n[patch]\nallow_protected = true\n')
    attack = doc({"op": "create", "path": "pytest.ini", "content": COLLECT_ONLY})
    result = apply(calctl, app, attack, "--no-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (app / "pytest.ini").exists()


def _pyproject(root: Path) -> dict[str, Any]:
    write(root / "pyproject.toml", '[project]\nname = "app"\n\n[tool.pytest.ini_options]\n'
          'addopts = "-q"\n')
    return {"op": "replace", "path": "pyproject.toml", "search": 'addopts = "-q"',
            "replace": 'addopts = "--collect-only -q"'}


def _rename_ini_away(root: Path) -> dict[str, Any]:
    write(root / "pytest.ini", "[pytest]\naddopts = --strict-markers\n")
    return {"op": "rename", "path": "pytest.ini", "to": "pytest.ini.bak"}


def _rename_into(root: Path) -> dict[str, Any]:
    write(root / "app" / "settings.cfg", "[tool:pytest]\naddopts = --collect-only\n")
    return {"op": "rename", "path": "app/settings.cfg", "to": "setup.cfg"}


def _delete_tox(root: Path) -> dict[str, Any]:
    write(root / "tox.ini", "[pytest]\naddopts = -q\n")
    return {"op": "delete", "path": "tox.ini"}


def _linked_setup_cfg(root: Path) -> dict[str, Any]:
    write(root / "config" / "setup.cfg.real", "[tool:pytest]\naddopts = -q\n")
    (root / "setup.cfg").symlink_to("config/setup.cfg.real")
    return {"op": "replace", "path": "config/setup.cfg.real", "search": "addopts = -q",
            "replace": "addopts = --collect-only"}


def _linked_github(root: Path) -> dict[str, Any]:
    write(root / "ci" / "workflows" / "test.yml", "run: pytest\n")
    (root / ".github").symlink_to("ci")
    return {"op": "replace", "path": "ci/workflows/test.yml", "search": "run: pytest",
            "replace": "run: true"}


def _venv(root: Path) -> dict[str, Any]:
    write(root / "env" / "pyvenv.cfg", "home = /usr/bin\n")
    write(root / "env" / "lib" / "python3" / "site.py", "# site\n")
    return {"op": "create", "path": "env/lib/python3/evil.py", "content": "x = 1\n"}


# name → (set-up returning the edit, words the refusal must hold)
CASES: dict[str, tuple[Callable[[Path], dict[str, Any]], tuple[str, ...]]] = {
    "conftest-in-subdir": (lambda r: {"op": "create", "path": "app/sub/conftest.py",
                                      "content": "collect_ignore_glob = ['*']\n"},
                           ("app/sub/conftest.py", "'conftest.py'")),
    "pyproject-edit": (_pyproject, ("pyproject.toml", "'pyproject.toml'")),
    "makefile": (lambda r: {"op": "create", "path": "Makefile", "content": "test:\n\ttrue\n"},
                 ("Makefile", "'Makefile'")),
    "gnumakefile": (lambda r: {"op": "create", "path": "GNUmakefile", "content": "x:\n"},
                    ("GNUmakefile",)),
    "package-json": (lambda r: {"op": "create", "path": "package.json",
                                "content": '{"scripts": {"test": "true"}}\n'},
                     ("package.json", "'package.json'")),
    "rename-pytest-ini-away": (_rename_ini_away, ("pytest.ini", "'pytest.ini'")),
    "rename-into-setup-cfg": (_rename_into, ("setup.cfg", "'setup.cfg'")),
    "delete-tox-ini": (_delete_tox, ("tox.ini",)),
    "noxfile": (lambda r: {"op": "create", "path": "noxfile.py", "content": "x = 1\n"},
                ("noxfile.py",)),
    "dot-pytest-ini": (lambda r: {"op": "create", "path": ".pytest.ini",
                                  "content": COLLECT_ONLY}, (".pytest.ini",)),
    "pytest-ini-in-subdir": (lambda r: {"op": "create", "path": "app/pytest.ini",
                                        "content": COLLECT_ONLY}, ("app/pytest.ini",)),
    "sitecustomize": (lambda r: {"op": "create", "path": "sitecustomize.py",
                                 "content": "import os\nos._exit(0)\n"},
                      ("sitecustomize.py", "at start")),
    "pth-file": (lambda r: {"op": "create", "path": "lib/evil.pth",
                            "content": "import os; os._exit(0)\n"}, ("'*.pth'",)),
    "venv-by-name": (lambda r: {"op": "create", "path": ".venv/lib/site-packages/x.py",
                                "content": "x = 1\n"}, (".venv",)),
    "venv-by-pyvenv-cfg": (_venv, ("virtual environment env/",)),
    "github-workflow": (lambda r: {"op": "create", "path": ".github/workflows/ci.yml",
                                   "content": "on: push\n"}, ("'.github/'", "CI")),
    "ci-dir": (lambda r: {"op": "create", "path": ".ci/run", "content": "exit 0\n"},
               ("'.ci/'",)),
    "calctl-toml": (lambda r: {"op": "replace", "path": "calctl.toml", "search": "migrations",
                               "replace": "elsewhere"}, ("calctl.toml", "config")),
    "env-file": (lambda r: {"op": "create", "path": ".env",
                            "content": "PYTEST_ADDOPTS=--collect-only\n"}, ("'.env'",)),
    "symlink-to-protected-target": (_linked_setup_cfg,
                                    ("config/setup.cfg.real", "setup.cfg is a symbolic link")),
    "symlinked-ci-directory": (_linked_github, ("ci/workflows/test.yml", ".github")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_patch_touching_what_verification_runs_is_refused(calctl: Any, app: Path,
                                                          case: str) -> None:
    setup, words = CASES[case]
    edit = setup(app)
    before = snapshot(app)
    result = apply(calctl, app, doc(WRONG_FIX, edit), "--verify", PYTEST)
    data = assert_refused(result, "protected", *words)
    assert "--allow-protected" in " ".join(data["reasons"])
    assert snapshot(app) == before


def test_script_the_verify_command_names_is_protected(calctl: Any, app: Path) -> None:
    """``--verify "sh scripts/check.sh"``: rewriting the script to ``exit 0`` is refused."""
    write(app / "scripts" / "check.sh", f"exec {PYTEST}\n", mode=0o755)
    before = snapshot(app)
    attack = doc(WRONG_FIX, {"op": "replace", "path": "scripts/check.sh",
                             "search": f"exec {PYTEST}", "replace": "exit 0"})
    result = apply(calctl, app, attack, "--verify", "sh scripts/check.sh")
    assert_refused(result, "scripts/check.sh", "the verify command 'sh scripts/check.sh'")
    assert snapshot(app) == before
    # configured in calctl.toml, it stays protected under --no-verify too
    write(app / "calctl.toml", '[migrate]\ndir = "migrations"\n'
          '[patch]\nverify = ["sh scripts/check.sh"]\n')
    before = snapshot(app)
    result = apply(calctl, app, attack, "--no-verify")
    assert_refused(result, "scripts/check.sh")
    assert snapshot(app) == before


def test_module_shadowing_what_python_m_runs_is_refused(calctl: Any, app: Path) -> None:
    """``python -m pytest`` imports ``pytest`` from the project root first: a patch that
    creates ``pytest.py`` there would run instead of pytest."""
    before = snapshot(app)
    for path in ("pytest.py", "pytest/__init__.py"):
        attack = doc(WRONG_FIX, {"op": "create", "path": path,
                                 "content": "raise SystemExit(0)\n"})
        result = apply(calctl, app, attack, "--verify", PYTEST)
        assert_refused(result, path, "shadow the module 'pytest'")
        assert snapshot(app) == before


def test_extra_globs_only_add_protection(calctl: Any, app: Path) -> None:
    """A ``!pattern`` in ``[patch] protect`` does not un-protect a default."""
    write(app / "calctl.toml", '[migrate]\ndir = "migrations"\n'
          '[patch]\nprotect = ["!pytest.ini", "app/**"]\n')
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "create", "path": "pytest.ini",
                                     "content": COLLECT_ONLY}), "--no-verify")
    assert_refused(result, "pytest.ini")
    result = apply(calctl, app, doc(WRONG_FIX), "--no-verify")
    assert_refused(result, "app/calc.py", "'app/**'", "[patch] protect")
    assert snapshot(app) == before


def test_ordinary_fix_still_applies_and_verifies(calctl: Any, app: Path) -> None:
    fix = {"op": "replace", "path": "app/calc.py", "search": "return a - b",
           "replace": "return a + b"}
    result = apply(calctl, app, doc(fix), "--verify", PYTEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.json()["status"] == "verified"


# ---------------------------------------------------------------- item 11


def bad_input(calctl: Any, root: Path, raw: str | bytes, *words: str,
              env: dict[str, str] | None = None) -> None:
    """Exit 2, one sentence naming the field, nothing in the project changed."""
    before = snapshot(root)
    patch = root.parent / "patch.json"
    if isinstance(raw, bytes):
        patch.write_bytes(raw)
    else:
        patch.write_text(raw, encoding="utf-8")
    result = calctl("patch", "apply", str(patch), "--json", "--no-verify", cwd=root, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    error = result.json()
    assert error["kind"] == "error" and error["code"] != "internal", error
    assert "\n" not in error["message"]
    for word in words:
        assert word in error["message"], error["message"]
    assert snapshot(root) == before


def test_lone_surrogate_in_replace_text(calctl: Any, app: Path) -> None:
    raw = ('{"kind": "patch", "version": 1, "edits": [{"op": "replace", "path": '
           '"app/calc.py", "search": "return a - b", "replace": "return a + b  # \\ud800"}]}')
    bad_input(calctl, app, raw, "edits[0].replace", "surrogate")


def test_lone_surrogate_in_path(calctl: Any, app: Path) -> None:
    raw = ('{"kind": "patch", "version": 1, "edits": [{"op": "create", "path": '
           '"app/\\udcffx.py", "content": "x = 1\\n"}]}')
    bad_input(calctl, app, raw, "edits[0].path", "surrogate")


def test_lone_surrogate_in_seed_object_and_diff(calctl: Any, app: Path) -> None:
    seed = '{"file": "app/\\udcffcalc.py", "line": 2, "oldCode": "a", "newCode": "b"}'
    bad_input(calctl, app, seed, "file", "surrogate")
    diff = ('{"kind": "patch", "version": 1, "diff": "--- a/app/calc.py\\n+++ b/app/calc.py'
            '\\n@@ -2 +2 @@\\n-    return a - b\\n+    return a + b \\ud800\\n"}')
    bad_input(calctl, app, diff, "diff", "surrogate")


def test_invalid_utf8_on_stdin_under_c_locale(calctl: Any, app: Path) -> None:
    """Under LC_ALL=C Python reads stdin with surrogateescape: raw bytes become surrogates."""
    before = snapshot(app)
    raw = (b'{"kind": "patch", "version": 1, "edits": [{"op": "create", "path": "a\xff.py",'
           b' "content": "x\\n"}]}')
    result = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=app, input=raw,
                    env={"LC_ALL": "C", "LANG": "C"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "UTF-8" in result.json()["message"]
    assert snapshot(app) == before


@pytest.mark.parametrize("line", ["99999999999999999999", str(2**40), "0", "-3"])
def test_line_out_of_range(calctl: Any, app: Path, line: str) -> None:
    raw = ('{"kind": "patch", "version": 1, "edits": [{"op": "replace", "path": '
           f'"app/calc.py", "search": "nothere", "replace": "y", "line": {line}}}]}}')
    bad_input(calctl, app, raw, "edits[0].line")


def test_line_out_of_range_in_seed_object_and_huge_integer(calctl: Any, app: Path) -> None:
    bad_input(calctl, app, '{"file": "app/calc.py", "line": 99999999999999999999, '
              '"oldCode": "a", "newCode": "b"}', "field line")
    bad_input(calctl, app, '{"kind": "patch", "version": 1, "edits": [{"op": "replace", '
              '"path": "app/calc.py", "search": "x", "replace": "y", "line": '
              + "9" * 5000 + "}]}", "digits")


@pytest.mark.parametrize("mode", [-1, 0o777, 0o666, 0o664, 0o4755, 0o2755, 0o1755, 0o000,
                                  0o444, 2**70])
def test_unsafe_mode_is_exit_2(calctl: Any, app: Path, mode: int) -> None:
    raw = doc({"op": "create", "path": "run.sh", "content": "echo hi\n", "mode": mode})
    bad_input(calctl, app, raw, "edits[0].mode")


def test_safe_modes_are_set(calctl: Any, app: Path) -> None:
    raw = doc({"op": "create", "path": "run.sh", "content": "echo hi\n", "mode": 0o755},
              {"op": "create", "path": "private.txt", "content": "x\n", "mode": 0o600})
    result = apply(calctl, app, raw, "--no-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE((app / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((app / "private.txt").stat().st_mode) == 0o600


def test_diff_mode_change_is_applied_and_rolled_back(calctl: Any, app: Path) -> None:
    """A diff's ``old mode``/``new mode`` is applied (100644/100755 only), not ignored."""
    write(app / "run.sh", "echo old\n", mode=0o644)
    diff = ("diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
            "--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo old\n+echo new\n")
    result = apply(calctl, app, json.dumps({"kind": "patch", "version": 1, "diff": diff}),
                   "--no-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    data = result.json()
    assert "new mode 100755" in data["diff"]
    assert stat.S_IMODE((app / "run.sh").stat().st_mode) == 0o755
    assert (app / "run.sh").read_text() == "echo new\n"
    back = calctl("patch", "rollback", data["patch_id"], "--json", cwd=app)
    assert back.returncode == 0, back.stdout + back.stderr
    assert stat.S_IMODE((app / "run.sh").stat().st_mode) == 0o644
    assert (app / "run.sh").read_text() == "echo old\n"


def test_mode_only_diff_is_applied(calctl: Any, app: Path) -> None:
    write(app / "tool.sh", "echo\n", mode=0o644)
    diff = "diff --git a/tool.sh b/tool.sh\nold mode 100644\nnew mode 100755\n"
    result = apply(calctl, app, diff, "--no-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE((app / "tool.sh").stat().st_mode) == 0o755
    again = apply(calctl, app, diff, "--no-verify")
    assert again.json()["status"] == "already_applied"


@pytest.mark.parametrize("header,word", [
    ("old mode 100644\nnew mode 100777\n", "new mode 100777"),
    ("old mode 100644\nnew mode 104755\n", "new mode 104755"),
    ("old mode 100644\nnew mode 120000\n", "symbolic link"),
])
def test_diff_mode_a_patch_may_not_set_is_exit_2(calctl: Any, app: Path, header: str,
                                                  word: str) -> None:
    write(app / "run.sh", "echo old\n", mode=0o644)
    diff = (f"diff --git a/run.sh b/run.sh\n{header}"
            "--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo old\n+echo new\n")
    bad_input(calctl, app, json.dumps({"kind": "patch", "version": 1, "diff": diff}), word)


def test_new_file_as_symlink_in_diff_is_exit_2(calctl: Any, app: Path) -> None:
    diff = ("diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n"
            "@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n")
    bad_input(calctl, app, diff, "symbolic link")


def test_path_through_a_symlink_loop_is_refused(calctl: Any, app: Path) -> None:
    (app / "a").symlink_to("b")
    (app / "b").symlink_to("a")
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "create", "path": "a/x.py", "content": "x\n"}),
                   "--no-verify")
    assert_refused(result, "a/x.py", "loop of symbolic links")
    assert snapshot(app) == before


def test_store_refuses_an_integer_its_column_cannot_hold(tmp_path: Path) -> None:
    """Defence in depth below the document layer: the store names the column instead of
    SQLite's OverflowError (exit 70), and records nothing."""
    (tmp_path / ".git").mkdir()
    with open_store(Settings.resolve({}, cwd=tmp_path, env={})) as store:
        for value in (2**31, 2**70):
            with pytest.raises(UsageError, match="line_number"):
                store.add_patch_application(patch_id="p", file_path="a.py", status="refused",
                                            success=False, line_number=value)
            with pytest.raises(UsageError, match="line_number"):
                store.add_bug_report(error_message="x", line_number=value)
        assert store.patch_applications() == []
        assert store.bug_reports() == []
