"""Reading a patch from whatever a person, ``calctl report`` or an LLM produced.

Accepted, in the order they are recognised:

- a calctl ``patch`` document (edits and/or a unified ``diff``);
- a ``diagnosis`` document (its ``patch`` field);
- the seed's object ``{"file", "line", "oldCode", "newCode", "description"}``, or a list;
- text: SEARCH/REPLACE blocks (path on the line before ``<<<<<<< SEARCH``), fenced
  unified diffs (```` ```diff ````), a fenced ``patch`` JSON document, or a bare
  unified diff (git-style, with new, deleted and renamed files).

Everything becomes a :class:`~calctl.documents.Patch` whose ``edits`` are explicit;
a unified diff is turned into edits here (one ``replace`` per hunk, anchored at
the hunk's line), so validation and application only know one model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from calctl.documents import Diagnosis, Edit, Patch
from calctl.documents.base import check_text
from calctl.documents.patch import MAX_LINE
from calctl.errors import DocumentError, UsageError

_SEARCH = re.compile(r"^<{5,9} ?SEARCH\s*$")
_DIVIDER = re.compile(r"^={5,9}\s*$")
_REPLACE = re.compile(r"^>{5,9} ?REPLACE\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
_DIFF_START = re.compile(r"^(diff --git |--- \S)", re.M)
_SURROGATE = re.compile("[\ud800-\udfff]")

FORMAT_HINT = (
    "Pass a calctl patch document, a diagnosis document, the seed's "
    '{"file", "line", "oldCode", "newCode"} object, SEARCH/REPLACE blocks or a unified diff.'
)


def parse_patch_text(text: str, *, source: str = "input") -> Patch:
    """Turn one input (file content or stdin) into a Patch with explicit edits."""
    stripped = text.strip()
    if not stripped:
        raise DocumentError(f"{source}: empty input, no patch to apply", hint=FORMAT_HINT)
    bad = _SURROGATE.search(text)
    if bad:
        # stdin under a C locale decodes invalid UTF-8 to lone surrogates
        raise DocumentError(f"{source}: not valid UTF-8 (character {bad.start()})",
                            hint="Save the patch as UTF-8.")
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DocumentError(
                f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}", hint=FORMAT_HINT
            ) from exc
        except ValueError as exc:  # an integer of more than 4300 digits
            raise DocumentError(f"{source}: not usable JSON: {str(exc).split(';')[0]}",
                                hint=FORMAT_HINT) from exc
        except RecursionError:  # arrays or objects nested thousands deep
            raise DocumentError(f"{source}: JSON nested too deeply to read",
                                hint=FORMAT_HINT) from None
        return _from_json(data, source)
    return _from_text(text, source)


def merge(patches: Iterable[Patch]) -> Patch:
    """Several inputs given to one ``patch apply`` become one all-or-nothing patch."""
    items = list(patches)
    if len(items) == 1:
        return items[0]
    edits: list[Edit] = []
    for item in items:
        edits.extend(item.edits)
    descriptions = [p.description for p in items if p.description]
    first = items[0]
    return Patch(id=first.id, description="; ".join(descriptions), edits=edits,
                 report_id=first.report_id, fingerprint=first.fingerprint)


# ---------------------------------------------------------------- JSON inputs


def _from_json(data: Any, source: str) -> Patch:
    if isinstance(data, list):
        if not data:
            raise DocumentError(f"{source}: an empty list holds no patch", hint=FORMAT_HINT)
        return merge(_seed(item, f"{source}: [{i}]") for i, item in enumerate(data))
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: expected a JSON object", hint=FORMAT_HINT)
    kind = data.get("kind")
    if kind is None and "file" in data:
        return _seed(data, f"{source}:")
    if kind == "patch":
        try:
            patch: Patch = Patch.from_dict(data)
        except DocumentError as exc:
            raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None
        return expand(patch, source=source)
    if kind == "diagnosis":
        try:
            diagnosis: Diagnosis = Diagnosis.from_dict(data)
        except DocumentError as exc:
            raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None
        if diagnosis.patch is None:
            raise UsageError(
                f"{source}: the diagnosis from {diagnosis.provider} carries no patch"
                f" ({diagnosis.summary[:80]})",
                hint="Nothing to apply; read the diagnosis and fix the problem by hand.",
                code="no-patch",
            )
        inner = diagnosis.patch
        inner = replace(inner, report_id=inner.report_id or diagnosis.report_id,
                        fingerprint=inner.fingerprint or diagnosis.fingerprint,
                        description=inner.description or diagnosis.summary)
        return expand(inner, source=source)
    raise DocumentError(f"{source}: field kind: a {kind!r} document is not a patch",
                        hint=FORMAT_HINT)


def _seed(item: Any, where: str) -> Patch:
    """The seed's ``{file, line, oldCode, newCode, description}`` object."""
    if not isinstance(item, dict):
        raise DocumentError(f"{where} expected an object with file, line, oldCode, newCode")
    for key in ("file", "oldCode", "newCode"):
        if not isinstance(item.get(key), str):
            raise DocumentError(f"{where} field {key}: expected a string, got "
                                f"{item.get(key)!r:.40}", hint=FORMAT_HINT)
    line = item.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool)
                             or not 1 <= line <= MAX_LINE):
        raise DocumentError(f"{where} field line: expected a line number (1 to {MAX_LINE}), "
                            f"got {str(line)[:24]}")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise DocumentError(f"{where} field description: expected a string")
    for key in ("file", "oldCode", "newCode", "description"):
        if key in item:
            _text(item[key], where.rstrip(":"), key)
    if line is None:
        edit = Edit(op="replace", path=item["file"], search=item["oldCode"],
                    replace=item["newCode"])
    else:
        edit = Edit(op="line", path=item["file"], line=line, old=item["oldCode"],
                    new=item["newCode"])
    return Patch(description=description, edits=[edit])


