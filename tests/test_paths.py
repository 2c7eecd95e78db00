"""The materialized path: a range query finds exactly the subtree, for any tree."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.paths import ancestors, depth, path_end, segment
from linli.places import actions
from linli.places.models import Place, PlaceKind

_districts = itertools.count()


def test_segment_is_fixed_width_and_bounded():
    assert segment(1) == "00001"
    assert segment(99999) == "99999"
    with pytest.raises(ValueError):
        segment(0)
    with pytest.raises(ValueError):
        segment(100000)


def test_ancestors_and_depth():
    assert ancestors("000010000200003") == ["00001", "0000100002"]
    assert depth("000010000200003") == 3


@given(
    st.lists(st.lists(st.integers(1, 99999), min_size=1, max_size=4), min_size=1, max_size=30),
    st.lists(st.integers(1, 99999), min_size=1, max_size=3),
)
def test_range_matches_prefix_for_any_paths(paths, probe):
    prefix = "".join(segment(n) for n in probe)
    for parts in paths:
        path = "".join(segment(n) for n in parts)
        in_range = prefix <= path < path_end(prefix)
        assert in_range == path.startswith(prefix)


@pytest.mark.django_db
@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=25))
def test_descendants_by_range_equal_descendants_by_parent_links(choices):
    """Build a random tree through the real action and compare the two ways of finding a subtree."""
    n = next(_districts)
    dcode = f"44{n // 98 % 99 + 1:02d}{n % 98 + 1:02d}"
    district = actions.create_place(None, kind=PlaceKind.DISTRICT, code=dcode, name="区")
    street = actions.create_place(
        None, kind=PlaceKind.STREET, code=f"{dcode}001000", name="街", parent=district
    )
    nodes = [street]
    for i, choice in enumerate(choices):
        parent = nodes[choice % len(nodes)]
        kind = {
            PlaceKind.STREET: PlaceKind.COMMUNITY,
            PlaceKind.COMMUNITY: PlaceKind.COMPOUND,
            PlaceKind.COMPOUND: PlaceKind.BUILDING,
            PlaceKind.BUILDING: PlaceKind.UNIT,
            PlaceKind.UNIT: PlaceKind.DWELLING,
        }.get(parent.kind)
        if kind is None:
            continue
        code = f"{dcode}001{len(nodes):03d}" if kind == PlaceKind.COMMUNITY else f"N{i}"
        nodes.append(actions.create_place(None, kind=kind, code=code, name=code, parent=parent))
    children: dict[int, list[int]] = {}
    for pk, parent_id in Place.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    for node in nodes:
        walked, stack = set(), [node.pk]
        while stack:
            pk = stack.pop()
            walked.add(pk)
            stack.extend(children.get(pk, []))
        assert set(node.descendants().values_list("pk", flat=True)) == walked
