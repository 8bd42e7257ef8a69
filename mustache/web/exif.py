"""What a JPEG download keeps of its photo's EXIF, decided when the photo is read (so a tag that
cannot be written back never fails a request after the model ran).

Kept: every tag, less the orientation (the pixels are already upright) and, unless asked to
keep EXIF whole, the GPS block (where the photo was taken: a leak nobody expects of a photo
with a mustache on it). Pillow writes EXIF back from its parsed tags, by each known tag's
standard type: a tag stored with another type (a SHORT holding 70000) cannot be written, and
short ASCII values grow when written (a terminating NUL), so thousands of tags can outgrow
JPEG's 64 KB segment. Then only the tags that can be written are kept, or none: the download
is never refused for its EXIF, and the page is told what was left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

ORIENTATION = 0x0112
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
MAX_SEGMENT = 65533  # the largest EXIF a JPEG can carry (Pillow's MAX_BYTES_IN_MARKER)
MAX_TAGS = 1000  # past this many tags only the known ones are tried one by one


def download_exif(exif: Image.Exif, keep_location: bool = False) -> tuple[bytes, str | None]:
    """``exif`` as read -> (the bytes a JPEG download carries, b"" for none; a note for the
    page when some or all of it could not be kept)."""
    if not len(exif):
        return b"", None
    try:
        tags = _tags(exif, keep_location)
    except Exception:  # a sub-block Pillow cannot parse: nothing of it is trusted
        return b"", "the photo's EXIF could not be read, so the download has none"
    data = _bytes(tags)
    if data is not None:
        return data, None
    kept = _writable(tags)
    data = _bytes(kept) if kept else None
    if data is None:
        return b"", "the photo's EXIF could not be written back, so the download has none"
    return data, (f"{_count(tags) - _count(kept)} of the photo's EXIF tags could not be "
                  f"written back and were left out of the download")


def _tags(exif: Image.Exif, keep_location: bool) -> dict[int, Any]:
    """The base tags, with the EXIF (and its interoperability) and GPS blocks as dicts, less
    what is not kept."""
    drop = {ORIENTATION} if keep_location else {ORIENTATION, GPS_IFD}
    out: dict[int, Any] = {}
    for tag, value in exif.items():
        if tag in drop:
            continue
        if tag == EXIF_IFD:
            value = dict(exif.get_ifd(EXIF_IFD))
            if INTEROP_IFD in value:
                value[INTEROP_IFD] = dict(exif.get_ifd(INTEROP_IFD))
        elif tag == GPS_IFD:
            value = dict(exif.get_ifd(GPS_IFD))
        out[tag] = value
    return out


def _bytes(tags: dict[int, Any]) -> bytes | None:
    """The tags as a JPEG's EXIF segment; None when Pillow cannot write them (struct.error,
    TypeError, ...: a tag holding a value its type cannot) or they are too long."""
    from PIL import Image

    exif = Image.Exif()
    for tag, value in tags.items():
        exif[tag] = value
    try:
        data = exif.tobytes()
    except Exception:
        return None
    return data if len(data) <= MAX_SEGMENT else None


def _writable(tags: dict[int, Any]) -> dict[int, Any]:
    """Only the tags that can be written each on its own (blocks tag by tag); only the standard
    ones when there are more than MAX_TAGS (thousands of private tags are junk) or all of
    those do not fit."""
    from PIL import ExifTags, TiffTags

    known = set(ExifTags.TAGS) | set(TiffTags.TAGS_V2) | set(ExifTags.GPSTAGS)
    if _count(tags) > MAX_TAGS:
        tags = _known(tags, known)
    out = _each(tags)
    return out if _bytes(out) is not None else _known(out, known)


def _each(tags: dict[int, Any], path: tuple[int, ...] = ()) -> dict[int, Any]:
    """The tags that can be written alone, each tried inside its own block (``path``: the
    blocks' tags), as Pillow writes a tag by its block's types."""
    out: dict[int, Any] = {}
    for tag, value in tags.items():
        if isinstance(value, dict):
            if block := _each(value, (*path, tag)):
                out[tag] = block
            continue
        alone: dict[int, Any] = {tag: value}
        for parent in reversed(path):
            alone = {parent: alone}
        if _bytes(alone) is not None:
            out[tag] = value
    return out


def _known(tags: dict[int, Any], known: set[int]) -> dict[int, Any]:
    return {t: _known(v, known) if isinstance(v, dict) else v for t, v in tags.items() if t in known}


def _count(tags: dict[int, Any]) -> int:
    return sum(_count(v) if isinstance(v, dict) else 1 for v in tags.values())
