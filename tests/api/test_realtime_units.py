"""The plain parts of the input streaming protocol (api/realtime/): where text is cut, how
messages are read, G.711, character times."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from api.realtime.audio_out import AudioOut, _g711, char_times
from api.realtime.protocol import OUTPUT_FORMATS, ProtocolError, parse_message, parse_query
from api.realtime.text_buffer import TextBuffer


def feed(buffer: TextBuffer, words: list[str]) -> list[tuple[str, list[str]]]:
    return [(w.strip(), got) for w in words if (got := buffer.add(w))]


def test_a_piece_is_cut_when_its_sentence_ends_and_not_at_an_abbreviation():
    buffer = TextBuffer((120, 160, 250, 290))
    text = "The boat left at dawn. Dr. Smith waved from the pier, calling. Then silence"
    cuts = feed(buffer, [w + " " for w in text.split()])
    assert cuts == [
        ("dawn.", ["The boat left at dawn."]),
        ("calling.", ["Dr. Smith waved from the pier, calling."]),
    ]
    assert buffer.flush() == ["Then silence"]


def test_without_a_sentence_end_the_schedule_cuts_at_the_last_space():
    buffer = TextBuffer((20, 30))
    text = "one two three four five six seven eight nine ten eleven"
    cuts = feed(buffer, [w + " " for w in text.split(" ")])
    # 20 characters, then 30 more: each cut at the word that reached the size
    assert cuts == [
        ("five", ["one two three four five"]),
        ("eleven", ["six seven eight nine ten eleven"]),
    ]
    assert TextBuffer((10,)).add("a word still arri") == ["a word still"]
    buffer = TextBuffer((500,))
    assert buffer.add("a few words ", trigger=True) == []  # under the schedule's least
    assert TextBuffer((5, 500)).add("a few words ", trigger=True) == ["a few words"]


def test_marks_alone_join_the_piece_before_and_nothing_speaks_no_piece():
    buffer = TextBuffer((120,))
    assert buffer.add("  ... ") == []
    assert buffer.flush() == []


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        '{"text": 1}',
        '{"flush": "yes"}',
        '{"context_id": ""}',
        '{"xi_api_key": 5}',
        '{"voice_settings": {"speed": true}}',
        '{"generation_config": {"chunk_length_schedule": []}}',
    ],
)
def test_malformed_messages_are_refused_by_name(raw):
    with pytest.raises(ProtocolError) as refused:
        parse_message(raw)
    assert refused.value.code == 1008


def test_a_message_is_read_with_its_key_settings_and_context():
    message = parse_message(
        json.dumps(
            {
                "text": " ",
                "authorization": "Bearer tts_sk_x",
                "voice_settings": {"speed": 1.1, "stability": 0.5},
                "generation_config": {"chunk_length_schedule": [50, 90.5]},
                "context_id": "c1",
                "flush": True,
            }
        )
    )
    assert (message.key, message.speed, message.schedule) == ("tts_sk_x", 1.1, (50, 90))
    assert (message.context_id, message.flush, message.text) == ("c1", True, " ")


def test_query_defaults_and_refusals():
    query = parse_query({})
    assert query.output_format.name == "mp3_44100_128" and query.inactivity_timeout == 20
    assert parse_query({"sync_alignment": "true"}).sync_alignment
    for bad in ({"output_format": "wav"}, {"inactivity_timeout": "0"}, {"auto_mode": "maybe"}):
        with pytest.raises(ProtocolError):
            parse_query(bad)


def test_g711_matches_the_reference_encoder():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    samples = np.arange(-32768, 32768, dtype=np.int16)
    assert _g711(samples, "ulaw") == audioop.lin2ulaw(samples.tobytes(), 2)
    assert _g711(samples, "alaw") == audioop.lin2alaw(samples.tobytes(), 2)


def test_characters_share_their_span_and_chunks_carry_the_characters_starting_in_them():
    text = "Hi there. Bye."
    timings = json.dumps(
        {"rate": 1000, "source": "synthesized", "sentences": [[0, 9, 0, 900], [10, 14, 1000, 1400]]}
    )
    times, source = char_times(text, timings, 1500, 1000)
    assert source == "synthesized"
    assert times[0] == (0.0, 100.0) and times[8] == (800.0, 100.0)
    assert times[9] == (900.0, 0.0)  # the space between: no time of its own
    assert times[10] == (1000.0, 100.0)
    out = AudioOut(OUTPUT_FORMATS["pcm_16000"])
    at_16k = json.dumps(
        {
            "rate": 16000,
            "source": "estimated",
            "sentences": [[0, 9, 0, 7200], [10, 14, 9600, 14400]],
        }
    )
    chunks = out.chunks(np.zeros(16000, dtype=np.int16), text, at_16k)
    assert len(chunks) == 2  # 500 ms each
    first, second = chunks[0][1], chunks[1][1]
    assert "".join(first["chars"]) == text[:10] and "".join(second["chars"]) == "Bye."
    assert second["charStartTimesMs"][0] == 100  # 600 ms into the block, 100 into its chunk
    assert chunks[1][2] == "estimated"
