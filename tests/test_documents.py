"""Documents: round trips, and validation errors that name the field."""

from __future__ import annotations

import json

import pytest

from calctl.documents import (
    KINDS,
    Diagnosis,
    Edit,
    Finding,
    MigrationPlan,
    Patch,
    PatchResult,
    PlanFile,
    Problem,
    load_document,
)
from calctl.errors import DocumentError


def test_every_kind_round_trips() -> None:
    patch = Patch(id="p1", description="fix", edits=[Edit(op="replace", path="a.py",
                                                          search="x", replace="y")])
    docs = [
        MigrationPlan(directory="db", files=[PlanFile(path="1.sql", position=0)],
                      problems=[Problem(code="CAL001", name="forward-dependency",
                                        severity="error", path="1.sql", message="m", line=3)]),
        Finding(check="api", source="http", error="503"),
        Diagnosis(provider="rules", summary="s", confidence=0.5, patch=patch),
        patch,
        PatchResult(patch_id="p1", status="verified", timings={"apply": 0.1}),
    ]
    for doc in docs:
        text = json.dumps(doc.to_dict())
        again = load_document(text)
        assert again == doc
        assert json.loads(text)["kind"] == doc.KIND and json.loads(text)["version"] == 1
    assert set(KINDS) >= {"migration-plan", "finding", "bug-report", "diagnosis", "patch",
                          "patch-result", "event", "error"}


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "patch", "version": 1, "edits": [{"op": "replace"}]}, "field edits[0].path: missing"),
    ({"kind": "patch", "version": 1, "edits": [{"op": "zap", "path": "a"}]},
     "field edits[0].op: expected one of"),
    ({"kind": "finding", "version": 1, "check": "c", "source": "http", "error": "e",
      "line": "7"}, "field line: expected an integer"),
    ({"kind": "patch", "version": 2}, "field version: unsupported version 2"),
    ({"kind": "nonsense"}, "unknown document kind 'nonsense'"),
    ({"kind": "diagnosis", "version": 1, "provider": "x", "summary": "s", "confidence": True},
     "field confidence: expected a number"),
])
def test_invalid_document_names_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(DocumentError) as info:
        load_document(json.dumps(data), source="<stdin>")
    assert info.value.message.startswith("<stdin>: ")
    assert message in info.value.message


def test_not_json_names_line_and_column() -> None:
    with pytest.raises(DocumentError, match=r"patch.json:2:1: not valid JSON"):
        load_document('{"kind": "patch",\n}', source="patch.json")


def test_accept_limits_kinds() -> None:
    text = json.dumps(Finding(check="c", source="test", error="e").to_dict())
    with pytest.raises(DocumentError, match="a finding document is not accepted here"):
        load_document(text, accept=(Patch, Diagnosis))


def test_every_document_name_resolves_and_kinds_name_their_classes() -> None:
    import calctl.documents as documents
    from calctl.documents import kind_class

    for name in documents.__all__:
        assert getattr(documents, name) is not None
    for kind in KINDS:
        cls = kind_class(kind)
        assert cls is not None and kind == cls.KIND
    assert kind_class("no-such-kind") is None


def test_a_plan_does_not_load_the_other_document_families() -> None:
    import subprocess
    import sys

    code = ("import sys; from calctl.documents import MigrationPlan; "
            "assert 'calctl.documents.patch' not in sys.modules; "
            "assert 'calctl.documents.report' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
