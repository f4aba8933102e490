"""``calctl patch apply | rollback | list | show | recover``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import DryRunOpt, ForceOpt, JsonOpt
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.cli._context import AppContext
    from calctl.config import Settings
    from calctl.documents import Patch, PatchResult
    from calctl.patch.records import Trail

app = typer.Typer(help="Apply a patch with snapshot, verification and automatic rollback; "
                  "undo, list and show patches.", no_args_is_help=True)

# recover.UNTRUSTED_NOTE, kept here so that rendering does not import the patch core
UNTRUSTED_NOTE = "ignored untrusted journal "
FAILED_STATUSES = ("refused", "rolled_back", "failed")
STYLES = {"verified": "green", "applied": "green", "already_applied": "cyan",
          "dry_run": "cyan", "refused": "red", "rolled_back": "yellow", "failed": "red"}


def _trail(context: AppContext) -> Trail:
    from calctl.patch.records import Trail

    return Trail(context.store(), context.events())


def _warn(messages: list[str]) -> None:
    if messages:
        from calctl.output import err_console

        for message in messages:
            err_console().print(f"calctl: warning: {message}", markup=False)


def input_limit(max_patch_bytes: int) -> int:
    """How many bytes of input ``patch apply`` reads in all. The input of a patch within
    max_patch_bytes is larger than its edits (a search block beside each replacement,
    JSON escapes, a diagnosis around the edits), so a patch a little over the cap is still
    read and refused with every reason listed; an endless one (/dev/zero, a runaway pipe)
    is cut off after this many bytes, never read whole."""
    return 4 * max_patch_bytes + (1 << 20)


def _read_inputs(sources: list[str], limit: int) -> Patch:
    """The patch of every source, reading at most ``limit + 1`` bytes in all."""
    from calctl.errors import DocumentError, UsageError
    from calctl.patch.parse import merge, parse_patch_text

    if not sources:
        if sys.stdin.isatty():
            raise UsageError("no patch given", hint="Pass a patch file, or - to read stdin.")
        sources = ["-"]
    patches = []
    left = limit
    for source in sources:
        if source == "-":
            text, name = sys.stdin.read(left + 1), "<stdin>"
            size = len(text.encode("utf-8", "surrogatepass"))
        else:
            try:
                with open(source, "rb") as handle:
                    raw = handle.read(left + 1)
            except OSError as exc:
                raise UsageError(f"cannot read patch file {source}: {exc.strerror}",
                                 code="no-input") from exc
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                if len(raw) <= left:
                    raise DocumentError(f"{source}: not UTF-8 text") from None
                text = ""  # cut inside a character: too large anyway, said below
            name, size = source, len(raw)
        if size > left:
            raise DocumentError(f"{name}: the patch input is larger than {limit} bytes "
                                "(4 × patch.max_patch_bytes + 1 MiB); nothing was applied",
                                hint="Split the patch, or raise [patch] max_patch_bytes.",
                                code="patch-too-large")
        left -= size
        patches.append(parse_patch_text(text, source=name))
    return merge(patches)


def _render_result(result: PatchResult, *, show_diff: bool) -> None:
    from calctl.output import out_console

    console = out_console()
    label = result.status.replace("_", " ")
    head = f"{label}: patch {result.patch_id}" if result.patch_id else label
    if result.description:
        head += f" — {result.description}"
    console.print(head, style=f"bold {STYLES.get(result.status, '')}".strip(), markup=False)
    for path in result.files:
        console.print(f"  {path}", markup=False)
    for outcome in result.outcomes:
        if outcome.outcome == "already_applied":
            console.print(f"  already applied: edit {outcome.index} ({outcome.op} "
                          f"{outcome.path}): {outcome.detail}", markup=False)
    for reason in result.reasons:
        console.print(f"  - {reason}", markup=False, style="red")
    for run in result.verification:
        state = "timed out" if run.timed_out else f"exit {run.returncode}"
        console.print(f"  verify: {run.command} → {state} ({run.duration:.1f} s)", markup=False)
    if result.status in ("rolled_back", "failed") and result.verification_output:
        console.print("  output (tail):", markup=False)
        for line in result.verification_output.splitlines():
            console.print(f"    {line}", markup=False)
    for note in result.notes:
        if note.startswith(UNTRUSTED_NOTE):
            continue  # a warning, on stderr (see _finish)
        console.print(f"  note: {note}", markup=False, style="dim")
    if show_diff and result.diff:
        console.print(result.diff.rstrip("\n"), markup=False)


def _finish(ctx: typer.Context, json_: bool, result: PatchResult, *, show_diff: bool,
            failing: tuple[str, ...] = FAILED_STATUSES) -> None:
    from calctl.output import print_json

    if wants_json(ctx, json_):
        print_json(result)
    else:
        _render_result(result, show_diff=show_diff)
    _warn([note for note in result.notes if note.startswith(UNTRUSTED_NOTE)])
    if result.status in failing:
        raise typer.Exit(1)


@app.command("apply")
def apply(
    ctx: typer.Context,
    patches: Annotated[list[str] | None, typer.Argument(
        help="Patch files (JSON document, unified diff, LLM reply); - reads stdin. Several "
        "files are applied together, all or nothing.", show_default=False)] = None,
    verify: Annotated[list[str] | None, typer.Option(
        "--verify", help="Command that must pass after the patch (repeatable; split like a "
        "shell would, run without one). Default: [patch] verify.", show_default=False)] = None,
    verify_timeout: Annotated[float | None, typer.Option(
        "--verify-timeout", help="Seconds each verify command may run (default 600).",
        show_default=False)] = None,
    no_verify: Annotated[bool, typer.Option(
        "--no-verify", help="Apply without verification (status applied).")] = False,
    allow_protected: Annotated[bool, typer.Option(
        "--allow-protected", help="Let the patch touch tests, CI files, calctl's config and "
        "applied migrations.")] = False,
    git: Annotated[bool | None, typer.Option(
        "--git/--no-git", help="Commit the verified patch (default: \\[patch] git).",
        show_default=False)] = None,
    git_branch: Annotated[bool | None, typer.Option(
        "--branch/--no-branch", help="With --git: commit on a new calctl/patch-<id> branch "
        "instead of the current one.", show_default=False)] = None,
    lock_timeout: Annotated[float | None, typer.Option(
        "--lock-timeout", help="Seconds to wait for another patch to finish (default 60).",
        show_default=False)] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Apply a patch: validate, snapshot, write atomically, verify, roll back on failure.

    Exit 0 verified/applied/already applied, 1 refused or rolled back, 2 bad input,
    3 locked by another patch.
    """
    from calctl.config import check_range
    from calctl.patch.apply import ApplyOptions, apply_patch
    from calctl.patch.records import Trail

    check_range("patch.verify_timeout", verify_timeout, "--verify-timeout")
    check_range("patch.lock_timeout", lock_timeout, "--lock-timeout")
    context = app_context(ctx)
    settings = context.settings()
    patch = _read_inputs(list(patches or []), input_limit(settings.patch.max_patch_bytes))
    _require_trust(settings, verify=bool(verify), no_verify=no_verify, dry_run=dry_run,
                   allow_protected=allow_protected)
    options = ApplyOptions(
        verify=tuple(verify) if verify else None, verify_timeout=verify_timeout,
        no_verify=no_verify, dry_run=dry_run, allow_protected=allow_protected, git=git,
        git_branch=git_branch, lock_timeout=lock_timeout)
    trail = Trail(None, None) if dry_run else _trail(context)
    result = apply_patch(patch, settings, options, trail)
    _finish(ctx, json_, result, show_diff=dry_run)


