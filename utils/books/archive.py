"""An EPUB's zip checked before any book library reads it: a real zip, within its limits,
every file inflated and counted in bounded chunks, no XML entity declarations, no DRM.

Why before: EbookLib reads every file of the manifest whole into memory, so a zip bomb (a few
kilobytes declaring gigabytes) must be refused first. The declared sizes are checked without
inflating anything; then each file is inflated in chunks and its bytes counted, so a file that
inflates past what it declares (or past the limit) stops there, never reaching memory whole.
XML is what EbookLib parses with lxml: an `<!ENTITY` declaration (billion laughs, external
entities) is refused outright, as defusedxml would, rather than trusted to parser settings.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from settings.books import BookSettings
from utils.books.models import BookError

CHUNK = 64 * 1024
CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
RIGHTS = "META-INF/rights.xml"  # Adobe ADEPT's licence: its presence means DRM
XML_SUFFIXES = (".xml", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".svg", ".smil")
# Encryption that is not DRM: the EPUB standard's and Adobe's obfuscation of embedded fonts.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
    "opf": "http://www.idpf.org/2007/opf",
}


def check_archive(data: bytes, limits: BookSettings) -> str:
    """Refuse (BookError) what is not a readable, DRM-free EPUB within `limits`; the path of
    its package document (the OPF), which has a spine."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise BookError("not an EPUB: the upload is not a zip archive") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_files:
            raise BookError(
                f"the book holds {len(infos)} files, more than {limits.max_files} (BOOK_MAX_FILES)"
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_expanded_bytes:
            raise BookError(
                f"the book expands to {declared} bytes, more than {limits.max_expanded_bytes} "
                "(BOOK_MAX_EXPANDED_BYTES); the largest file is "
                f"{max(infos, key=lambda i: i.file_size).filename}"
            )
        names = {info.filename for info in infos}
        if RIGHTS in names:
            raise BookError(f"the book is DRM-protected ({RIGHTS}); only DRM-free EPUBs are read")
        budget = limits.max_expanded_bytes
        xml: dict[str, bytes] = {}
        for info in infos:
            content, budget = _inflate(archive, info, budget, limits.max_expanded_bytes)
            if info.filename.lower().endswith(XML_SUFFIXES):
                if b"<!ENTITY" in content:
                    raise BookError(
                        f"{info.filename}: declares XML entities (<!ENTITY), which are not read"
                    )
                if info.filename in (CONTAINER, ENCRYPTION) or info.filename.endswith(".opf"):
                    xml[info.filename] = content
    if ENCRYPTION in xml:
        _refuse_drm(xml[ENCRYPTION])
    if CONTAINER not in names:
        raise BookError(f"not an EPUB: the zip has no {CONTAINER}")
    path = _package_path(xml[CONTAINER])
    if path not in xml:
        raise BookError(f"not an EPUB: {CONTAINER} names {path}, which the zip does not hold")
    check_package(xml[path], path)
    return path


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limit: int
) -> tuple[bytes, int]:
    """The file's bytes, counted as they inflate against what is left of the budget."""
    parts: list[bytes] = []
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                budget -= len(chunk)
                if budget < 0:
                    raise BookError(
                        f"{info.filename}: the book inflates past {limit} bytes "
                        "(BOOK_MAX_EXPANDED_BYTES)"
                    )
                parts.append(chunk)
    except RuntimeError:  # a zip password: the file is encrypted
        raise BookError(f"{info.filename}: encrypted in the zip; the book cannot be read") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
        raise BookError(
            f"{info.filename}: damaged in the zip (or an unknown compression)"
        ) from None
    return b"".join(parts), budget


def _parse(content: bytes, name: str):
    try:
        return SafeET.fromstring(content)
    except DefusedXmlException:
        raise BookError(f"{name}: declares a DTD or entities, which are not read") from None
    except SafeET.ParseError as exc:
        raise BookError(f"{name}: not well-formed XML (line {exc.position[0]})") from None


def _refuse_drm(content: bytes) -> None:
    """encryption.xml encrypting anything but fonts (by the obfuscation algorithms): DRM."""
    root = _parse(content, ENCRYPTION)
    encrypted = []
    for item in root.iter(f"{{{NS['enc']}}}EncryptedData"):
        method = item.find("enc:EncryptionMethod", NS)
        algorithm = method.get("Algorithm") if method is not None else None
        reference = item.find(".//enc:CipherReference", NS)
        uri = reference.get("URI", "?") if reference is not None else "?"
        if algorithm not in FONT_OBFUSCATION:
            encrypted.append(uri)
    if encrypted:
        more = f" and {len(encrypted) - 1} more" if len(encrypted) > 1 else ""
        raise BookError(
            f"the book is DRM-protected: {ENCRYPTION} encrypts {encrypted[0]}{more}; only "
            "DRM-free EPUBs are read"
        )


def _package_path(container: bytes) -> str:
    root = _parse(container, CONTAINER)
    rootfile = root.find(".//c:rootfile", NS)
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise BookError(f"not an EPUB: {CONTAINER} names no package document (rootfile)")
    return posixpath.normpath(path)


def check_package(opf: bytes, path: str) -> None:
    """The package document names a spine with at least one item."""
    root = _parse(opf, path)
    spine = root.find("opf:spine", NS)
    if spine is None:
        raise BookError(f"{path}: the package has no <spine> (the reading order)")
    if spine.find("opf:itemref", NS) is None:
        raise BookError(f"{path}: the <spine> lists no documents")
