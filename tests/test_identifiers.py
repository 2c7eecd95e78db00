"""Citizen ID numbers and mobile numbers: each tolerance and each rejection."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from linli.core.identifiers import (
    convert_15_to_18,
    mask_citizen_id,
    mask_mobile,
    parse_citizen_id,
    parse_mobile,
)

VALID = "11010519491231002X"  # check digit X, Beijing Chaoyang, born 1949-12-31, a woman


def make_id(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")


def test_a_valid_number_gives_birth_date_and_gender():
    cid = parse_citizen_id(VALID)
    assert cid.number == VALID
    assert cid.birth_date == datetime.date(1949, 12, 31)
    assert cid.gender == "F" and cid.warnings == ()
    man = parse_citizen_id(make_id("440106", "19900307", "123"))
    assert man.gender == "M"


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",  # lower-case x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        " 110105 19491231 002X ",  # spaces
        "110105-19491231-002X",  # dashes
        "110105\u300019491231002X",  # an ideographic space
    ],
)
def test_what_people_and_excel_do_to_numbers_is_undone(typed):
    assert parse_citizen_id(typed).number == VALID


def test_a_legacy_15_digit_number_is_converted():
    old = "110105491231002"
    new = convert_15_to_18(old)
    assert new.startswith("11010519491231002") and len(new) == 18
    assert parse_citizen_id(old).number == new


@pytest.mark.parametrize(
    "bad, code",
    [
        ("11010519491231002", "length"),
        ("1101051949123100201", "length"),
        ("11010519491231002A", "format"),
        ("1101051949123100X2", "format"),
        ("110105194912310021", "checksum"),
        (make_id("110105", "19490231", "002"), "birth_date"),  # 31 February
        (make_id("110105", "20991231", "002"), "birth_date"),  # in the future
    ],
)
def test_rejections_name_their_reason(bad, code):
    with pytest.raises(ValidationError) as info:
        parse_citizen_id(bad, today=datetime.date(2026, 11, 23))
    assert info.value.code == code


def test_an_unknown_region_is_a_warning_not_an_error():
    number = make_id("999999", "19800101", "001")
    cid = parse_citizen_id(number)
    assert cid.number == number and len(cid.warnings) == 1 and "999999" in cid.warnings[0]


@given(st.integers(0, 10**17 - 1))
def test_any_single_digit_change_is_caught(body):
    digits = f"{body:017d}"
    number = digits + ric.calc_check_digit(digits + "0")
    changed = ("1" if number[3] != "1" else "2").join([number[:3], number[4:]])
    with pytest.raises(ValidationError):
        parse_citizen_id(changed, today=datetime.date(2026, 1, 1))


def test_masks():
    assert mask_citizen_id("44010619900307123X") == "4401**********123X"
    assert mask_citizen_id("") == ""
    assert mask_mobile("+8613812345678") == "138****5678"
    assert mask_mobile("+85291234567") == "+852****4567"


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "008613812345678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalized(typed):
    assert parse_mobile(typed) == "+8613812345678"


@pytest.mark.parametrize("bad", ["12345", "02012345678", "1381234567", "not a number"])
def test_bad_mobile_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        parse_mobile(bad)


def test_a_hong_kong_mobile_with_its_prefix_is_accepted():
    assert parse_mobile("+852 9123 4567") == "+85291234567"
