"""The one conversion between pixels and what the networks see.

At the edges images are ``uint8`` ``(N, H, W, 3)`` RGB and masks ``uint8`` ``(N, H, W)`` 0-255;
inside the networks images are float ``(N, 3, H, W)`` in [-1, 1] and masks float
``(N, 1, H, W)`` in [0, 1]. Every function takes a torch tensor (or a numpy array where pixels
come in), keeps it on its device, and raises ``ValueError`` naming the shape or dtype it got.
"""

from __future__ import annotations

import numpy as np

_SCALE = 127.5  # half of 255: uint8 0..255 <-> float -1..1


def to_model(u8):
    """Images uint8 ``(N, H, W, 3)`` (tensor or array) -> float32 ``(N, 3, H, W)`` in [-1, 1]."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(u8)) if isinstance(u8, np.ndarray) else u8
    if t.dtype != torch.uint8 or t.ndim != 4 or t.shape[3] != 3:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {t.dtype} {tuple(t.shape)}")
    return t.permute(0, 3, 1, 2).float() / _SCALE - 1


def to_uint8(x):
    """Float ``(N, 3, H, W)`` (about [-1, 1]) -> uint8 ``(N, H, W, 3)``, clamped and rounded:
    exact inverse of :func:`to_model`."""
    if not x.is_floating_point() or x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be float (N, 3, H, W), got {x.dtype} {tuple(x.shape)}")
    u8 = ((x.float().clamp(-1, 1) + 1) * _SCALE).round().byte()
    return u8.permute(0, 2, 3, 1).contiguous()


def mask_to_model(u8):
    """Masks uint8 ``(N, H, W)`` 0-255 (tensor or array) -> float32 ``(N, 1, H, W)`` in [0, 1]."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(u8)) if isinstance(u8, np.ndarray) else u8
    if t.dtype != torch.uint8 or t.ndim != 3:
        raise ValueError(f"masks must be uint8 (N, H, W), got {t.dtype} {tuple(t.shape)}")
    return t[:, None].float() / 255


def change_to_pixels(d):
    """A change between two model images, float ``(N, 3, H, W)`` -> float32 ``(N, H, W, 3)`` in
    pixel units (-255..255): what adding it does to the uint8 photo."""
    if not d.is_floating_point() or d.ndim != 4 or d.shape[1] != 3:
        raise ValueError(f"change must be float (N, 3, H, W), got {d.dtype} {tuple(d.shape)}")
    return (d.float() * _SCALE).permute(0, 2, 3, 1)
