"""Paths a patch may not touch, second round (hostile review of issue 10: S4, case variants,
diff headers), attacked for real: the real CLI, a real project whose one test fails, a
real ``python -m pytest`` as the verify command.

Each attack is first shown to work when the user allows it (``--allow-protected``), so
the refusal is what stands between the patch and a "verified" wrong fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from support import entries as snapshot
from support import patch_doc as doc
from support import write

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def apply(calctl: Any, root: Path, text: str, *args: str) -> Any:
    patch = root.parent / "patch.json"
    patch.write_text(text, encoding="utf-8")
    return calctl("patch", "apply", str(patch), "--json", *args, cwd=root)


def assert_refused(result: Any, *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    data = result.json()
    assert data["status"] == "refused"
    reasons = " ".join(data["reasons"])
    for word in words:
        assert word in reasons, reasons


WRONG_FIX = {"op": "replace", "path": "app/calc.py", "search": "return a - b",
             "replace": "return a * b"}

PLUGIN = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


def _dist_info(kind: str) -> list[dict[str, Any]]:
    folder = "helper-1.0.dist-info" if kind == "dist-info" else "helper.egg-info"
    meta = "METADATA" if kind == "dist-info" else "PKG-INFO"
    return [
        {"op": "create", "path": "helper_plugin.py", "content": PLUGIN},
        {"op": "create", "path": f"{folder}/{meta}",
         "content": "Metadata-Version: 2.1\nName: helper\nVersion: 1.0\n"},
        {"op": "create", "path": f"{folder}/entry_points.txt",
         "content": "[pytest11]\nhelper = helper_plugin\n"},
    ]


def assert_attack_blocked(calctl: Any, app: Path, edits: list[dict[str, Any]], verify: str,
                          *words: str) -> None:
    before = snapshot(app)
    # the wrong fix alone is caught: the verify command really judges
    alone = apply(calctl, app, doc(WRONG_FIX), "--verify", verify)
    assert alone.returncode == 1 and alone.json()["status"] == "rolled_back", alone.stdout
    assert snapshot(app) == before
    attack = doc(WRONG_FIX, *edits)
    assert_refused(apply(calctl, app, attack, "--verify", verify), *words)
    assert snapshot(app) == before
    # allowed by the user, the same patch fools the judge: the refusal is what counts
    fooled = apply(calctl, app, attack, "--verify", verify, "--allow-protected")
    assert fooled.returncode == 0, fooled.stdout + fooled.stderr
    assert fooled.json()["status"] == "verified"


@pytest.mark.parametrize("kind", ["dist-info", "egg-info"])
def test_dist_info_registering_a_pytest_plugin_is_refused(calctl: Any, app: Path,
                                                          kind: str) -> None:
    assert_attack_blocked(calctl, app, _dist_info(kind), PYTEST, f".{kind}/",
                          "loads at start")


def test_egg_link_and_editable_finder_are_refused(calctl: Any, app: Path) -> None:
    before = snapshot(app)
    for path in ("helper.egg-link", "__editable__.helper-1.0.pth",
                 "__editable___helper_1_0_finder.py"):
        result = apply(calctl, app, doc({"op": "create", "path": path, "content": "x\n"}),
                       "--verify", PYTEST)
        assert_refused(result, path, "protected")
        assert snapshot(app) == before


def test_module_shadowing_a_dependency_of_the_verify_command_is_refused(
        calctl: Any, app: Path) -> None:
    """pytest imports iniconfig; ``python -m`` puts the project root first on the path."""
    shadow = [{"op": "create", "path": "iniconfig.py",
               "content": "import os\nos._exit(0)\n"}]
    assert_attack_blocked(calctl, app, shadow, PYTEST, "iniconfig.py",
                          "new module 'iniconfig'", "shadow")


def test_shadowing_in_a_folder_the_verify_command_puts_on_the_path_is_refused(
        calctl: Any, app: Path) -> None:
    shadow = [{"op": "create", "path": "lib/iniconfig.py",
               "content": "import os\nos._exit(0)\n"}]
    assert_attack_blocked(calctl, app, shadow, f"env PYTHONPATH=lib {PYTEST}",
                          "lib/iniconfig.py", "new module 'iniconfig' in lib/")


@pytest.mark.parametrize("path", ["iniconfig/__init__.py", "src/iniconfig.py", "json.py",
                                  "src/_pytest/__init__.py"])
def test_other_shadowing_forms_are_refused(calctl: Any, app: Path, path: str) -> None:
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "create", "path": path, "content": "x = 1\n"}),
                   "--no-verify")
    assert_refused(result, path, "shadow")
    assert snapshot(app) == before


def test_renaming_into_a_shadowing_module_is_refused(calctl: Any, app: Path) -> None:
    write(app / "helper.py", "import os\nos._exit(0)\n")
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "rename", "path": "helper.py",
                                     "to": "iniconfig.py"}), "--no-verify")
    assert_refused(result, "iniconfig.py", "shadow")
    assert snapshot(app) == before


def test_a_module_the_project_already_has_or_a_new_name_is_still_patched(
        calctl: Any, app: Path) -> None:
    # the project vendors a module that shares an installed name: editing it is ordinary
    write(app / "iniconfig.py", "VALUE = 1\n")
    edits = [{"op": "replace", "path": "iniconfig.py", "search": "VALUE = 1",
              "replace": "VALUE = 2"},
             {"op": "create", "path": "app/json.py", "content": "x = 1\n"},  # not top level
             {"op": "create", "path": "calc_helpers.py", "content": "x = 1\n"},
             {"op": "create", "path": "README.json", "content": "{}\n"}]
    result = apply(calctl, app, doc(*edits), "--no-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (app / "iniconfig.py").read_text() == "VALUE = 2\n"


def test_sitecustomize_as_a_package_is_refused(calctl: Any, app: Path) -> None:
    verify = f"env PYTHONPATH=src {PYTEST}"
    site = [{"op": "create", "path": "src/sitecustomize/__init__.py",
             "content": "import os\nos._exit(0)\n"}]
    assert_attack_blocked(calctl, app, site, verify, "src/sitecustomize/__init__.py",
                          "'sitecustomize/'")
    before = snapshot(app)
    for path in ("lib/usercustomize/__init__.py", "sitecustomize.so"):
        result = apply(calctl, app, doc({"op": "create", "path": path, "content": "x\n"}),
                       "--no-verify")
        assert_refused(result, path, "protected")
    assert snapshot(app) == before


@pytest.mark.parametrize(("path", "words"), [
    (".GIT/hooks/post-commit", (".git/",)),
    (".Git/config", (".git/",)),
    ("PYTEST.INI", ("'pytest.ini'",)),
    ("Tests/helper.py", ("'tests/'",)),
    ("CALCTL.TOML", ("calctl",)),
    (".GitHub/workflows/ci.yml", ("'.github/'",)),
])
def test_case_variants_of_protected_paths_are_refused(calctl: Any, app: Path, path: str,
                                                      words: tuple[str, ...]) -> None:
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "create", "path": path,
                                     "content": "#!/bin/sh\ntouch /tmp/pwned\n"}),
                   "--no-verify")
    assert_refused(result, path, *words)
    assert snapshot(app) == before


def test_case_variant_of_the_state_directory_is_refused(calctl: Any, app: Path) -> None:
    (app / ".calctl").mkdir(mode=0o700)
    before = snapshot(app)
    result = apply(calctl, app, doc({"op": "create", "path": ".CALCTL/x", "content": "x\n"}),
                   "--no-verify")
    # on Linux .CALCTL is another folder; the rule holds where it would be the same one
    assert result.returncode == 1 and "state directory" in result.stdout, result.stdout
    assert snapshot(app) == before


# ---------------------------------------------------------------- diff headers


def apply_diff(calctl: Any, root: Path, diff: str, *args: str) -> Any:
    patch = root.parent / "change.diff"
    patch.write_text(diff, encoding="utf-8")
    return calctl("patch", "apply", str(patch), "--json", "--no-verify", *args, cwd=root)


def test_c_quoted_path_is_unquoted_and_git_refused(calctl: Any, app: Path) -> None:
    (app / ".git" / "hooks").mkdir(parents=True)
    before = snapshot(app)
    for target in (r"\056git/hooks/post-commit", r"\056\147it/config"):
        diff = (f'diff --git "a/{target}" "b/{target}"\nnew file mode 100755\n'
                f'--- /dev/null\n+++ "b/{target}"\n@@ -0,0 +1,2 @@\n'
                "+#!/bin/sh\n+touch /tmp/pwned-by-quoted-path\n")
        result = apply_diff(calctl, app, diff)
        assert_refused(result, ".git/")
        assert snapshot(app) == before  # no junk '"b/056git' path either


def test_c_quoted_names_are_git_s_names(calctl: Any, app: Path) -> None:
    """Git quotes non-ASCII and control characters; the file created is the real name."""
    diff = ('diff --git "a/caf\\303\\251 \\"x\\".txt" "b/caf\\303\\251 \\"x\\".txt"\n'
            "new file mode 100644\n--- /dev/null\n"
            '+++ "b/caf\\303\\251 \\"x\\".txt"\n@@ -0,0 +1 @@\n+hello\n')
    result = apply_diff(calctl, app, diff)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (app / 'café "x".txt').read_text() == "hello\n"
    assert not any(p.name.startswith('"') for p in app.iterdir())
    # a renamed file's quoted names too
    diff = ('diff --git "a/caf\\303\\251 \\"x\\".txt" b/plain.txt\nsimilarity index 100%\n'
            'rename from "caf\\303\\251 \\"x\\".txt"\nrename to plain.txt\n')
    result = apply_diff(calctl, app, diff)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (app / "plain.txt").read_text() == "hello\n"
    assert not (app / 'café "x".txt').exists()


@pytest.mark.parametrize("name", ['"b/unclosed', r'"b/bad\q"', r'"b/\377\376"'])
def test_malformed_quoted_path_is_exit_2(calctl: Any, app: Path, name: str) -> None:
    before = snapshot(app)
    diff = f"--- /dev/null\n+++ {name}\n@@ -0,0 +1 @@\n+x\n"
    result = apply_diff(calctl, app, diff)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "quoted path" in result.stdout + result.stderr
    assert snapshot(app) == before


def test_copy_is_refused_not_applied_as_a_rename(calctl: Any, app: Path) -> None:
    before = snapshot(app)
    diff = ("diff --git a/app/calc.py b/app/calc2.py\nsimilarity index 90%\n"
            "copy from app/calc.py\ncopy to app/calc2.py\n"
            "--- a/app/calc.py\n+++ b/app/calc2.py\n@@ -1,2 +1,2 @@\n"
            " def add(a, b):\n-    return a - b\n+    return a + b\n")
    result = apply_diff(calctl, app, diff)
    assert result.returncode == 2, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "'copy from app/calc.py' line" in out and "does not apply copies" in out, out
    assert snapshot(app) == before  # the source is still there, no copy made
