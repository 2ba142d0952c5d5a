"""Long text cut at sentences into pieces: nothing lost, first sentence alone, limits kept."""

from __future__ import annotations

import re

from utils.text.sentences import pieces, sentences

TEXT = (
    'Dr. Smith paid $3.50 for coffee at 9 a.m. on Jan. 5th. "Was it good?" she asked. '
    "Yes! It was... fine. The end."
)


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def test_abbreviations_and_numbers_do_not_end_sentences():
    assert sentences(TEXT)[0] == "Dr. Smith paid $3.50 for coffee at 9 a.m. on Jan. 5th."
    assert len(sentences(TEXT)) == 5


def test_pieces_keep_every_word_and_start_with_the_first_sentence_alone():
    cut = pieces(TEXT, piece_chars=40, max_chars=5000)
    assert cut[0] == sentences(TEXT)[0]
    assert words(" ".join(cut)) == words(TEXT)
    assert all(len(p) <= 40 for p in cut[1:] if " " in p and len(sentences(p)) > 1)
    # grouped: fewer pieces than sentences once they are short enough to share
    assert len(pieces(TEXT, piece_chars=1000, max_chars=5000)) == 2


def test_a_sentence_longer_than_a_block_may_be_is_cut_at_a_space():
    long = "word " * 300 + "end."
    cut = pieces(long, piece_chars=100, max_chars=200)
    assert all(len(p) <= 200 for p in cut)
    assert words(" ".join(cut)) == words(long)


def test_pieces_without_anything_to_say_join_their_neighbour():
    cut = pieces("Hello there. ... Goodbye now.", piece_chars=5, max_chars=100)
    assert all(any(c.isalnum() for c in p) for p in cut)
    assert words(" ".join(cut)) == ["Hello", "there.", "...", "Goodbye", "now."]


def test_threads_segmenting_at_once_each_get_their_own_sentences():
    """A worker's thread pool segments many blocks at once (their timings)."""
    import threading

    wrong = []

    def segment(thread: int) -> None:
        for i in range(100):
            first = f"Part {thread}-{i} begins."
            if sentences(f"{first} It ends very soon.") != [first, "It ends very soon."]:
                wrong.append((thread, i))

    threads = [threading.Thread(target=segment, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_text_taken_for_one_sentence_without_the_segmenter_is_what_the_segmenter_says():
    """sentences() skips pysbd where nothing before the text's last character may end a
    sentence; on random strings of letters, digits, spaces, commas, dashes, brackets and
    quotes, that shortcut and pysbd always agree."""
    import random
    import string

    import pysbd

    from utils.text.sentences import _MAY_END

    segmenter = pysbd.Segmenter(language="en", clean=False)
    alphabet = string.ascii_letters + "     ,,'\"-—–([0123456789%$€&/#*@«»“”‘’é中ß" + "ABCDE   "
    rng = random.Random(7)
    shortcut = 0
    for _ in range(3000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        text = body + rng.choice(["", ".", "!", "?", "…", ")", ":", " ", ". "])
        stripped = text.strip()
        shortcut += bool(stripped) and not _MAY_END.search(stripped, 0, len(stripped) - 1)
        assert sentences(text) == [s.strip() for s in segmenter.segment(text) if s.strip()], text
    assert shortcut > 300  # the shortcut was taken often enough to be tested
