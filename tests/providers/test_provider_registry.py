"""Providers by name (lazy imports, unknown names refused) and the memory provider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prov_helpers import APP, make_project, report, settings_for

from calctl.errors import UsageError
from calctl.providers.base import ProviderContext
from calctl.providers.registry import diagnosers, publishers
from calctl.store import open_store


def test_names_give_providers_in_order() -> None:
    assert [p.name for p in diagnosers(["openai", "memory", "rules"])] == [
        "openai", "memory", "rules"]
    assert [p.name for p in publishers(["github", "coderabbit"])] == ["github", "coderabbit"]
    assert all(p.offline for p in diagnosers(["memory", "rules"]))


def test_unknown_name_is_a_usage_error_listing_the_known() -> None:
    with pytest.raises(UsageError) as caught:
        diagnosers(["memory", "claude"])
    assert "'claude'" in caught.value.message
    assert "memory, rules, openai" in caught.value.message
    with pytest.raises(UsageError, match="known publishers: github, coderabbit"):
        publishers(["slack"])


def test_registry_and_offline_providers_import_no_http_or_git() -> None:
    code = ("import sys\nfrom calctl.providers.registry import diagnosers\n"
            "diagnosers(['memory', 'rules'])\n"
            "print(sorted(m for m in ('httpx', 'git') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "[]"


def test_memory_returns_a_remembered_fix_that_still_applies(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    settings = settings_for(root)
    fix = {"kind": "patch", "version": 1, "id": "m1", "description": "index rows",
           "edits": [{"op": "replace", "path": "app/billing.py", "search": "r.amount",
                      "replace": 'r["amount"]'}]}
    with open_store(settings) as store:
        ctx = ProviderContext(root=root, settings=settings, store=store)
        (memory,) = diagnosers(["memory"])
        assert memory.outgoing(report(), ctx) is None
        empty = memory.diagnose(report(), ctx)
        assert empty.diagnosis is None and "no fix remembered" in empty.reason
        store.remember_fix("fp1:abc123", fix, "index rows")
        found = memory.diagnose(report(), ctx)
        assert found.diagnosis is not None and found.diagnosis.patch is not None
        assert found.diagnosis.summary == "index rows"
        assert found.diagnosis.patch.to_dict()["edits"][0]["replace"] == 'r["amount"]'
        # the file changed since: the remembered fix no longer applies, and is not offered
        (root / "app" / "billing.py").write_text(APP.replace("r.amount", "row.total"))
        stale = memory.diagnose(report(), ctx)
        assert stale.diagnosis is None and "no longer applies" in stale.reason
        assert "search text not found" in stale.reason
        bad = dict(fix, edits=[{"op": "replace", "path": "../../etc/passwd", "search": "a",
                                "replace": "b"}])
        store.remember_fix("fp1:evil", bad, "bad")
        refused = memory.diagnose(report(fingerprint="fp1:evil"), ctx)
        assert refused.diagnosis is None and "leaves the project root" in refused.reason
