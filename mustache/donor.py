"""The public path of donor transfer (``from mustache.donor import DonorTransfer``), kept for
code written against it; the code lives in :mod:`mustache.paint.donor`."""

from mustache.paint.donor import DonorTransfer, style_from_photo

__all__ = ["DonorTransfer", "style_from_photo"]