def expand(patch: Patch, *, source: str = "input") -> Patch:
    """A patch whose ``diff`` (if any) is turned into edits after its explicit ones."""
    for i, edit in enumerate(patch.edits):
        _check_edit_fields(edit, source, f"edits[{i}]")
    for name in ("id", "description", "report_id", "fingerprint"):
        _text(getattr(patch, name), source, name)
    if not patch.diff:
        return patch
    _text(patch.diff, source, "diff")
    extra = diff_to_edits(patch.diff, source=source)
    for edit in extra:
        _check_edit_fields(edit, source, f"diff ({edit.path})")
    # The diff is folded into edits (and dropped) so that expanding twice is harmless.
    return replace(patch, edits=[*patch.edits, *extra], diff=None)


_REQUIRED: dict[str, tuple[str, ...]] = {
    "replace": ("search", "replace"),
    "line": ("line", "old", "new"),
    "create": ("content",),
    "delete": (),
    "rename": ("to",),
    "chmod": ("mode",),
}
_TEXT_FIELDS = ("path", "search", "replace", "old", "new", "content", "to")


def _check_edit_fields(edit: Edit, source: str, where: str) -> None:
    """Every input format ends here, so a seed object, SEARCH/REPLACE text or a diff meets
    the same rules as a ``patch`` document (which met them once already)."""
    for name in _REQUIRED[edit.op]:
        if getattr(edit, name) is None:
            raise DocumentError(f"{source}: {where}.{name}: missing (required by op "
                                f"{edit.op!r})")
    if not edit.path:
        raise DocumentError(f"{source}: {where}.path: empty")
    for name in _TEXT_FIELDS:
        value = getattr(edit, name)
        if value is not None:
            _text(value, source, f"{where}.{name}")
    try:
        edit.validate_fields(where)
    except DocumentError as exc:
        raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None


def _text(value: object, source: str, field: str) -> None:
    """A lone surrogate (from a JSON ``\\udcff`` escape) cannot be written as UTF-8."""
    if isinstance(value, str):
        try:
            check_text(value, field)
        except DocumentError as exc:
            raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None


# ---------------------------------------------------------------- text inputs