def _require_trust(settings: Settings, *, verify: bool, no_verify: bool, dry_run: bool,
                   allow_protected: bool) -> None:
    """Before anything is written or run: an untrusted config may not choose the
    commands calctl runs after writing a patch, nor lift the protection of the files
    that decide what they run."""
    if dry_run:
        return
    if not (verify or no_verify) and settings.patch.verify and \
            settings.from_config_file("patch.verify"):
        settings.require_trusted_config("run its [patch] verify commands")
    if not allow_protected and settings.patch.allow_protected and \
            settings.from_config_file("patch.allow_protected"):
        settings.require_trusted_config("let a patch touch protected files as its "
                                        "[patch] allow_protected says")


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    patch_id: Annotated[str, typer.Argument(help="Patch id (or a unique prefix).",
                                            metavar="ID")],
    force: ForceOpt = False,
    git: Annotated[bool | None, typer.Option(
        "--git/--no-git", help="Make a revert commit when the patch was committed "
        "(default: [patch] git).", show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Restore every file a patch touched, byte for byte, from its snapshot.

    Refused (exit 1) when a touched file changed since the patch, unless --force.
    """
    from calctl.patch.context import PatchEnv
    from calctl.patch.rollback import rollback_patch

    context = app_context(ctx)
    settings = context.settings()
    use_git = settings.patch.git if git is None else git
    result = rollback_patch(PatchEnv.from_settings(settings), patch_id, trail=_trail(context),
                            force=force, git=use_git)
    _finish(ctx, json_, result, show_diff=result.status == "refused",
            failing=("refused",))


@app.command("recover")
def recover(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Finish or undo every patch a crash interrupted (idempotent).

    Exit 0 when nothing is left in flight; 3 when a journal not sealed with your key
    (one a repository shipped, or another machine's) was found and left alone.
    """
    from calctl.output import out_console, print_json, quiet
    from calctl.patch.context import PatchEnv
    from calctl.patch.recover import recover as recover_core

    context = app_context(ctx)
    result = recover_core(PatchEnv.from_settings(context.settings()), _trail(context))
    if wants_json(ctx, json_):
        print_json(result)
    else:
        console = out_console()
        if not result.recovered and not result.skipped and not quiet():
            console.print("nothing to recover", markup=False)
        for item in result.recovered:
            console.print(f"{item.patch_id}: {item.action.replace('_', ' ')} — {item.detail}",
                          markup=False)
        for skipped in result.skipped:
            console.print(f"{skipped.path}: skipped, not trusted — {skipped.reason}",
                          markup=False)
    if result.skipped:
        from calctl.errors import ExitCode

        _warn([f"left {plural(len(result.skipped), 'untrusted journal')} alone: "
               + ", ".join(s.path for s in result.skipped)
               + "; calctl never acts on a journal it did not seal (remove them once you "
               "have checked the files they name)"])
        raise typer.Exit(int(ExitCode.STATE))


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many patches.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Patches applied, verified, rolled back or refused, newest first."""
    from calctl.output import out_console, print_json, quiet
    from calctl.patch.context import PatchEnv
    from calctl.patch.history import list_patches

    context = app_context(ctx)
    result = list_patches(PatchEnv.from_settings(context.settings()), _trail(context), limit)
    if wants_json(ctx, json_):
        print_json(result)
        return
    console = out_console()
    if not result.patches and not quiet():
        console.print("no patches yet", markup=False)
    for item in result.patches:
        files = ", ".join(item.files)
        console.print(f"{item.patch_id}  {item.applied_at[:19]}  {item.status:<15} "
                      f"{item.description[:50]}  {files}", markup=False)


@app.command("show")
def show(
    ctx: typer.Context,
    patch_id: Annotated[str, typer.Argument(help="Patch id (or a unique prefix).",
                                            metavar="ID")],
    json_: JsonOpt = False,
) -> None:
    """Edits, diff, status history and verification output of one patch."""
    from calctl.output import out_console, print_json
    from calctl.patch.context import PatchEnv
    from calctl.patch.history import show_patch

    context = app_context(ctx)
    record = show_patch(PatchEnv.from_settings(context.settings()), _trail(context), patch_id)
    if wants_json(ctx, json_):
        print_json(record)
        return
    console = out_console()
    console.print(f"patch {record.patch_id}: {record.status}", style="bold", markup=False)
    for label, value in (("description", record.description), ("applied", record.applied_at),
                         ("report", record.report_id), ("source", record.source),
                         ("git commit", record.git_commit)):
        if value:
            console.print(f"  {label}: {value}", markup=False)
    console.print("  files: " + ", ".join(record.files), markup=False)
    for i, edit in enumerate(record.edits):
        console.print(f"  edit {i}: {edit.op} {edit.path}"
                      + (f" → {edit.to}" if edit.to else "")
                      + (f" (line {edit.line})" if edit.line else ""), markup=False)
    if record.phases:
        console.print("  history:", markup=False)
        for phase in record.phases:
            detail = f" — {phase.detail}" if phase.detail else ""
            console.print(f"    {phase.ts[:23]}  {phase.phase}{detail}", markup=False)
    for reason in record.reasons:
        console.print(f"  - {reason}", markup=False)
    for run in record.verification:
        state = "timed out" if run.timed_out else f"exit {run.returncode}"
        console.print(f"  verify: {run.command} → {state}", markup=False)
        for line in run.output_tail.splitlines()[-20:]:
            console.print(f"    {line}", markup=False)
    if record.diff:
        console.print(record.diff.rstrip("\n"), markup=False)
