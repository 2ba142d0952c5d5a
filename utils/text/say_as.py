"""SSML `<say-as>`: digits, dates and letters written out as the words a voice should say.

Numbers become words with num2words (in the block's language where it knows it), so every
provider reads "21st" or "1,204" the same way instead of each guessing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import CONVERTER_CLASSES, num2words

INTERPRETATIONS = ("characters", "spell-out", "cardinal", "number", "ordinal", "date", "telephone")
DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


class SayAsError(ValueError):
    pass


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
            return float(cleaned)
        except ValueError:
            raise SayAsError(f"{text!r} is not a number") from None


def _date(text: str, fmt: str, lang: str) -> str:
    parts = [p for p in re.split(r"[-/.\s]+", text.strip()) if p]
    fields = fmt if fmt in DATE_FORMATS else "ymd"
    if len(parts) != len(fields) or not all(p.isdigit() for p in parts):
        raise SayAsError(f"{text!r} is not a date of format {fields!r} (digits for each of it)")
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
        raise SayAsError(f"{text!r} has no digits to read as a telephone number")
    return ", ".join("plus" if g == "+" else " ".join(g) for g in groups)


@lru_cache(maxsize=4096)  # a document says the same numbers and dates again and again
def say_as(text: str, interpret_as: str, fmt: str | None, lang: str | None) -> str:
    language = _language(lang)
    kind = interpret_as.lower()
    if kind in ("characters", "spell-out"):
        return " ".join(char for char in text if not char.isspace())
    if kind in ("cardinal", "number"):
        return num2words(_number(text), lang=language)
    if kind == "ordinal":
        number = _number(text)
        if not isinstance(number, int):
            raise SayAsError(f"{text!r} is not a whole number, so it has no ordinal")
        return num2words(number, to="ordinal", lang=language)
    if kind == "date":
        return _date(text, (fmt or "ymd").lower(), language)
    if kind == "telephone":
        return _telephone(text)
    raise SayAsError(
        f"say-as interpret-as {interpret_as!r} is not supported; supported: "
        f"{', '.join(INTERPRETATIONS)}"
    )
