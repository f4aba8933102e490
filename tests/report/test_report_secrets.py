"""The secret corpus: one secret of every family detect-secrets knows and of every family
the report issue lists, in a project file, a traceback and a log — so in the message, the
traceback, the snippet, the breadcrumbs and the context. ``report --dry-run --json``, the
store row and every file of the state directory hold none of them, and still hold the
error type, the message's other words, the function name and the relative file name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from calctl.scrub import Scrubber

A = "abcdefghijklmnopqrstuvwxyz"
ALNUM = "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1JkLmNbVcXz0PoIuYtReWq"
B64 = "dGhpcyBpcyBub3QgYSByZWFsIGtleSBidXQgbG9va3MgbGlrZSBvbmUgZm9yIHRlc3Rz"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4"
       "gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM_BODY = ["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
            "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo"]
PEM = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"])

# family → (the secret, a line carrying it as code, config or a log would)
CORPUS: dict[str, tuple[str, str]] = {
    "aws-key-id": ("AKIAZ3MPLQ7TRW5KX2NB", "using key AKIAZ3MPLQ7TRW5KX2NB for s3"),
    "aws-secret": ("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",
                   'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzq81xKEY12"'),
    "github-ghp": ("ghp_" + ALNUM[:36], "clone with ghp_" + ALNUM[:36]),
    "github-gho": ("gho_" + ALNUM[1:37], "oauth gho_" + ALNUM[1:37] + " granted"),
    "github-ghu": ("ghu_" + ALNUM[2:38], "user-to-server ghu_" + ALNUM[2:38]),
    "github-ghs": ("ghs_" + ALNUM[3:39], "installation ghs_" + ALNUM[3:39]),
    "github-ghr": ("ghr_" + ALNUM[4:40], "refresh ghr_" + ALNUM[4:40]),
    "github-pat": ("github_pat_11AB" + ALNUM[:40], "GH=github_pat_11AB" + ALNUM[:40]),
    "openai": ("sk-" + ALNUM[:48], "openai key sk-" + ALNUM[:48] + " rejected"),
    "openai-proj": ("sk-proj-" + ALNUM + "X1", "client(api='sk-proj-" + ALNUM + "X1')"),
    "anthropic": ("sk-ant-api03-" + ALNUM + "-" + ALNUM[:20] + "AA",
                  "anthropic sk-ant-api03-" + ALNUM + "-" + ALNUM[:20] + "AA"),
    "slack-token": ("xoxb-123456789012-1234567890123-" + ALNUM[:24],
                    "slack xoxb-123456789012-1234567890123-" + ALNUM[:24]),
    "slack-webhook": ("T0AB12CD3/B0EF45GH6/" + ALNUM[:24],
                      "post to https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/"
                      + ALNUM[:24]),
    "stripe": ("sk_live_" + ALNUM[5:29], "stripe sk_live_" + ALNUM[5:29]),
    "google": ("AIza" + ALNUM[:35], "maps AIza" + ALNUM[:35]),
    "gitlab": ("glpat-" + ALNUM[6:26], "gitlab glpat-" + ALNUM[6:26]),
    "npm": ("npm_" + ALNUM[7:43], "//registry.npmjs.org/:_authToken=npm_" + ALNUM[7:43]),
    "pypi": ("pypi-AgEIcHlwaS5vcmc" + ALNUM + ALNUM[:30],
             "upload with pypi-AgEIcHlwaS5vcmc" + ALNUM + ALNUM[:30]),
    "sendgrid": ("SG." + ALNUM[:22] + "." + ALNUM[:43], "mail SG." + ALNUM[:22] + "."
                 + ALNUM[:43]),
    "twilio": ("AC" + "0123456789abcdef" * 2, "twilio AC" + "0123456789abcdef" * 2),
    "telegram": ("123456789:AA" + ALNUM[:33], "bot 123456789:AA" + ALNUM[:33]),
    "jwt": (JWT, "cookie jwt " + JWT),
    "private-key": (PEM_BODY[1], PEM),
    "url-password": ("Wint3rIsComing42", "db postgresql://shop:Wint3rIsComing42@db.internal/shop"),
    "bearer": ("abcDEF123ghiJKL456mnoPQR789", "Authorization: Bearer abcDEF123ghiJKL456mnoPQR789"),
    "basic": ("dXNlcjpwYXNzd29yZDEyMw==", "authorization: Basic dXNlcjpwYXNzd29yZDEyMw=="),
    "password-kv": ("CorrectHorse99", "login password=CorrectHorse99 failed"),
    "secret-json": ("v4lue-of-the-secret-77", '{"client_secret": "v4lue-of-the-secret-77"}'),
    "token-kwarg": ("tkn-9988-xyz-abc", "connect(host='db', token='tkn-9988-xyz-abc')"),
    "api-key-yaml": ("k3y-val-55443", "api_key: k3y-val-55443"),
    "libpq": ("L1bpqPass!x", "host=db user=app password=L1bpqPass!x dbname=shop"),
    "azure": ("Zm9vYmFy" * 11, "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey="
              + "Zm9vYmFy" * 11 + ";EndpointSuffix=core.windows.net"),
    "mssql": ("MsSqlPw#2024", "Server=db;Database=shop;User Id=sa;Password=MsSqlPw#2024;"),
    "high-entropy": (ALNUM[:32], 'settings = {"x": "' + ALNUM[:32] + '"}'),
    "hex-entropy": ("8f14e45fceea167a5a36dedd4bea2543",
                    "etag = '8f14e45fceea167a5a36dedd4bea2543'"),
    "env": ("quartz-ember-willow-77", "signing with quartz-ember-willow-77 now"),
    "email": ("alice.smith@example.org", "order placed by alice.smith@example.org"),
    "artifactory": ("AKCp8" + ALNUM[:60], "artifactory AKCp8" + ALNUM[:60] + " ok"),
    "discord": ("MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0",
                "discord MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0"),
    "mailchimp": ("0123456789abcdef0123456789abcdef-us12",
                  "mailchimp 0123456789abcdef0123456789abcdef-us12"),
    "square": ("sq0csp-" + ALNUM[:43], "square sq0csp-" + ALNUM[:43]),
    "ibm-iam": ("abcdefghij_klmnopqrstuvwxyz0123456789ABCDEFG",
                'ibm_cloud_iam_api_key = "abcdefghij_klmnopqrstuvwxyz0123456789ABCDEFG"'),
}
ENV = {"SHOP_SIGNING_KEY": "quartz-ember-willow-77"}
FAMILIES = sorted(CORPUS)
CHUNKS = [FAMILIES[i:i + 9] for i in range(0, len(FAMILIES), 9)]


def _lines(families: list[str]) -> list[str]:
    return [line for family in families for line in CORPUS[family][1].splitlines()]


def _project(shop: Path, families: list[str]) -> int:
    """app/billing.py with the chunk's secret lines around the failing line; its number."""
    before = [f"# {line}" for line in _lines(families)]
    body = ["def charge_card(order):", *("    " + b for b in before),
            "    raise CardDeclinedError(order)", *("    " + b for b in before)]
    (shop / "app" / "billing.py").write_text("\n".join(body) + "\n")
    (shop / "calctl.toml").write_text(
        '[report]\nproviders = []\ncontext_lines = 50\nbreadcrumbs = 100\n')
    return 2 + len(before)


