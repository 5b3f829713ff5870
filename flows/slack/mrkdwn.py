"""Slack mrkdwn: escaping data so it can never ping anyone, LLM markdown to mrkdwn, safe splitting."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_HOST = re.compile(r"[a-z0-9.-]+")


# C0 and C1 control characters and DEL, except tab and newline: a terminal acts on them (ESC
# sequences set its title, clear it, hide text), and no message needs them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without control characters (tab and newline kept)."""
    return _CONTROL.sub("", text)


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (`&`, `<`, `>`), and drop control characters.

    `<!channel>`, `<@U123>` and `<#C1>` in data become inert text; nothing else needs escaping. Every
    text from data goes through here before it is posted, previewed or printed.
    """
    return strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis (for labels, not bodies)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_to_mrkdwn(markdown: str) -> str:
    """Convert an LLM's markdown answer to escaped Slack mrkdwn.

    `**b**` → `*b*`, headings → bold lines, bullets → `•`, `[text](url)` → `<url|text> (host)` for
    http(s) links only (any other scheme stays visible text). Everything is escaped first, so the
    model cannot produce a mention or a link Slack would act on. Code and links are set aside while the
    emphasis is converted, so `__init__` in a URL or code stays as written.
    """
    kept: list[str] = []

    def keep(text: str) -> str:
        kept.append(text)
        return f"\x00{len(kept) - 1}\x00"

    text = escape(markdown.replace("\r\n", "\n"))
    text = _CODE.sub(lambda match: keep(match.group(0)), text)
    text = _LINK.sub(lambda match: keep(_link(match)), text)
    text = _HEADING.sub(lambda match: f"*{match.group(1).strip('*')}*", text)
    text = _BOLD.sub(_bold, text)
    text = _STRIKE.sub(r"~\1~", text)
    text = _BULLET.sub(r"\1• ", text)
    return re.sub("\x00(\\d+)\x00", lambda match: kept[int(match.group(1))], text)


def _link(match: re.Match[str]) -> str:
    """A link with the host it opens beside its text: ticket text can steer the model into a
    friendly label (`[사내 로그인](https://evil…)`), so the label alone is never trusted."""
    label, url = match.group(1), match.group(2)
    host = _host(url)
    if host is None or "|" in url:
        return f"{label} ({url})"
    link = f"<{url}|{label.replace('|', '¦')}>"
    return link if label.lower() in (url.lower(), host) else f"{link} ({host})"


def _host(url: str) -> str | None:
    """The host (and port) an http(s) URL opens, in ASCII so a look-alike Unicode host shows as
    `xn--…`; None when it is not one Slack could open."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    if not _HOST.fullmatch(host):
        return None
    return f"{host}:{port}" if port else host


def _bold(match: re.Match[str]) -> str:
    """`*text*`, with zero-width spaces where it touches a word: Slack renders bold only at word
    boundaries, and in Korean a particle often follows straight after (`**굵게**입니다`)."""
    text, start, end = match.string, match.start(), match.end()
    before = "\u200b" if start > 0 and text[start - 1].isalnum() else ""
    after = "\u200b" if end < len(text) and text[end].isalnum() else ""
    return f"{before}*{match.group(1) or match.group(2)}*{after}"


def split(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters without losing any of it.

    Breaks at the last paragraph, line or space boundary before the limit; only a single word
    longer than the limit is cut inside, and never inside an escape like `&amp;`.
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:  # no good boundary: cut inside the word, but not inside an entity
            entity = _ENTITY_TAIL.search(window)
            cut = entity.start() if entity else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
