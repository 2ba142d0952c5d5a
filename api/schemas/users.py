"""Response body of DELETE /users/{username}: what went with the user."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UserDeletedOut(BaseModel):
    username: str
    jobs: int = Field(description="Jobs deleted: their keys and their stored audio.")
    audio_objects: int = Field(description="Stored audio files deleted.")
    api_keys: int
    accounts: int = Field(description="The user's own provider accounts deleted.")
    audio_left: int = Field(
        description="Jobs whose audio the storage could not delete now; beat's purge deletes "
        "it by age (JOB_TTL)."
    )
