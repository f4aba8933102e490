from __future__ import annotations

from calctl.sql.rules.base import NoteRule


class UnrenderedTemplate(NoteRule):
    """A templated migration (``{{ … }}``, ``${…}``) has a placeholder with no value.

    Problem: calctl cannot know the real names, so the file is analysed
    approximately and its dependencies may be wrong.
    Fix: give the value with ``--define NAME=VALUE`` or ``[migrate] defines``.
    """

    code = "CAL009"
    name = "unrendered-template"
    severity = "warning"
    scope = "order"
