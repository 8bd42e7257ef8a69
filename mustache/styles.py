"""The public path of the named styles (``from mustache.styles import STYLES, Style``), kept
for code written against it; the code lives in :mod:`mustache.paint.styles`."""

from mustache.paint.styles import NATURAL, STYLES, Style, style_named

__all__ = ["NATURAL", "STYLES", "Style", "style_named"]
