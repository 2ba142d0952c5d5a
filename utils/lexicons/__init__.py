"""Pronunciation lexicons: how names, brands, acronyms and terms are said.

pls.py       W3C PLS 1.0 documents and JSON rules read into a Lexicon, and written back
xsampa.py    X-SAMPA to IPA
rules.py     matching a text against rules (whole words, longest first), with the map
             from the text said back to the text written
inline.py    SSML <phoneme> carried inside a segment's text until the rules are applied
voicing.py   a rule as a provider says it: phonemes in a voice's own symbols, or an alias
store.py     a user's lexicons in Redis; the operator's (LEXICON_FILES)
"""