def _traceback(shop: Path, families: list[str], line: int) -> str:
    single = [CORPUS[f][1] for f in families if "\n" not in CORPUS[f][1]]
    out = ["Traceback (most recent call last):"]
    for code in single:
        out += [f'  File "{shop}/app/billing.py", line {line}, in charge_card', f"    {code}"]
    message = "card declined for order 4411 " + " ".join(single)
    pem = [CORPUS[f][1] for f in families if "\n" in CORPUS[f][1]]
    out.append(f"CardDeclinedError: {message}")
    out += [p for block in pem for p in block.splitlines()]
    return "\n".join(out)


def _check(text: str, families: list[str], where: str) -> None:
    for family in families:
        secret = CORPUS[family][0]
        assert secret not in text, f"{family} secret survives in {where}"
    for word in ("CardDeclinedError", "card declined for order", "charge_card",
                 "app/billing.py"):
        assert word in text, f"{word!r} is missing from {where}"


def _state(shop: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in (shop / ".calctl").rglob("*") if p.is_file())


@pytest.mark.parametrize("families", CHUNKS, ids=[c[0] for c in CHUNKS])
def test_no_secret_leaves_from_a_log(calctl: Any, shop: Path, families: list[str]) -> None:
    line = _project(shop, families)
    log = "\n".join([*_lines(families), _traceback(shop, families, line)]) + "\n"
    result = calctl("report", "--dry-run", "--json", "-", cwd=shop, input=log, env=ENV)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["file"] == "app/billing.py" and doc["error_type"] == "CardDeclinedError"
    for field in ("error", "traceback"):
        _check(doc[field] + " CardDeclinedError card declined for order charge_card "
               "app/billing.py", families, field)
    assert len(doc["breadcrumbs"]) >= len(_lines(families))
    _check(result.stdout, families, "the --dry-run --json output")
    _check(_state(shop), families, "the state directory")
    assert doc["redactions"] >= len(families)


