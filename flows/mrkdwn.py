"""Slack mrkdwn: escaping data so it can never ping anyone, LLM markdown to mrkdwn, safe splitting."""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (`&`, `<`, `>`).

    `<!channel>`, `<@U123>` and `<#C1>` in data become inert text; nothing else needs escaping.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis (for labels, not bodies)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_to_mrkdwn(markdown: str) -> str:
    """Convert an LLM's markdown answer to escaped Slack mrkdwn.

    `**b**` → `*b*`, headings → bold lines, bullets → `•`, `[text](url)` → `<url|text>` for http(s)
    links only (any other scheme stays visible text). Everything is escaped first, so the model
    cannot produce a mention or a link Slack would act on.
    """
    text = escape(markdown.replace("\r\n", "\n"))
    text = _LINK.sub(_link, text)
    text = _HEADING.sub(lambda match: f"*{match.group(1).strip('*')}*", text)
    text = _BOLD.sub(lambda match: f"*{match.group(1) or match.group(2)}*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _BULLET.sub(r"\1• ", text)


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if re.match(r"https?://", url) and "|" not in url:
        return f"<{url}|{label.replace('|', '¦')}>"
    return f"{label} ({url})"


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