def _from_text(text: str, source: str) -> Patch:
    text = text.replace("\r\n", "\n")
    blocks = _search_replace_blocks(text, source)
    if blocks:
        return Patch(description="SEARCH/REPLACE blocks from " + source, edits=blocks)
    edits: list[Edit] = []
    for match in _FENCE.finditer(text):
        lang, body = match.group(2).lower(), match.group(3)
        if lang in ("diff", "patch", "udiff") or (not lang and _DIFF_START.match(body)):
            edits.extend(diff_to_edits(body, source=source))
        elif lang == "json" and '"kind"' in body:
            edits.extend(parse_patch_text(body, source=source).edits)
    if edits:
        return Patch(description="patch from " + source, edits=edits)
    start = _DIFF_START.search(text)
    if start:
        return Patch(description="unified diff from " + source,
                     edits=diff_to_edits(text[start.start():], source=source))
    raise DocumentError(f"{source}: no patch found (no JSON document, SEARCH/REPLACE block or "
                        "unified diff)", hint=FORMAT_HINT)


def _clean_path(line: str) -> str:
    path = line.strip().strip("`*").strip()
    path = re.sub(r"^(#+\s*|file(name)?:\s*|path:\s*)", "", path, flags=re.I).strip("`*: ")
    return path


def _search_replace_blocks(text: str, source: str) -> list[Edit]:
    lines = text.splitlines(keepends=True)
    edits: list[Edit] = []
    i = 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        start = i
        path = ""
        for back in range(i - 1, max(i - 4, -1), -1):
            candidate = lines[back].strip()
            if not candidate or candidate.startswith(("```", "~~~")):
                continue
            path = _clean_path(candidate)
            break
        if not path or " " in path:
            raise DocumentError(
                f"{source}:{start + 1}: SEARCH block without a file path on the line before it",
                hint="Put the path of the file alone on the line before <<<<<<< SEARCH.")
        i += 1
        search: list[str] = []
        while i < len(lines) and not _DIVIDER.match(lines[i]):
            search.append(lines[i])
            i += 1
        if i >= len(lines):
            raise DocumentError(f"{source}:{start + 1}: SEARCH block has no ======= line")
        i += 1
        repl: list[str] = []
        while i < len(lines) and not _REPLACE.match(lines[i]):
            repl.append(lines[i])
            i += 1
        if i >= len(lines):
            raise DocumentError(f"{source}:{start + 1}: SEARCH block has no >>>>>>> REPLACE line")
        i += 1
        edits.append(Edit(op="replace", path=path, search="".join(search),
                          replace="".join(repl)))
    return edits


# ---------------------------------------------------------------- unified diffs


def _strip_prefix(name: str, source: str = "input") -> str:
    name = _unquote(name.strip(), source)
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unquote(name: str, source: str) -> str:
    """A path as git writes it: one holding a control character, ``"``, ``\\`` or (by
    default) a non-ASCII byte is C-quoted, with octal escapes for the bytes
    (``"b/\\056git/config"`` is ``b/.git/config``). Unquoted here, so the real name meets
    the path rules (and ``.git`` is refused) instead of a junk name being created."""
    if not name.startswith('"'):
        return name
    match = _QUOTED.fullmatch(name)
    if match is None:
        raise DocumentError(f"{source}: the diff's quoted path {name[:80]} is not closed or "
                            "holds a stray quote", hint="Produce the diff with `git diff`.")
    out = bytearray()
    body = match.group(1)
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _C_ESCAPES:
            out.append(_C_ESCAPES[nxt])
            i += 2
        elif re.fullmatch(r"[0-3][0-7]{2}", body[i + 1:i + 4]):
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            raise DocumentError(f"{source}: the diff's quoted path {name[:80]} holds an "
                                f"unknown escape \\{nxt}", hint="Produce the diff with `git diff`.")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{source}: the diff's quoted path {name[:80]} is not UTF-8",
                            hint="Rename the file to a UTF-8 name.") from None


