"""The official elevenlabs SDK's realtime client (convert_realtime) against the service: it
connects with wss:, so the service is served over TLS with a certificate the test makes, which
the client trusts through SSL_CERT_FILE."""

from __future__ import annotations

import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from tests.api.realtime_helpers import make_certificate, token_for
from tests.audio_helpers import ffmpeg_decode
from tests.helpers import served

pytestmark = pytest.mark.pipeline

VOICE = "en_US-joe-medium"
TEXT = (
    "The harbour was quiet before dawn. Gulls circled the masts of the fishing boats, calling "
    "to one another. An old man mended a net on the pier."
)


@pytest.fixture
def tls_service(service_redis, users, worker, tmp_path, monkeypatch):
    from api.main import create_app

    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context()
    with served(create_app(), tls=(cert, key)) as url:
        yield url, token_for(url, verify=str(cert))


def llm_tokens():
    """The text as a language model gives it: a word or a mark at a time."""
    for word in TEXT.split(" "):
        yield from ([word[:-1], word[-1]] if word[-1] in ".," else [word])
        yield " "


def test_convert_realtime_speaks_the_text_over_wss(tls_service):
    url, token = tls_service
    client = ElevenLabs(api_key=token, base_url=url)
    chunks = list(
        client.text_to_speech.convert_realtime(
            voice_id=VOICE, text=llm_tokens(), output_format="mp3_22050_32"
        )
    )
    assert len(chunks) > 3  # audio in pieces as it was made, not one lump
    samples = ffmpeg_decode(b"".join(chunks), 22050)
    seconds = samples.size / 22050
    assert 5 < seconds < 20, seconds
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # speech, not silence


def test_convert_realtime_names_a_voice_of_another_provider_and_reports_an_unknown_one(
    tls_service,
):
    url, token = tls_service
    client = ElevenLabs(api_key=token, base_url=url)
    audio = b"".join(
        client.text_to_speech.convert_realtime(
            voice_id=f"piper/{VOICE}", text=iter(["Hello there. "]), output_format="pcm_16000"
        )
    )
    assert 0.4 < len(audio) / 2 / 16000 < 5
    with pytest.raises(ApiError) as refused:
        list(
            client.text_to_speech.convert_realtime(
                voice_id="nobody", text=iter(["Hello there. ", "And more. "])
            )
        )
    assert refused.value.status_code == 1008
    assert "nobody" in str(refused.value.body)
