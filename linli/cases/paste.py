"""Reading a message pasted from a WeChat group: the intake form filled in from its text.

A worker copies a resident's message (“3栋2单元楼道灯坏了一个星期了，电话13812345678”) and the form
is pre-filled: the building named in it, a category from its words, a mobile number, the text as
the description. Everything is a suggestion the worker checks before saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from linli.core.identifiers import normalize_text

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_BUILDING = re.compile(r"(\d{1,3}|[A-Za-z]\d{0,2})\s*(?:号楼|栋|幢|座|号)")
# The first word found decides: more specific words first.
KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("lift", ("电梯", "困梯")),
    ("leak", ("漏水", "渗水", "水管", "爆管")),
    ("lighting", ("路灯", "楼道灯", "灯不亮", "灯坏")),
    ("fire", ("消防", "堵塞通道", "飞线充电", "电动车充电")),
    ("rubbish", ("垃圾", "清运", "分类")),
    ("greenery", ("绿化", "树枝", "草坪")),
    ("parking", ("停车", "车位", "占道")),
    ("noise", ("噪音", "太吵", "扰民", "装修声")),
    ("care", ("独居老人", "老人", "残疾")),
    ("safety", ("治安", "小偷", "盗窃", "陌生人")),
    ("neighbours", ("邻居", "纠纷", "吵架")),
    ("property", ("物业",)),
    ("repairs", ("维修", "坏了", "损坏")),
    ("policy", ("政策", "咨询", "怎么办理", "补贴")),
    ("suggestion", ("建议", "希望")),
]


@dataclass
class Guess:
    description: str
    phone: str = ""
    category_code: str = ""
    building_id: int | None = None
    notes: list[str] = field(default_factory=list)


def guess(text: str, buildings: list[Any]) -> Guess:
    """``buildings``: places with ``pk``, ``code`` and ``name``, those the worker may file for."""
    text = text.strip()
    # WeChat copies look like "张阿姨: message" or carry a time line first: keep the message.
    lines = [line for line in text.splitlines() if line.strip()]
    body = "\n".join(line for line in lines if not re.fullmatch(r"[\d:\-/ 年月日]+", line.strip()))
    out = Guess(description=body[:4000])
    flat = normalize_text(body) if body.isascii() else body
    match = _MOBILE.search(flat.replace(" ", "").replace("-", ""))
    if match:
        out.phone = match[1]
    for code, words in KEYWORDS:
        if any(word in body for word in words):
            out.category_code = code
            break
    named = {m.upper() for m in _BUILDING.findall(body)}
    if named:
        for b in buildings:
            keys = {str(b.code).upper(), re.sub(r"(号楼|栋|幢|座)$", "", str(b.name)).upper()}
            if keys & named:
                out.building_id = b.pk
                break
    return out