def diff_to_edits(diff: str, *, source: str = "input") -> list[Edit]:
    """Edits equivalent to a unified diff (git extensions included)."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        patch_set = PatchSet(diff.replace("\r\n", "\n"))
    except UnidiffParseError as exc:
        raise DocumentError(f"{source}: not a valid unified diff: {exc}",
                            hint="Produce it with `git diff` or `diff -u`.") from exc
    if not len(patch_set):
        raise DocumentError(f"{source}: the unified diff changes no file", hint=FORMAT_HINT)
    edits: list[Edit] = []
    for pf in patch_set:
        source_path = _strip_prefix(pf.source_file, source)
        target_path = _strip_prefix(pf.target_file, source)
        info = "".join(str(x) for x in pf.patch_info) if pf.patch_info else ""
        copied = re.search(r"^copy (from|to) .*$", info, re.M)
        if copied:
            # unidiff reads a copy as a rename: applied, the source would be deleted
            raise DocumentError(
                f"{source}: the diff's '{copied.group(0)[:120]}' line: calctl does not apply "
                "copies", hint="Send the new file as a creation (`new file mode`, every "
                "line added) instead.", code="diff-copy")
        if pf.is_removed_file:
            edits.append(Edit(op="delete", path=source_path))
            continue
        if pf.is_binary_file:
            raise DocumentError(f"{source}: the diff changes binary file {pf.path}",
                                hint="calctl only patches text files.", code="binary")
        if pf.is_added_file:
            mode = _git_mode(info, "new file mode", source, target_path)
            content = "".join(_side(h, target=True) for h in pf)
            edits.append(Edit(op="create", path=target_path, content=content, mode=mode))
            continue
        new_mode = _git_mode(info, "new mode", source, target_path)
        _git_mode(info, "old mode", source, source_path)
        rename = getattr(pf, "is_rename", False)
        if rename:
            renamed_from = re.search(r"^rename from (.+)$", info, re.M)
            renamed_to = re.search(r"^rename to (.+)$", info, re.M)
            old = _unquote(renamed_from.group(1).strip(), source) if renamed_from \
                else source_path
            new = _unquote(renamed_to.group(1).strip(), source) if renamed_to else target_path
            edits.append(Edit(op="rename", path=old, to=new))
            target_path = new
        for hunk in pf:
            search = _side(hunk, target=False)
            repl = _side(hunk, target=True)
            anchor = hunk.target_start + (1 if hunk.target_length == 0 else 0)
            edits.append(Edit(op="replace", path=target_path, search=search, replace=repl,
                              line=max(anchor, 1)))
        if new_mode is not None:
            edits.append(Edit(op="chmod", path=target_path, mode=new_mode))
    return edits


_GIT_MODES = {"100644": 0o644, "100755": 0o755}


def _git_mode(info: str, header: str, source: str, path: str) -> int | None:
    """The permission bits of a ``new file mode``/``old mode``/``new mode`` header line.

    git records a regular file as 100644 or 100755 and nothing else; another value is
    a symbolic link (120000), a submodule (160000) or a hand-made mode calctl will not
    set (setuid, group- or world-write), and the whole diff is refused."""
    found = re.search(rf"^{header} (\S+)\s*$", info, re.M)
    if found is None:
        return None
    value = found.group(1)
    if value in _GIT_MODES:
        return _GIT_MODES[value]
    what = {"120000": "a symbolic link", "160000": "a submodule"}.get(value)
    raise DocumentError(
        f"{source}: the diff's '{header} {value[:20]}' line for {path} "
        + (f"makes {what}; calctl patches regular files only" if what
           else "is not a mode a patch may set (git records only 100644 and 100755)"),
        hint="Drop the mode line, or use 100644 or 100755.")


def _side(hunk: Any, *, target: bool) -> str:
    """The old (source) or new (target) text of a hunk, honouring "No newline at end"."""
    wanted = {" ", "+"} if target else {" ", "-"}
    out: list[str] = []
    last_kind = ""
    for line in hunk:
        kind = line.line_type
        if kind == "\\":
            if last_kind in wanted and out and out[-1].endswith("\n"):
                out[-1] = out[-1][:-1]
            continue
        last_kind = kind
        if kind in wanted:
            out.append(line.value)
    return "".join(out)
