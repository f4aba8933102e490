from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import UNRENDERED_TEMPLATE, Observation
from calctl.sql.rules.base import ObservationRule


class UnrenderedTemplate(ObservationRule):
    """A templated migration (``{{ … }}``, ``${…}``) has a placeholder with no value.

    Problem: calctl cannot know the real names, so the file is analysed
    approximately and its dependencies may be wrong.
    Fix: give the value with ``--define NAME=VALUE`` or ``[migrate] defines``.
    """

    code = "CAL009"
    name = "unrendered-template"
    severity = "warning"
    scope = "order"
    observes = frozenset({UNRENDERED_TEMPLATE})

    @classmethod
    def note(cls, seen: Observation) -> Note:
        name = seen.subject
        return cls.make_note(
            seen,
            f"template placeholder {{{{{name}}}}} is not rendered; the file is analysed "
            "approximately",
            f"Pass --define {name.split()[-1].strip(chr(34)).lstrip('.')}=VALUE "
            "or set [migrate] defines in calctl.toml.",
        )
