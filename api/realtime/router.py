"""The WebSocket routes of ElevenLabs' input streaming: one context per connection
(stream-input) or several (multi-stream-input). A connection whose upgrade carries a key that
is not valid, or that comes from a page whose origin is not allowed (api/cors.py), is refused
before it opens (403); every other problem is answered in the protocol, as an error message and
a close."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from api.cors import origin_allowed
from api.realtime.access import header_key, user_of
from api.realtime.protocol import ProtocolError
from api.realtime.session import Session

router = APIRouter(prefix="/v1/text-to-speech", tags=["elevenlabs-compatible"])


async def _serve(websocket: WebSocket, voice_id: str, multi: bool) -> None:
    if not origin_allowed(websocket, websocket.app.state.settings):
        await websocket.close(code=1008)  # a page of a foreign origin: 403, as a bad key
        return
    key = header_key(websocket)
    if key is not None:
        try:
            await user_of(key, websocket.app.state)
        except ProtocolError:
            await websocket.close(code=1008)  # before accepting: the upgrade is answered 403
            return
    await websocket.accept()
    await Session(websocket, voice_id, multi).run(key)


@router.websocket("/{voice_id:path}/stream-input")
async def stream_input(websocket: WebSocket, voice_id: str) -> None:
    """Text in as it is written, audio out as each sentence is made (ElevenLabs' protocol)."""
    await _serve(websocket, voice_id, multi=False)


@router.websocket("/{voice_id:path}/multi-stream-input")
async def multi_stream_input(websocket: WebSocket, voice_id: str) -> None:
    """Several contexts on one connection, each closed at once on `close_context`."""
    await _serve(websocket, voice_id, multi=True)
