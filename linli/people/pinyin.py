"""Pinyin keys for searching Chinese names: full pinyin and initials, with every reading of the
surname (单 dan/shan/chan, 曾 zeng/ceng, 仇 qiu/chou…), since a worker types what they hear.

Readings are cached per character: names repeat their characters endlessly, and pypinyin costs
~30 µs per name but a dictionary hit costs nothing.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, pinyin


@lru_cache(maxsize=20000)
def _readings(char: str, all_readings: bool) -> tuple[str, ...]:
    found = pinyin(char, style=Style.NORMAL, heteronym=all_readings, errors="ignore")
    if not found:
        return (char.lower(),) if char.isascii() and char.isalnum() else ()
    readings = tuple(dict.fromkeys(r.lower() for r in found[0] if r))
    return readings if all_readings else readings[:1]


def name_keys(name: str) -> tuple[str, str]:
    """(full pinyin variants, initials variants), each space-separated, for a name."""
    chars = [c for c in name.strip() if not c.isspace()]
    if not chars:
        return "", ""
    surname = _readings(chars[0], True) or ("",)
    rest = "".join((_readings(c, False) or ("",))[0] for c in chars[1:])
    rest_initials = "".join((_readings(c, False) or ("",))[0][:1] for c in chars[1:])
    full = " ".join(dict.fromkeys(s + rest for s in surname))
    initials = " ".join(dict.fromkeys(s[:1] + rest_initials for s in surname))
    return full, initials
