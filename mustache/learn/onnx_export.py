"""Export the shipped generator and classifier to ONNX for :mod:`mustache.learn.runtime`.

    .venv/bin/python -m mustache.learn.onnx_export [mustache/weights]     # or: make onnx

Writes ``<name>.onnx`` and ``<name>.onnx.json`` (configs and the .pt's sha1) beside each
``default.pt`` / ``classifier.pt``. Needs torch and the ``onnx`` package (the ``dev`` extra);
running the exports needs neither. The graphs are traced for one window (fixed shapes), in
the forms OpenCV 4.11's importer reads: the label as a float (N, 1) blend of the two label
embeddings (exact for 0 and 1; the importer mishandles the embedding's Gather), the decoder's
upsample + conv unfolded (its folded kernels' 6-D reshapes do not import), the classifier's
mirror image as the second item of a batch of two.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from torch import nn

from mustache.learn.runtime import file_sha1, sidecar

OPSET = 17


class _GeneratorGraph(nn.Module):
    """``Generator.forward`` with the label as float (N, 1) in {0, 1}: the same arithmetic."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, window, mask, label, noise):
        g = self.g
        w = g.label_embed.weight
        e = g.mix(torch.cat([w[0:1] * (1 - label) + w[1:2] * label, noise], dim=1))
        plane = (label * 2 - 1)[:, :, None, None] * torch.ones_like(mask)
        x0 = torch.cat([window * (1 - mask), mask, plane], dim=1)
        return window * (1 - mask) + g.unet(x0, e) * mask


def _write(net: nn.Module, args: tuple, names: list[str], dst: Path, meta: dict) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    torch.onnx.export(net, args, str(tmp), input_names=names, output_names=["out"],
                      opset_version=OPSET, dynamo=False)
    os.replace(tmp, dst)
    sidecar(dst).write_text(json.dumps(meta, indent=1) + "\n")


def export_generator(pt: str | Path, dst: str | Path | None = None) -> Path:
    """A GAN checkpoint file -> ``dst`` (default: ``<pt stem>.onnx`` beside it)."""
    from mustache.learn.checkpoint import load_generator
    from mustache.learn.models import generator as gen_module

    pt = Path(pt)
    dst = Path(dst) if dst else pt.with_suffix(".onnx")
    g, ckpt = load_generator(pt, "cpu")
    c = g.config
    keep, gen_module.FOLD_MIN_SIDE = gen_module.FOLD_MIN_SIDE, 1 << 30  # the plain decoder
    try:
        args = (torch.zeros(1, 3, c.size, c.size), torch.zeros(1, 1, c.size, c.size),
                torch.ones(1, 1), torch.zeros(1, c.noise_dim))
        _write(_GeneratorGraph(g).eval(), args, ["window", "mask", "label", "noise"], dst,
               {"kind": ckpt["kind"], "source_sha1": file_sha1(pt),
                "generator_config": ckpt["generator_config"],
                "prep_config": ckpt.get("prep_config") or {}})
    finally:
        gen_module.FOLD_MIN_SIDE = keep
    return dst


def export_classifier(pt: str | Path, dst: str | Path | None = None) -> Path:
    """A classifier checkpoint file (no mask input) -> ``dst`` (default beside it)."""
    from mustache.learn.classify import load_classifier

    pt = Path(pt)
    dst = Path(dst) if dst else pt.with_suffix(".onnx")
    model, ckpt = load_classifier(pt)
    if model.config.use_mask:
        raise ValueError(f"{pt}: a classifier with a mask input is not exported")
    s = model.config.size
    _write(model.eval(), (torch.zeros(2, 3, s, s),), ["window"], dst,
           {"kind": ckpt["kind"], "source_sha1": file_sha1(pt),
            "classifier_config": ckpt["classifier_config"],
            "prep_config": ckpt.get("prep_config") or {}})
    return dst


def main(folder: str = str(Path(__file__).resolve().parents[1] / "weights")) -> None:
    folder = Path(folder)
    for name, export in (("default.pt", export_generator), ("classifier.pt", export_classifier)):
        if (folder / name).is_file():
            out = export(folder / name)
            print(f"{out}: {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
