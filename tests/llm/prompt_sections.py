"""Reading a prompt back: the text between two of its headings, and its fenced customer data."""

from __future__ import annotations

import re

from flows.llm.prompt import DATA_END, DATA_START


def section(prompt: str, start: str, end: str) -> str:
    """The prompt text between a line starting with `start` and the next line starting with `end`."""
    match = re.search(rf"^{re.escape(start)}.*?$(.*?)^{re.escape(end)}", prompt, re.MULTILINE | re.DOTALL)
    assert match, f"no section {start!r} … {end!r} in the prompt"
    return match.group(1)


def data_block(prompt: str) -> str:
    """The fenced customer data of a prompt."""
    return section(prompt, DATA_START, DATA_END)
