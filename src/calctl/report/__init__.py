"""Bug reports: from a failure (a log, a traceback, a finding, an error text) to a
minimal, scrubbed :class:`~calctl.documents.report.BugReport`, and the ``report``
command that sends it to the diagnosers and publishers (``calctl.providers``).

- ``parsers/``: one module per log format (Python, Node.js, PostgreSQL, pytest), each
  finding error blocks in lines of text;
- ``logread``: the last error of a log of any size, with the lines before it;
- ``inputs``: what the command was given (a document, a log, an error text) → a
  :class:`~calctl.report.model.Failure`;
- ``paths``, ``snippet``, ``fingerprint``: scrubbing paths, the lines around the
  failing line, the grouping key;
- ``build.build_report``: the report (every field redacted by :mod:`calctl.redact`);
- ``command.run_report``: the diagnoser chain, publishers, cooldown, store and events.
"""
