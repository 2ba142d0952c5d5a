"""What every request body shares: the strings it may carry and how strictly it is read."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict
from pydantic_core import PydanticCustomError

# Control characters (Unicode category Cc) but tab, newline and carriage return, and lone
# surrogates: JSON can escape a surrogate ("\ud800") that no UTF-8 store or provider accepts.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _storable(value: str) -> str:
    found = _UNSTORABLE.search(value)
    if found is None:
        return value
    code, at = f"U+{ord(found.group()):04X}", found.start()
    if found.group() >= "\ud800":
        raise PydanticCustomError(
            "lone_surrogate",
            "contains half of a surrogate pair ({code}) at character {at}, which is not a "
            "character: send text as valid UTF-8",
            {"code": code, "at": at},
        )
    raise PydanticCustomError(
        "control_character",
        "contains the control character {code} at character {at}; of control characters "
        "only tab, newline and carriage return are allowed",
        {"code": code, "at": at},
    )


# Every string a request carries: what the service cannot store or pass on is refused at the
# door, naming the field, rather than failing deep inside (Redis, a provider, an error page).
RequestStr = Annotated[str, AfterValidator(_storable)]

# Numbers are strict: "1.5" and true are refused, and 1.0 as a pause in ms; 2 is a speed.
STRICT_REQUEST = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
