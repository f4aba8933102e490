"""The event stream: every step of every command, appended to events.jsonl and the store."""

from calctl.events.log import EventLog, follow, read_events

__all__ = ["EventLog", "follow", "read_events"]
