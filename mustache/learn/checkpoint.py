"""Checkpoints: state dicts plus the configs that built them, written atomically.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(weights_only=True)``. It names its ``kind`` ("mustache-gan", "mustache-classifier")
and carries each network's config as a dict, so loading needs no architecture flags.
A run folder's checkpoints live in ``<run>/checkpoints/``; ``latest.pt`` is always a complete,
loadable copy of the newest one.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import torch

from data_prep.config import from_dict
from mustache.errors import BadInput

GAN_KIND = "mustache-gan"
CLASSIFIER_KIND = "mustache-classifier"


def save(path: str | os.PathLike, payload: dict) -> None:
    """Atomically write ``payload``: a kill while saving leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(payload, buf)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file, or a run folder (-> its ``checkpoints/latest.pt``)."""
    p = Path(path)
    if p.is_dir():
        for cand in (p / "checkpoints" / "latest.pt", p / "latest.pt"):
            if cand.is_file():
                return cand
        raise BadInput(f"{p}: run folder holds no checkpoints/latest.pt")
    if not p.is_file():
        raise BadInput(f"{p}: checkpoint not found")
    return p


def load(path: str | os.PathLike, kind: str | None = None) -> dict:
    """Load a checkpoint (file or run folder) on the CPU with ``weights_only=True``.

    Raises :class:`mustache.errors.BadInput` naming the file when it is missing, corrupt, not
    a checkpoint, or of another ``kind``.
    """
    p = resolve(path)
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for damaged files
        raise BadInput(f"{p}: not a loadable checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "kind" not in ckpt:
        raise BadInput(f"{p}: not a mustache checkpoint")
    if kind is not None and ckpt["kind"] != kind:
        raise BadInput(f"{p}: is a {ckpt['kind']} checkpoint, expected {kind}")
    return ckpt


def load_network(path: str | os.PathLike, kind: str, build, config_key: str, state_key: str
                 ) -> tuple[torch.nn.Module, dict]:
    """A network from a ``kind`` checkpoint or run folder: ``build(config dict)`` makes it,
    ``ckpt[state_key]`` fills it -> (the network in eval mode, frozen, on the CPU; the checkpoint
    dict). BadInput naming the file when the two do not fit."""
    ckpt = load(path, kind)
    try:
        net = build(ckpt[config_key])
        net.load_state_dict(ckpt[state_key])
    except (KeyError, RuntimeError, TypeError, ValueError) as e:
        raise BadInput(f"{resolve(path)}: checkpoint does not match its network "
                       f"({type(e).__name__})") from None
    return net.eval().requires_grad_(False), ckpt


def load_generator(path: str | os.PathLike, device: torch.device | str = "cpu"):
    """-> an eval-mode :class:`Generator` from a GAN checkpoint (its EMA weights) or run folder,
    and the checkpoint dict (for its other configs, e.g. the region config)."""
    from mustache.learn.models.generator import Generator, GeneratorConfig

    g, ckpt = load_network(path, GAN_KIND, lambda d: Generator(from_dict(GeneratorConfig, d)),
                           "generator_config", "generator_ema")
    return g.to(device), ckpt


def export_generator(src: str | os.PathLike, dst: str | os.PathLike) -> dict:
    """Write a GAN checkpoint (file or run folder) as the small file `apply` needs: the EMA
    generator, its config, the dataset's window geometry and where it came from; no
    discriminator, optimiser or RNG state. Returns the written payload."""
    ckpt = load(src, GAN_KIND)
    keep = ("kind", "version", "generator_config", "generator_ema", "prep_config", "step")
    out = {k: ckpt[k] for k in keep if k in ckpt}
    out["source"] = {"checkpoint": str(resolve(src)),
                     "train_config": ckpt.get("train_config", {})}
    save(dst, out)
    return out
