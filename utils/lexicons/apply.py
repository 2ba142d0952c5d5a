"""Lexicons applied to one request's texts: matched once per set of lexicons, said once per
provider and voice.

A Matcher is built once per set of lexicon versions (kept for later requests: an edit makes a
new version, so a kept one is never stale); what each rule becomes is worked out once per
provider and voice of the request. Inline `<phoneme>` (utils/lexicons/inline.py) are rules of
their own for their words, ahead of any lexicon.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from utils.lexicons.inline import take_out
from utils.lexicons.pls import Rule
from utils.lexicons.rules import Applied, Matcher, apply
from utils.lexicons.store import Stored
from utils.lexicons.voicing import CannotSay, say

_MATCHERS: OrderedDict[tuple[str, ...], Matcher] = OrderedDict()
KEPT_MATCHERS = 64


def matcher_for(lexicons: Sequence[Stored]) -> Matcher:
    """The rules of `lexicons` (earlier ones first), built once per set of versions."""
    key = tuple(lexicon.key for lexicon in lexicons)
    found = _MATCHERS.get(key)
    if found is None:
        found = Matcher(rule for lexicon in lexicons for rule in lexicon.rules)
        _MATCHERS[key] = found
        while len(_MATCHERS) > KEPT_MATCHERS:
            _MATCHERS.popitem(last=False)
    else:
        _MATCHERS.move_to_end(key)
    return found


@dataclass(frozen=True)
class Target:
    """Who says the text: a provider (its name), whether it takes phonemes, the voice's
    phoneme symbols where known."""

    provider: str
    voice: str
    takes_phonemes: bool
    symbols: Collection[str] | None = None


@dataclass(frozen=True)
class Said:
    text: str  # as written, inline markers taken out
    applied: Applied | None  # None: said as written
    lexicons: str | None  # the lexicons that applied, owner/name@version, comma-separated


class Compiler:
    """One request's lexicons, applied to each of its texts."""

    def __init__(self, lexicons: Sequence[Stored]):
        self.lexicons = list(lexicons)
        self.matcher = matcher_for(self.lexicons)
        self._said: dict[tuple[str, str, Rule], str] = {}
        # By the rule's value, not its identity: the matcher is shared by every request with
        # the same lexicon versions (matcher_for), so the rules it finds are another request's
        # objects, equal to these. The first lexicon holding a rule is the one it came from.
        self._origin: dict[Rule, str] = {}
        for lexicon in self.lexicons:
            for rule in lexicon.rules:
                self._origin.setdefault(rule, lexicon.key)

    def say(self, text: str, target: Target) -> Said:
        """`text` as `target` is to be given it; CannotSay naming the rule that cannot be."""
        clean, inline = take_out(text)
        matches = self.matcher.find(clean, [(a, b) for a, b, _ in inline])
        if not matches and not inline:
            return Said(clean, None, None)
        key = (target.provider, target.voice)

        def said(rule: Rule) -> str:
            found = self._said.get((*key, rule))
            if found is None:
                found = say(rule, target.provider, target.takes_phonemes, target.symbols)
                self._said[(*key, rule)] = found
            return found

        applied = apply(clean, [*inline, *matches], said)
        used = sorted({self._origin[rule] for _, _, rule in matches if rule in self._origin})
        return Said(clean, applied, ",".join(used) or None)


__all__ = ["CannotSay", "Compiler", "Said", "Target", "matcher_for"]
