"""Reading the documents whose commands and queries the tests run as written: a section of a
markdown file, and its fenced code blocks."""

from __future__ import annotations

import re
from pathlib import Path


def section(document: Path, heading: str) -> str:
    """The text of a markdown section, its heading line included, up to the next heading of the
    same or a higher level (lines inside fenced code blocks, such as shell comments, are not
    headings)."""
    level = len(heading.split(" ")[0])
    taken, fenced = None, False
    for line in document.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line == heading:
            taken = [line]
            continue
        elif not fenced and taken is not None and re.match(rf"#{{1,{level}}} ", line):
            break
        if taken is not None:
            taken.append(line)
    assert taken is not None, f"{heading} is not in {document}"
    return "\n".join(taken) + "\n"


def code_blocks(text: str, language: str = r"\w*") -> list[str]:
    """The fenced code blocks of `language` (default: any, or none)."""
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
