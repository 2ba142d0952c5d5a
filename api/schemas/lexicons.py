"""Pronunciation lexicons: the JSON form of POST /lexicons, and what GET answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestStr


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grapheme: RequestStr = Field(description="The words as written, matched exactly (case too).")
    alias: RequestStr | None = Field(default=None, description="Other words to say instead.")
    phoneme: RequestStr | None = Field(default=None, description="How to say it, as phonemes.")
    alphabet: Literal["ipa", "x-sampa"] = Field(
        default="ipa", description="The phonemes' alphabet."
    )


class LexiconIn(BaseModel):
    """JSON rules; a PLS 1.0 document may be sent instead (Content-Type application/pls+xml,
    the lexicon's name in ?name=)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "names",
                    "language": "en-US",
                    "rules": [
                        {"grapheme": "SQL", "alias": "sequel"},
                        {"grapheme": "Nguyen", "phoneme": "wɪn", "alphabet": "ipa"},
                    ],
                }
            ]
        },
    )

    name: RequestStr = Field(description="1 to 64 letters, digits, '_', '.', '-'.")
    language: RequestStr = Field(default="en-US", description="A language tag.")
    rules: list[RuleIn] = Field(description="At least one rule.")


class LexiconSummary(BaseModel):
    name: str
    language: str
    version: str = Field(description="Changes on every edit.")
    rule_count: int = Field(description="How many rules it has.")
    bytes: int = Field(description="Its size as uploaded.")
    updated_at: float


class LexiconList(BaseModel):
    lexicons: list[LexiconSummary] = Field(description="Yours.")
    operator: list[LexiconSummary] = Field(description="The service's, applied to every request.")


class RuleOut(BaseModel):
    grapheme: str
    alias: str | None = None
    phoneme: str | None = None
    alphabet: str | None = None


class LexiconOut(LexiconSummary):
    rules: list[RuleOut]
