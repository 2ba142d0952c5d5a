"""OpenAI's speech API (POST /v1/audio/speech and its neighbours), served by the job pipeline."""
