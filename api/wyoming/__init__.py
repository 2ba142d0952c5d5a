"""A Wyoming server: Home Assistant's protocol for local voice services, spoken by this service.

Its own process (`python -m api.wyoming`, started by `make run` beside the API), on
WYOMING_PORT (10200). A connection sends events (a JSON line, then optional data and payload):

    describe                          -> info: every configured provider's voices, languages
    synthesize {text, voice}          -> audio-start, audio-chunk..., audio-stop
    synthesize-start {voice}          -> (streaming, as Home Assistant sends an LLM's reply)
      synthesize-chunk {text}...         each sentence, once complete, is sent to the workers;
      synthesize {text}                  (ignored inside a stream: Home Assistant's copy)
      synthesize-stop                 -> audio-start, audio-chunk... as made, audio-stop,
                                         synthesize-stopped
    ping                              -> pong

The audio is made the way POST /v1/audio/speech makes it: the text cut at sentences into
pieces (utils/text/sentences.py), submitted as a blocks-only job in PCM (utils/jobs/submit.py),
so account slots, fair share, the audio cache and the workers all apply; each block's PCM is read
as it is stored (api/streaming.py block_pcm_in_order) and sent as small audio-chunk events.

Anything wrong (a malformed event, an unknown voice, text over WYOMING_MAX_TEXT_CHARS, a client
that stops reading, an idle connection, a failed synthesis) is answered with an `error` event
and the connection closed; nothing a client sends is buffered without a bound.

    framing.py   reading events with bounds; the error event
    voices.py    the info event, and a request's voice resolved to a provider's
    speaking.py  text to jobs, jobs to PCM chunks
    handler.py   one connection: the protocol's states
    server.py    the process: clients, the TCP server
"""
