"""Problems as a JUnit XML report (GitLab's ``reports: junit``, Jenkins, CI dashboards).

One ``testcase`` per migration file, named by its path relative to the working
directory; each problem in the file is a ``failure`` of it (type: the rule's code), so a
clean file is a passing test and the report lists every file checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from calctl.cli._problem_formats import location, message_and_hint, shown_path
from calctl.documents import Problem

# what XML 1.0 cannot hold at all, even escaped (a name or message may quote file content)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(directory: Path, files: Sequence[str], problems: Sequence[Problem], *,
              suite: str) -> str:
    """The report: ``files`` (paths in the migration directory) in the order given, and a
    testcase for any file a problem names that ``files`` lacks."""
    import xml.etree.ElementTree as ET

    by_file: dict[str, list[Problem]] = {path: [] for path in files}
    for p in problems:
        by_file.setdefault(p.path, []).append(p)
    failing = sum(1 for found in by_file.values() if found)
    root = ET.Element("testsuites", name="calctl", tests=str(len(by_file)),
                      failures=str(failing), errors="0")
    test_suite = ET.SubElement(root, "testsuite", name=suite, tests=str(len(by_file)),
                               failures=str(failing), errors="0", skipped="0")
    for path, found in by_file.items():
        shown = _xml(shown_path(directory, path))
        case = ET.SubElement(test_suite, "testcase", name=shown, classname=suite, file=shown)
        for p in found:
            failure = ET.SubElement(case, "failure", type=p.code,
                                    message=_xml(f"{p.code} {p.name}: {p.message}"))
            failure.text = _xml(f"{p.severity} {location(directory, p)}: "
                                f"{message_and_hint(p)}")
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")
