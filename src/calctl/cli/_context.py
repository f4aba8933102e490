"""What every command reaches through the Typer context: settings, store, event log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    from calctl.config import Settings
    from calctl.events.log import EventLog
    from calctl.store.base import Store


class AppContext:
    """Global flags, and the settings/store/event log built from them on first use.

    A plain class, not a dataclass: building a dataclass costs ~0.3 ms at import, and
    every command imports this module."""

    def __init__(self, flags: dict[str, Any] | None = None, json: bool = False) -> None:
        self.flags: dict[str, Any] = {} if flags is None else flags
        self.json = json
        self._settings: Settings | None = None
        self._store: Store | None = None
        self._events: EventLog | None = None

    def settings(self, overrides: dict[str, Any] | None = None) -> Settings:
        """Resolve settings once; ``overrides`` are a command's own flags (dotted keys)."""
        if self._settings is None or overrides:
            from calctl.config import Settings

            first = self._settings is None
            self._settings = Settings.resolve({**self.flags, **(overrides or {})})
            if first:
                _warn_untrusted(self._settings)
        return self._settings

    def store(self) -> Store:
        if self._store is None:
            from calctl.store import open_store

            warn_if_git_tracks(self.settings().state_dir)
            self._store = open_store(self.settings())
        return self._store

    def events(self) -> EventLog:
        if self._events is None:
            from calctl.events.log import EventLog
            from calctl.state import StateDir

            warn_if_git_tracks(self.settings().state_dir)
            state = StateDir(self.settings().state_dir).ensure()
            self._events = EventLog(state.events_path, self.store())
        return self._events

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
        if self._store is not None:
            self._store.close()


def root_context(*, config: Path | None, state_dir: Path | None, store_url: str | None,
                 verbose: int, quiet: bool, trust_config: bool, json: bool) -> AppContext:
    """The context the global options make, as the root callback (``cli.app.root``) and
    the fast path (``cli.quick``) both build it; ``quiet`` also quiets the output."""
    context = AppContext(
        flags={
            "config": str(config) if config is not None else None,
            "state_dir": str(state_dir) if state_dir is not None else None,
            "store_url": store_url,
            "verbose": verbose,
            "quiet": quiet,
            "trust_config": trust_config or None,
        },
        json=json,
    )
    if quiet:
        from calctl.output import set_quiet

        set_quiet(True)
    return context


_warned_state: set[Path] = set()


def warn_if_git_tracks(state_dir: Path) -> None:
    """Say once per command, on stderr, when git tracks files in the state directory: they
    came with (or will leave with) the repository, and calctl does not trust them."""
    if state_dir in _warned_state:
        return
    _warned_state.add(state_dir)
    from calctl.state import tracked_by_git

    tracked = tracked_by_git(state_dir)
    if not tracked:
        return
    from calctl.output import err_console, plural

    shown = ", ".join(tracked[:3]) + (f" and {len(tracked) - 3} more" if len(tracked) > 3 else "")
    err_console().print(
        f"calctl: warning: git tracks {plural(len(tracked), 'file')} in the state directory "
        f"{state_dir}: {shown}; calctl does not trust files a repository ships (it ignores "
        "their journals and caches). Stop tracking them: git rm -r --cached -- "
        f"{state_dir}", markup=False)


def _warn_untrusted(settings: Settings) -> None:
    """Reading commands use an untrusted config (GitLab checks out files mode 666), but
    say so: the commands that would run what it configures will refuse it."""
    if settings.config_untrusted and not settings.trust_config and not settings.quiet:
        from calctl.output import err_console

        err_console().print(
            f"calctl: warning: config file {settings.config_file} is not trusted: "
            f"{settings.config_untrusted}; commands that run what it configures refuse it "
            "without --trust-config (CALCTL_TRUST_CONFIG=1)", markup=False)


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext of the running command (created by the root callback)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


def wants_json(ctx: typer.Context, local: bool) -> bool:
    return local or app_context(ctx).json
