"""Which language a question is in: Chinese vs English by script, the dominant one wins."""

from __future__ import annotations

import re

from rag.types import Language

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str) -> Language:
    """A Han character weighs as one word; acronyms (NV, AEC) in a Chinese sentence don't flip it."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    return "zh" if han and han >= latin else "en"
