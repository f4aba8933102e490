"""No path under the project root, the home directory or the Python installation survives
anywhere in a report; other system paths do."""

from __future__ import annotations

import json
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

from calctl.report.paths import PathScrubber


def test_paths_in_every_field_are_rewritten(calctl: Any, shop: Path, tmp_path: Path) -> None:
    home = tmp_path / "home" / "alice"
    root = home / "work" / "shop"
    shutil.copytree(shop, root)
    stdlib = sysconfig.get_paths()["stdlib"]
    site = sysconfig.get_paths()["purelib"]
    log = "\n".join([
        f"INFO cwd {root} config {root}/calctl.toml cache {home}/.cache/shop/db",
        f"INFO python {sys.executable} prefix {sys.prefix} other /etc/shop/app.ini",
        "Traceback (most recent call last):",
        f'  File "{site}/flask/app.py", line 3, in run',
        "    x()",
        f'  File "{stdlib}/json/decoder.py", line 9, in decode',
        "    y()",
        f'  File "{root}/app/cart.py", line 9, in total',
        "    amount += prices.price_of(item)",
        f"OSError: cannot open {home}/.config/shop.ini nor {root}/data/x.csv",
    ])
    result = calctl("report", "--dry-run", "--json", "-", cwd=root, input=log,
                    env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    text = result.stdout
    doc = json.loads(text)
    for path in {str(root), str(home), sys.prefix, sys.base_prefix, stdlib, site,
                 sys.executable} - {"/usr", "/usr/local", "/"}:
        assert path not in text, path
    assert doc["file"] == "app/cart.py"
    assert doc["error"] == "cannot open ~/.config/shop.ini nor data/x.csv"
    assert "/etc/shop/app.ini" in text
    assert '"<site-packages>/flask/app.py"' in doc["traceback"]
    assert '"<stdlib>/json/decoder.py"' in doc["traceback"]
    assert doc["breadcrumbs"][0]["message"] == (
        "INFO cwd . config calctl.toml cache ~/.cache/shop/db")


def test_relative_and_outside_paths(tmp_path: Path) -> None:
    scrubber = PathScrubber(tmp_path / "p", home=tmp_path)
    assert scrubber.relative(f"{tmp_path}/p/app/x.py") == "app/x.py"
    assert scrubber.relative("app/../app/x.py") == "app/x.py"
    assert scrubber.relative("../x.py") is None
    assert scrubber.relative(f"{tmp_path}/p/.venv/lib/x.py") is None
    assert scrubber.relative("node_modules/express/index.js") is None
    assert scrubber.relative("/etc/passwd") is None
    assert scrubber.scrub(f"{tmp_path}/pp/x and {tmp_path}/p/y") == "~/pp/x and y"
