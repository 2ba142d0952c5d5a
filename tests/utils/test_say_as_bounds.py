"""What one `<say-as>` may cost is bounded: long numbers are read digit by digit or refused,
with a message naming the element and the limit, never a 500 and never the whole input."""

from __future__ import annotations

import pytest

from utils.text.say_as import MAX_NUMBER_DIGITS, MAX_SAY_AS_CHARS, SayAsError, say_as
from utils.text.ssml import SSMLError, compile_ssml


def test_a_cardinal_longer_than_the_limit_is_read_digit_by_digit():
    digits = "12345678901234567890123456789012345678"
    assert len(digits) > MAX_NUMBER_DIGITS
    assert say_as(digits, "cardinal", None, None) == " ".join(digits)
    # at the limit it is still a number said as one
    assert "decillion" in say_as("9" * MAX_NUMBER_DIGITS, "cardinal", None, None)


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("9" * (MAX_NUMBER_DIGITS + 1), "ordinal", f"at most {MAX_NUMBER_DIGITS}"),
        ("9" * 400, "cardinal", f"at most {MAX_SAY_AS_CHARS}"),
        ("9" * 400, "ordinal", f"at most {MAX_SAY_AS_CHARS}"),
        ("1e400", "cardinal", "is not a number"),
    ],
)
def test_numbers_past_the_limits_are_refused_with_the_limit(text, kind, words):
    with pytest.raises(SayAsError) as raised:
        say_as(text, kind, None, None)
    message = str(raised.value)
    assert words in message
    assert len(message) < 200  # the input is never repeated whole


def test_a_document_of_huge_numbers_is_a_quick_ssml_error_naming_the_element():
    document = f'<speak>Count: <say-as interpret-as="cardinal">{"9" * 400}</say-as></speak>'
    with pytest.raises(SSMLError) as raised:
        compile_ssml(document)
    assert (raised.value.line, raised.value.column) == (1, 15)
    assert f"at most {MAX_SAY_AS_CHARS}" in str(raised.value)
