"""Which word of a text each phoneme speaks, where the phonemizer's words are not the text's.

espeak-ng phonemizes a stretch of text as a whole, so context is kept ("the" before a vowel,
"a" as a word, not a letter), but its phoneme words are not always the text's: a number
becomes several ("42": fˈɔːɹɾi tˈuː), a few short words one ("in the": ɪnðə). Each phoneme
symbol is given to the word it speaks by the first of:

    counted     each word phonemized alone says how many phoneme words it takes, and those
                add up to the stretch's: given out in order by those counts (exact; called
                one-to-one where every count is 1, the usual case)
    aligned     otherwise the stretch's symbols are aligned (difflib) with those of the words
                phonemized alone, each symbol going to the word it matches, or to the word of
                the symbol before it (approximate, but in order and never far)

Both engines that time words by their model's own durations use it: Kokoro on its tokens
(workers/providers/kokoro_text.py), Piper on its phoneme alignments
(workers/providers/piper_words.py); each phonemizes in its own symbols, the same on both sides.
"""

from __future__ import annotations

import difflib
import itertools


def owners(alone: list[list[str]], phonemes: str) -> tuple[list[int | None], str]:
    """Which word (index) each symbol of `phonemes` speaks (None for the spaces between its
    phoneme words), and the method that said so.

    `phonemes` is a stretch's phoneme words joined by single spaces; `alone[w]` the phoneme
    words of the stretch's word w phonemized on its own (empty for a word that says nothing).
    """
    groups = phonemes.split(" ")
    # Equal numbers alone prove nothing ("42 in the": two words for one, one for two), so
    # each word is counted on its own.
    counts = [len(a) for a in alone]
    if sum(counts) != len(groups):
        return _aligned(alone, phonemes), "aligned"
    method = "one-to-one" if all(count == 1 for count in counts) else "counted"
    found: list[int | None] = []
    group_owner = [w for w, count in enumerate(counts) for _ in range(count)]
    for g, group in enumerate(groups):
        if g:
            found.append(None)
        found += [group_owner[g]] * len(group)
    return found, method


def _aligned(alone: list[list[str]], phonemes: str) -> list[int | None]:
    reference = [(c, w) for w, groups in enumerate(alone) for c in "".join(groups)]
    spoken = [i for i, c in enumerate(phonemes) if c != " "]
    found: list[int | None] = [None] * len(spoken)
    matcher = difflib.SequenceMatcher(
        None, [c for c, _ in reference], [phonemes[i] for i in spoken], autojunk=False
    )
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            found[b + k] = reference[a + k][1]
    k = 0
    while k < len(found):  # symbols matched to no word: to the words between their neighbours
        if found[k] is not None:
            k += 1
            continue
        j = next((j for j in range(k, len(found)) if found[j] is not None), len(found))
        before = found[k - 1] if k else -1
        after = found[j] if j < len(found) else len(alone)
        between = list(range(before + 1, after)) or [max(before, 0)]
        weights = [max(1, len("".join(alone[w]))) for w in between]
        for offset in range(j - k):  # shared out in proportion to what each says alone
            share = (offset + 0.5) / (j - k) * sum(weights)
            w = next(i for i, edge in enumerate(itertools.accumulate(weights)) if share <= edge)
            found[k + offset] = between[w]
        k = j
    owners: list[int | None] = [None] * len(phonemes)
    last = 0
    for i, owner in zip(spoken, found, strict=True):
        last = max(last, owner if owner is not None else last)  # never back to a word before
        owners[i] = last
    return owners
