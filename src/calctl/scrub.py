"""Scrubbing what leaves the machine in a bug report.

What leaves the machine in a bug report goes through :class:`Scrubber`: every secret
becomes ``[REDACTED:<type>]`` and is counted per type. detect-secrets' regex plugins
supply the vendor-token patterns (read from the plugin classes, so an upgrade brings
new ones); the rules below extend them where the plugins are narrow (sk-proj-, sk-ant-,
github_pat_, AIza, test-mode Stripe keys, npm_, whole PEM blocks) and add what a
scanner of source files does not look for: credentials in URLs, Authorization values,
values of secret-looking keys (Sentry's denylist), connection-string keys, the values of
secret-looking environment variables, e-mail addresses. Each rule runs over the whole
text at C speed, skipped when a cheap needle is absent; nothing is scanned line by line.

Kept apart from :mod:`calctl.redact` (which every command imports to mask a database
URL) because its rules cost ~15 ms to compile: only ``calctl report`` and the healer pay.
"""

from __future__ import annotations

import re
from typing import Any

from calctl.redact import URL_USERINFO, split_userinfo

REDACTED = "[REDACTED:{}]"

# Sentry's default denylist of keys (relay's and the SDK's), matched as substrings
SECRET_KEYS = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "api[_-]?key", "auth",
    "credential", "private[_-]?key", "session", "cookie", "csrf", "xsrf", "access[_-]?key",
    "signature",
)
_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|PWD|PASS|CREDENTIAL|AUTH|DSN|PRIVATE|SESSION|"
                       r"COOKIE|SIGNATURE", re.I)
_ENV_NOT_SECRET = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO",
                             "KEYTIMEOUT"})
_PEM = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]*PRIVATE "
    r"KEY(?: BLOCK)?-----|(?:(?:\\n|\s)*(?:[A-Za-z0-9+/=]{8,}|[\w-]+: .*))*)")
# (type, needles, pattern; group 1 is the secret when the pattern has groups). Every match
# holds one of the needles (lowercase: looked for in the lowercased text; "=" first:
# case-sensitive), so only the lines holding one are searched; a rule without needles
# runs over the whole text.
_GL = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-",
       "glagent-", "gloas-", "gr1348941")
