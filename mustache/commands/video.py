"""`mustache apply` on a video: every frame through :class:`mustache.video.stream.VideoMustacher`."""

from __future__ import annotations

from mustache.batch.files import paint_video as apply_video  # noqa: F401 (its home is the library)