@pytest.mark.parametrize("families", CHUNKS, ids=[c[0] for c in CHUNKS])
def test_no_secret_leaves_from_a_finding(calctl: Any, shop: Path,
                                         families: list[str]) -> None:
    line = _project(shop, families)
    finding = {"kind": "finding", "version": 1, "check": "checkout", "source": "command",
               "error": "CardDeclinedError: card declined for order 4411 "
               + " ".join(_lines(families)),
               "file": "app/billing.py", "line": line,
               "traceback": _traceback(shop, families, line),
               "data": {"request": _lines(families),
                        "headers": {CORPUS[f][1].split()[0]: CORPUS[f][1] for f in families}}}
    result = calctl("report", "--dry-run", "--json", "-", cwd=shop, input=json.dumps(finding),
                    env=ENV)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    _check(json.dumps(doc["context"]) + " CardDeclinedError card declined for order "
           "charge_card app/billing.py", families, "context")
    assert "".join(doc["snippet"]["lines"]).count("[REDACTED:") >= len(families)
    _check(result.stdout, families, "the --dry-run --json output")
    _check(_state(shop), families, "the state directory")


def test_every_family_is_redacted_in_process() -> None:
    scrubber = Scrubber(environ=ENV)
    for family, (secret, line) in CORPUS.items():
        assert secret not in scrubber.scrub(line), family


def test_scrubbing_twice_changes_nothing_and_counts_once() -> None:
    scrubber = Scrubber(environ=ENV)
    once = scrubber.scrub("\n".join(line for _, line in CORPUS.values()))
    counts = dict(scrubber.counts)
    assert scrubber.scrub(once) == once
    assert scrubber.counts == counts


def test_words_around_secrets_survive() -> None:
    scrubber = Scrubber()
    assert scrubber.scrub("invalid token: expected 3 segments") == \
        "invalid token: expected 3 segments"
    assert scrubber.scrub("result = get_password()") == "result = get_password()"
    assert scrubber.scrub("password=None") == "password=None"
    assert scrubber.scrub("user=alice password=pw12345 host=db") == \
        "user=alice password=[REDACTED:keyword] host=db"


def test_scrub_keys_and_safe_keys() -> None:
    scrubber = Scrubber(scrub_keys=("pin",), safe_keys=("session_timeout",))
    assert scrubber.scrub("pin=4242 session_timeout=30 session_id=abc123") == \
        "pin=[REDACTED:keyword] session_timeout=30 session_id=[REDACTED:keyword]"
