"""Text streamed in, audio streamed out: ElevenLabs' input-streaming WebSocket protocol
(`/v1/text-to-speech/{voice_id}/stream-input` and `.../multi-stream-input`), served by the job
pipeline.

    router.py       the two routes: query parameters, then a Session
    session.py      one connection: the key, the reader, the bounded writer, the idle clock
    context.py      one context: its text buffer, its pieces as jobs (a few ahead), its audio
    text_buffer.py  where the text is cut: sentence ends, the chunk-length schedule, a flush
    audio_out.py    the pieces' PCM in the asked format (one encoder per context), alignment
    protocol.py     messages in and out, output formats, errors in ElevenLabs' shape
"""
