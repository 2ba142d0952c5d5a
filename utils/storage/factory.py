"""The configured storage backend, from its own settings (StorageSettings)."""

from __future__ import annotations

from settings.storage import StorageSettings
from utils.storage.base import Storage


def build_storage(settings: StorageSettings) -> Storage:
    if settings.backend == "cloudinary":
        # Imported only when configured: the SDK is not loaded otherwise.
        from utils.storage.cloudinary import CloudinaryStorage

        return CloudinaryStorage(settings)
    if settings.backend == "s3":
        from utils.storage.s3 import S3Storage

        return S3Storage(settings)
    from utils.storage.local import LocalStorage

    return LocalStorage(settings.root)