_KEYWORDS = ("key", "pw", "pass", "token", "secret")
_OWN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("anthropic-key", ("sk-ant-",), r"sk-ant-[a-z0-9]{2,8}\d{0,3}-[A-Za-z0-9_-]{20,}"),
    ("openai-key", ("sk-",), r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
    ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9_]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("aws-access-key", ("a3t", "abia", "acca", "akia", "asia"),
     r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[A-Z0-9]{16}"),
    ("aws-secret-key", ("aws",), r"(?i)aws.{0,24}?(?:secret|key|pwd|pw|password|pass|token)"
                                 r".{0,24}?[=:]\s*['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
    ("slack-webhook", ("hooks.slack.com",),
     r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_+-]+"),
    ("slack-token", ("xox",), r"xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("stripe-key", ("_live_", "_test_", "whsec_"),
     r"(?<![A-Za-z0-9])(?:sk|rk|pk)_(?:live|test)_[0-9a-zA-Z]{16,}|whsec_[0-9a-zA-Z]{24,}"),
    ("google-api-key", ("aiza",), r"AIza[0-9A-Za-z_-]{35}"),
    ("gitlab-token", _GL, r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|oas)-[A-Za-z0-9_-]{20,}"),
    ("npm-token", ("npm_",), r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}"),
    ("pypi-token", ("pypi-",), r"pypi-[A-Za-z0-9_-]{50,}"),
    ("sendgrid-key", ("=SG.",), r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"),
    ("twilio-key", ("=AC", "=SK"), r"(?<![A-Za-z0-9])(?:AC|SK)[a-fA-F0-9]{32}(?![A-Za-z0-9])"),
    ("telegram-token", (":aa",), r"(?<!\d)\d{8,10}:AA[0-9A-Za-z_-]{33}"),
    ("jwt", ("eyj",), r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"),
)
# needles of detect-secrets' plugins by their type; a plugin not named here (a new one
# after an upgrade) runs over the whole text
_PLUGIN_NEEDLES: dict[str, tuple[str, ...]] = {
    "aws-access-key": ("a3t", "abia", "acca", "akia", "asia", "aws"),
    "artifactory-credentials": ("=AKC", "=AP"),
    "azure-storage-account-access-key": ("accountkey=",),
    "cloudant-credentials": (*_KEYWORDS, "cloudant.com"),
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "gitlab-token": _GL,
    "ibm-cloud-iam-key": _KEYWORDS,
    "ibm-cos-hmac-credentials": _KEYWORDS,
    "json-web-token": ("eyj",),
    "mailchimp-access-key": ("-us",),
    "npm-tokens": ("_authtoken",),
    "openai-token": ("t3blbkfj",),
    "pypi-token": ("pypi-",),
    "sendgrid-api-key": ("=SG.",),
    "slack-token": ("xox", "hooks.slack.com"),
    "softlayer-credentials": (*_KEYWORDS, "softlayer.com"),
    "square-oauth-secret": ("sq0csp-",),
    "stripe-access-key": ("k_live_",),
    "twilio-api-key": ("=AC", "=SK"),
}
# detect-secrets plugins our own rules replace (or that find no secret in a report)
_SKIPPED_PLUGINS = frozenset({"KeywordDetector", "Base64HighEntropyString",
                              "HexHighEntropyString", "BasicAuthDetector",
                              "PrivateKeyDetector", "IPPublicDetector",
                              "TelegramBotTokenDetector"})  # ours needs no ":" needle
_AUTHORIZATION = re.compile(
    r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest|"
    r"negotiate|apikey)\s+)?)([^\s\"',;]+)|(\bbearer\s+)([A-Za-z0-9._~+/=-]{8,})")
_CONNECTION_KEYS = re.compile(
    r"\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|PWD|Pwd|"
    r"PrimaryKey|SecretKey)=([^;\s\"'&]+)")
_BARE_BLOB = re.compile(r"(?m)^([ \t#/*;>-]*)([A-Za-z0-9+/]{40,}={0,2})([ \t]*)$")
_QUOTED = re.compile(r"([\"'])([A-Za-z0-9+/=_.~-]{16,})\1")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_CODE_VALUE = re.compile(r"[A-Za-z_][\w.]*[(\[]|(?:None|null|true|false|True|False|nil)\b")
_WORD = re.compile(r"[A-Za-z]+")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _entropy(data: str) -> float:
    import math

    counts: dict[str, int] = {}
    for char in data:
        counts[char] = counts.get(char, 0) + 1
    size = len(data)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


class Scrubber:
    """Redacts every secret in text to ``[REDACTED:<type>]``; :attr:`counts` says how many
    of each type it redacted so far.

    ``scrub_keys`` add key words to the denylist and ``safe_keys`` name keys whose values
    stay (``[report] scrub_keys`` / ``safe_keys``, as Sentry's settings do); the values of
    the secret-looking variables of ``environ`` are redacted wherever they appear.
    Redacting twice changes nothing: a marker is never taken for a secret.
    """

    def __init__(self, *, scrub_keys: tuple[str, ...] = (), safe_keys: tuple[str, ...] = (),
                 environ: dict[str, str] | None = None) -> None:
        self.counts: dict[str, int] = {}
        self._safe = frozenset(_norm_key(k) for k in safe_keys)
        words = "|".join((*SECRET_KEYS, *(re.escape(k.lower()) for k in scrub_keys)))
        self._keyword = re.compile(
            rf"(?i)(?:{words})[A-Za-z0-9_.-]*(?P<q>[\"']?)[ \t]*(?P<sep>=>|=|:)[ \t]*"
            r"(?P<val>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|[^\s,;&\"'}\])<>]+)")
        self._env_values = _env_values(environ or {})
        self._env = (re.compile("|".join(re.escape(v) for v in self._env_values))
                     if self._env_values else None)
        rules = _vendor_rules()
        self._vendor = [rule for rule in rules if rule[1]]
        self._whole = [(kind, pattern) for kind, needles, pattern in rules if not needles]
        self._key_needles = ("pass", "pwd", "secret", "token", "key", "auth", "credential",
                             "session", "cookie", "csrf", "xsrf", "signature",
                             *(k.lower() for k in scrub_keys))
        needles = {n for _, ns, _ in self._vendor for n in ns}
        needles.update(self._key_needles)
        needles.update(("://", "authorization", "bearer", "@", "accountkey=", "sharedaccess",
                        "password=", "pwd=", "primarykey=", "secretkey="))
        low = {n for n in needles if n[0] != "="}
        # a needle holding another is found by it: each find is a pass over the text
        self._needles = tuple(sorted(n for n in low if not any(m != n and m in n for m in low)))
        self._cased = tuple(sorted(n[1:] for n in needles if n[0] == "="))

    def scrub(self, text: str) -> str:
        """``text`` with every secret redacted."""
        if not text:
            return text
        if "private key" in text.lower():
            text = _PEM.sub(self._pem, text)
        spans = self._candidates(text)
        if spans:
            parts: list[str] = []
            last = 0
            for start, end in spans:
                parts.append(text[last:start])
                parts.append(self._line(text[start:end]))
                last = end
            parts.append(text[last:])
            text = "".join(parts)
        for kind, pattern in self._whole:
            text = self._sub(pattern, text, kind)
        if self._env is not None and any(value in text for value in self._env_values):
            text = self._sub(self._env, text, "env", whole=True)
        if "'" in text or '"' in text:
            text = _QUOTED.sub(self._high_entropy, text)
        return _BARE_BLOB.sub(self._blob, text)

    def _candidates(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) of every line holding a needle, in order, merged."""
        low = text.lower()
        starts: set[int] = set()
        for hay, needles in ((low, self._needles), (text, self._cased)):
            for needle in needles:
                at = hay.find(needle)
                while at >= 0:
                    start = text.rfind("\n", 0, at) + 1
                    starts.add(start)
                    end = text.find("\n", at)
                    if end < 0:
                        break
                    at = hay.find(needle, end)
        spans = []
        for start in sorted(starts):
            end = text.find("\n", start)
            spans.append((start, len(text) if end < 0 else end))
        return spans

    def _line(self, line: str) -> str:
        """Every line-sized rule on one line that holds a needle."""
        low = line.lower()
        if "://" in line:
            line = URL_USERINFO.sub(self._userinfo, line)
        if "authorization" in low or "bearer" in low:
            line = _AUTHORIZATION.sub(self._authorization, line)
        for kind, needles, pattern in self._vendor:
            if any((n[1:] in line) if n[0] == "=" else (n in low) for n in needles):
                line = self._sub(pattern, line, kind)
        if "=" in line:
            line = self._sub(_CONNECTION_KEYS, line, "connection-string")
        if ("=" in line or ":" in line) and any(k in low for k in self._key_needles):
            line = self._keyword.sub(self._key_value, line)
        if "@" in line:
            line = self._sub(_EMAIL, line, "email", whole=True)
        return line

    def _count(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return REDACTED.format(kind)

    def _sub(self, pattern: re.Pattern[str], text: str, kind: str, *,
             whole: bool = False) -> str:
        def one(match: re.Match[str]) -> str:
            if "[REDACTED:" in match.group(0):
                return match.group(0)  # already redacted: count it once
            if whole or match.lastindex is None:
                found = match.group(0)
                core = found.strip(" \t=:\"'")
                start = found.index(core) if core else 0
                return found[:start] + self._count(kind) + found[start + len(core):]
            index = match.lastindex
            rel_start = match.start(index) - match.start()
            rel_end = match.end(index) - match.start()
            found = match.group(0)
            return found[:rel_start] + self._count(kind) + found[rel_end:]

        return pattern.sub(one, text)

    def _pem(self, match: re.Match[str]) -> str:
        # one marker a line: the lines of a snippet keep their numbers
        marker = self._count("private-key")
        return "\n".join(marker for _ in match.group(0).split("\n"))

    def _blob(self, match: re.Match[str]) -> str:
        """A line that is one long base64 run (a key's body seen without its BEGIN line)."""
        value = match.group(2)
        if _entropy(value) <= 4.5:
            return match.group(0)
        return match.group(1) + self._count("high-entropy") + match.group(3)

    def _userinfo(self, match: re.Match[str]) -> str:
        parts = split_userinfo(match.group("userinfo"), match.group("scheme"))
        if parts is not None and parts[1].startswith("[REDACTED:"):
            return match.group(0)
        if parts is None:
            inner = URL_USERINFO.sub(self._userinfo, match.group("userinfo"))
            return match.group("scheme") + inner + "@"
        return f"{match.group('scheme')}{parts[0]}:{self._count('url-credentials')}@"

    def _authorization(self, match: re.Match[str]) -> str:
        head, value = (match.group(1), match.group(2)) if match.group(1) is not None \
            else (match.group(3), match.group(4))
        if value.startswith("[REDACTED") or value.lower() in ("bearer", "basic"):
            return match.group(0)
        return head + self._count("authorization")

    def _key_value(self, match: re.Match[str]) -> str:
        value = match.group("val")
        if value.lstrip("\"'").startswith("[REDACTED") or _CODE_VALUE.match(value) \
                or value in ("***", ""):
            return match.group(0)
        start = match.start()
        text = match.string
        while start > 0 and text[start - 1] in _KEY_CHARS:
            start -= 1
        key = text[start:match.start()] + match.group(0)[:match.start("q") - match.start()]
        if _norm_key(key) in self._safe:
            return match.group(0)
        quoted = value[:1] in "\"'"
        if match.group("sep") == ":" and not quoted and not match.group("q") \
                and _WORD.fullmatch(value) and text[match.end():match.end() + 2].strip(" ") \
                and text[match.end():match.end() + 1] == " ":
            return match.group(0)  # prose: "invalid token: expected 3 segments"
        inner = value[1:-1] if quoted and len(value) >= 2 else value
        if quoted and not inner:
            return match.group(0)
        replaced = (value[0] + self._count("keyword") + value[-1]) if quoted \
            else self._count("keyword")
        return match.group(0)[:match.start("val") - match.start()] + replaced

    def _high_entropy(self, match: re.Match[str]) -> str:
        value = match.group(2)
        hexdigits = all(c in "0123456789abcdefABCDEF" for c in value)
        limit = 3.0 if hexdigits else 4.5
        if hexdigits and value.isdigit():
            return match.group(0)
        if _entropy(value) <= limit:
            return match.group(0)
        quote = match.group(1)
        return quote + self._count("high-entropy") + quote


def _norm_key(key: str) -> str:
    return key.strip("\"' ").lower().replace("-", "_")


def _env_values(environ: dict[str, str]) -> list[str]:
    """Values of the secret-looking variables of ``environ``, longest first."""
    values = {value for name, value in environ.items()
              if _ENV_NAME.search(name) and name.upper() not in _ENV_NOT_SECRET
              and len(value) >= 6 and value.lower() not in ("true", "false", "none", "null")
              and not value.startswith("/")}
    return sorted(values, key=len, reverse=True)


_VENDOR_CACHE: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = []


def _vendor_rules() -> list[tuple[str, tuple[str, ...], re.Pattern[str]]]:
    """Our own vendor rules, then every regex of detect-secrets' plugins (imported here:
    the plugins import ``requests``, which no other command should pay for)."""
    if _VENDOR_CACHE:
        return _VENDOR_CACHE
    rules = [(kind, needles, re.compile(pattern)) for kind, needles, pattern in _OWN]
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    plugins: dict[str, Any] = dict(get_mapping_from_secret_type_to_class())
    for secret_type, cls in sorted(plugins.items()):
        if cls.__name__ in _SKIPPED_PLUGINS or not issubclass(cls, RegexBasedDetector):
            continue
        kind = _slug(secret_type)
        for regex in cls.denylist:
            rules.append((kind, _PLUGIN_NEEDLES.get(kind, ()), regex))
    _VENDOR_CACHE.extend(rules)
    return _VENDOR_CACHE
