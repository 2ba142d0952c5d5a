"""SSML `<say-as>`: digits, dates and letters written out as the words a voice should say.

Numbers become words with num2words (in the block's language where it knows it), so every
provider reads "21st" or "1,204" the same way instead of each guessing.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from num2words import CONVERTER_CLASSES, num2words

INTERPRETATIONS = ("characters", "spell-out", "cardinal", "number", "ordinal", "date", "telephone")
DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


# Bounds on what one element may cost. num2words names numbers up to about 10^300 in English
# (fewer in other languages) and raises OverflowError past them; nobody says a number of more
# than 36 digits (undecillions) as one, so a longer cardinal is read digit by digit, as people
# read one, and a longer ordinal is refused. The text of one element is bounded too, so an
# error message (and the work of reading it) stays small whatever a document holds.
MAX_NUMBER_DIGITS = 36
MAX_SAY_AS_CHARS = 200


class SayAsError(ValueError):
    pass


def _quoted(text: str) -> str:
    """The text for a message: long text shortened, so an error never repeats a whole input."""
    return repr(text) if len(text) <= 40 else f"{text[:24]!r}... ({len(text)} characters)"


def _language(lang: str | None) -> str:
    """num2words' language for an xml:lang such as de-DE (de), pt-BR (pt_BR); else English."""
    if not lang:
        return "en"
    lang = lang.replace("-", "_")
    for candidate in (lang, lang.split("_")[0]):
        if candidate in CONVERTER_CLASSES:
            return candidate
    return "en"


def _number(text: str) -> int | float:
    cleaned = re.sub(r"[,\s_]", "", text)
    cleaned = re.sub(r"(?<=\d)(st|nd|rd|th|\.)$", "", cleaned)  # 21st, 3rd, German "3."
    try:
        return int(cleaned)
    except ValueError:
        try:
            number = float(cleaned)
        except ValueError:
            number = math.nan
    if not math.isfinite(number):  # "1e400" is a float, but not one a voice can say
        raise SayAsError(f"{_quoted(text)} is not a number")
    return number


def _date(text: str, fmt: str, lang: str) -> str:
    parts = [p for p in re.split(r"[-/.\s]+", text.strip()) if p]
    fields = fmt if fmt in DATE_FORMATS else "ymd"
    if len(parts) != len(fields) or not all(p.isdigit() for p in parts):
        raise SayAsError(
            f"{_quoted(text)} is not a date of format {fields!r} (digits for each of it)"
        )
    value = dict(zip(fields, (int(p) for p in parts), strict=True))
    if "m" in value and not 1 <= value["m"] <= 12:
        raise SayAsError(f"{text!r}: month {value['m']} is not 1-12")
    if "d" in value and not 1 <= value["d"] <= 31:
        raise SayAsError(f"{text!r}: day {value['d']} is not 1-31")
    if lang != "en":
        # month names need a locale's data, which num2words lacks: the numbers, day first,
        # read by the voice in its own language
        return " ".join(str(value[f]) for f in "dmy" if f in value)
    words = []
    if "m" in value:
        words.append(MONTHS[value["m"] - 1])
    if "d" in value:
        words.append(num2words(value["d"], to="ordinal"))
    if "y" in value:
        year = num2words(value["y"], to="year")
        words.append(f", {year}" if words else year)
    return " ".join(words).replace(" ,", ",")


def _telephone(text: str) -> str:
    """Each digit on its own, groups kept apart by a comma (a short breath), + as "plus"."""
    groups = re.findall(r"\+|\d+", text)
    if not any(g.isdigit() for g in groups):
        raise SayAsError(f"{_quoted(text)} has no digits to read as a telephone number")
    return ", ".join("plus" if g == "+" else " ".join(g) for g in groups)


def _digits(number: int | float) -> int:
    return len(str(abs(int(number))))


def _words(number: int | float, to: str, language: str, text: str) -> str:
    try:
        return num2words(number, to=to, lang=language)
    except (ArithmeticError, NotImplementedError, ValueError) as exc:
        # num2words' own limits (a language without ordinals, a number it cannot name)
        raise SayAsError(
            f"{_quoted(text)} cannot be said as a{'n' * (to == 'ordinal')} {to} "
            f"in language {language!r}"
        ) from exc


@lru_cache(maxsize=4096)  # a document says the same numbers and dates again and again
def say_as(text: str, interpret_as: str, fmt: str | None, lang: str | None) -> str:
    language = _language(lang)
    kind = interpret_as.lower()
    if len(text) > MAX_SAY_AS_CHARS:
        raise SayAsError(
            f"<say-as> holds {len(text)} characters; it may hold at most {MAX_SAY_AS_CHARS}"
        )
    if kind in ("characters", "spell-out"):
        return " ".join(char for char in text if not char.isspace())
    if kind in ("cardinal", "number"):
        number = _number(text)
        if _digits(number) > MAX_NUMBER_DIGITS:
            return " ".join(char for char in text if char.isdigit())
        return _words(number, "cardinal", language, text)
    if kind == "ordinal":
        number = _number(text)
        if not isinstance(number, int):
            raise SayAsError(f"{_quoted(text)} is not a whole number, so it has no ordinal")
        if _digits(number) > MAX_NUMBER_DIGITS:
            raise SayAsError(
                f"{_quoted(text)} has {_digits(number)} digits; an ordinal has at most "
                f'{MAX_NUMBER_DIGITS} (read longer numbers as interpret-as="cardinal", '
                "digit by digit)"
            )
        return _words(number, "ordinal", language, text)
    if kind == "date":
        return _date(text, (fmt or "ymd").lower(), language)
    if kind == "telephone":
        return _telephone(text)
    raise SayAsError(
        f"say-as interpret-as {interpret_as!r} is not supported; supported: "
        f"{', '.join(INTERPRETATIONS)}"
    )
