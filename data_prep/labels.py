"""Label sources: where a photo's mustache / clean label comes from.

Each source is a function ``(photo path relative to the input folder) -> label or None``:
from folder names (``photos/mustache/...``, ``photos/clean/...``), from a CSV (``file,label``),
from a CelebA attribute file, or none.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MUSTACHE, CLEAN = "mustache", "clean"
LABELS = (CLEAN, MUSTACHE)  # index = class id used by models: 0 clean, 1 mustache
_ALIASES = {
    "mustache": MUSTACHE, "moustache": MUSTACHE, "1": MUSTACHE, "yes": MUSTACHE, "true": MUSTACHE,
    "clean": CLEAN, "clean-shaven": CLEAN, "clean_shaven": CLEAN, "shaven": CLEAN, "0": CLEAN,
    "-1": CLEAN, "no": CLEAN, "false": CLEAN, "none": CLEAN,
}

_FOLDER_NAMES = {k: v for k, v in _ALIASES.items() if k.isalpha() or "-" in k or "_" in k}
_FOLDER_NAMES = {k: v for k, v in _FOLDER_NAMES.items() if k not in ("yes", "no", "true", "false", "none")}

LabelFn = Callable[[str], "str | None"]


def normalise_label(value: str) -> str | None:
    """'Mustache', 'moustache', '1' -> 'mustache'; 'clean', '0', '-1' -> 'clean'; '' -> None."""
    v = value.strip().lower()
    if not v:
        return None
    if v not in _ALIASES:
        raise ValueError(f"unknown label {value!r} (use 'mustache' or 'clean')")
    return _ALIASES[v]


def no_labels(rel: str) -> None:
    return None


def from_folders(rel: str) -> str | None:
    """The nearest parent folder named like a label: 'mustache/a.jpg' -> 'mustache'."""
    for part in reversed(PurePosixPath(rel).parts[:-1]):
        label = _FOLDER_NAMES.get(part.lower())
        if label is not None:
            return label
    return None


class _Lookup:
    """A table from relative path or file name to label (a class, so workers can pickle it)."""

    def __init__(self, table: dict[str, str | None]):
        self.table = table
        # also by file name, so 'images/A/A_0001.jpg' in a CSV matches 'A/A_0001.jpg'
        self.by_name = {PurePosixPath(k).name: v for k, v in table.items()}

    def __call__(self, rel: str) -> str | None:
        if rel in self.table:
            return self.table[rel]
        return self.by_name.get(PurePosixPath(rel).name)


def from_csv(path: str | Path) -> LabelFn:
    """A CSV with a header holding ``file`` and ``label`` columns; files match by relative path
    or by file name."""
    table: dict[str, str | None] = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        if "file" not in cols or "label" not in cols:
            raise ValueError(f"{path}: needs a header with 'file' and 'label' columns, "
                             f"got {reader.fieldnames}")
        for row in reader:
            table[row[cols["file"]].strip()] = normalise_label(row[cols["label"]] or "")
    return _Lookup(table)


def read_celeba_attrs(path: str | Path) -> dict[str, dict[str, int]]:
    """CelebA ``list_attr_celeba.txt`` format -> {file: {attribute: 1 or -1}}."""
    lines = Path(path).read_text().splitlines()
    if len(lines) < 2:
        raise ValueError(f"{path}: not a CelebA attribute file (fewer than 2 lines)")
    names = lines[1].split()
    out = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) != len(names) + 1:
            continue
        out[parts[0]] = dict(zip(names, map(int, parts[1:]), strict=True))
    if not out or "Mustache" not in names:
        raise ValueError(f"{path}: not a CelebA attribute file (no Mustache column)")
    return out


def celeba_label(attrs: dict[str, int]) -> str | None:
    """Mustache=1 -> mustache; no mustache, no goatee and No_Beard=1 -> clean; else None
    (beards and stubble without a mustache are neither)."""
    if attrs.get("Mustache") == 1:
        return MUSTACHE
    if attrs.get("Mustache") == -1 and attrs.get("Goatee") == -1 and attrs.get("No_Beard") == 1:
        return CLEAN
    return None


def from_celeba(path: str | Path) -> LabelFn:
    rows = read_celeba_attrs(path)
    return _Lookup({f: celeba_label(a) for f, a in rows.items()})
