"""The service's settings, one small module per subsystem; config.py composes them.

The bottom layer: these modules import nothing of api/, workers/, utils/ or config, so every
part of the service may import from here.

    base.py            where `.env` is; how a group's fields are named in the environment
    parsing.py         the one comma-or-JSON list parser, and checks several settings share
    provider_types.py  every provider type, its implementation and pool; account names
    providers.py       ProviderConfig: one entry of PROVIDERS
    piper.py           PIPER_*: the Piper voice catalogue
    local_models.py    LOCAL_DEVICE and KOKORO_*: where local engines run, Kokoro's model
    hub.py             HF_*: the Hugging Face Hub (mirror, token, offline, cache)
    storage.py         S3_*, CLOUDINARY_*, and StorageSettings (what a backend is built from)
    speech.py          SPEECH_*: the OpenAI-compatible speech endpoint
    rate_limits.py     RATE_LIMIT_*
    webhooks.py        WEBHOOK_*: a job's callback_url
    lexicons.py        LEXICON_*: pronunciation lexicons (limits, the operator's files)
    projects.py        PROJECT_*: projects (kept scripts) and voice previews
"""
