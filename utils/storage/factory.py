"""The configured storage backend, from its own settings (StorageSettings)."""

from __future__ import annotations

from utils.storage.base import Storage, StorageSettings


def build_storage(settings: StorageSettings) -> Storage:
    if settings.backend == "cloudinary":
        # Imported only when configured: the SDK is not loaded otherwise.
        from utils.storage.cloudinary import CloudinaryStorage

        return CloudinaryStorage(settings)
    from utils.storage.local import LocalStorage

    return LocalStorage(settings.root)
