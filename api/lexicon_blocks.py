"""Pronunciation lexicons applied to a request's blocks as it is accepted.

The lexicons of a block are those its request names (`lexicons` of a job or a speech request),
those its SSML names (<lookup>, <lexicon>), then the operator's (LEXICON_FILES). Each block is
said as its provider can say it (utils/lexicons/apply.py): its text stays the user's, and what
the provider is given, where that differs, and the lexicons that applied go with it
(BlockSpec.said, said_map, lexicons). Every problem is a 422 naming where: a lexicon that is
not the user's, a phoneme the voice cannot say, phonemes for a provider that takes text only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from config import Settings
from utils.errors import ConfigurationError, FieldError, ProviderError
from utils.jobs.models import BlockSpec
from utils.lexicons.apply import CannotSay, Compiler, Target
from utils.lexicons.store import LexiconStore, Stored, operator_lexicons
from workers.providers import ProviderRegistry

Where = Callable[[str, str], FieldError]  # (field, message) -> the problem, placed


class RequestLexicons:
    """One request's lexicons: read once, compiled once per set, said once per voice."""

    def __init__(
        self,
        store: LexiconStore,
        owner: str,
        settings: Settings,
        providers: ProviderRegistry,
        named: Sequence[str] | None = None,
    ):
        self.store, self.owner, self.providers = store, owner, providers
        self.named = list(dict.fromkeys(named or ()))
        self.operator = operator_lexicons(settings.lexicons.files)
        self.limit = settings.lexicons.max_per_user
        self.loaded: dict[str, Stored] = {}
        self.compilers: dict[tuple[str, ...], Compiler] = {}
        self.targets: dict[tuple[str, str], Target] = {}

    def check_named(self, loc: tuple) -> list[FieldError]:
        """The request's own `lexicons`, read; what is wrong with them."""
        if len(self.named) > self.limit:
            return [FieldError(loc, f"at most {self.limit} lexicons, got {len(self.named)}")]
        return [FieldError(loc, m) for m in self._load(self.named)]

    def _load(self, names: Sequence[str]) -> list[str]:
        wanted = [n for n in names if n not in self.loaded]
        self.loaded.update(self.store.get_many(self.owner, wanted))
        missing = [n for n in wanted if n not in self.loaded]
        if not missing:
            return []
        yours = ", ".join(self.store.names(self.owner)) or "none yet (POST /lexicons)"
        return [f"unknown lexicon {name!r}; yours: {yours}" for name in missing]

    def _target(self, spec: BlockSpec) -> Target:
        key = (spec.provider, spec.voice)
        if key not in self.targets:
            provider = self.providers.get(spec.provider)
            symbols = None
            if provider.takes_phonemes:
                try:
                    symbols = provider.phoneme_symbols(spec.voice)
                except (ProviderError, ConfigurationError, OSError, ValueError):
                    symbols = None  # not known now: the engine keeps what it knows
            self.targets[key] = Target(provider.name, spec.voice, provider.takes_phonemes, symbols)
        return self.targets[key]

    def apply(
        self, spec: BlockSpec, own: Sequence[str], where: Where, field: str = "text"
    ) -> tuple[BlockSpec, list[FieldError]]:
        """The block as its provider is to say it, or what is wrong."""
        problems = [where("lexicons", m) for m in self._load(own)]
        if problems:
            return spec, problems
        names = tuple(dict.fromkeys([*own, *self.named]))
        if names not in self.compilers:
            lexicons = [self.loaded[n] for n in names if n in self.loaded]
            self.compilers[names] = Compiler([*lexicons, *self.operator])
        try:
            said = self.compilers[names].say(spec.text, self._target(spec))
        except CannotSay as exc:
            return spec, [where(field, f"cannot be said by {spec.provider!r}: {exc}")]
        if said.applied is None:
            return (replace(spec, text=said.text) if said.text != spec.text else spec), []
        return replace(
            spec,
            text=said.text,
            said=said.applied.text,
            said_map=said.applied.encoded() or None,
            lexicons=said.lexicons,
        ), []
