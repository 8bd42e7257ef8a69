"""The page's settings, checked at the edge: a request's query -> one :class:`Settings`, or
:class:`BadSetting` (answered 422) naming the setting, the value and what it may be.

Every value is checked here, before a body is read or a job queued: nothing out of range
reaches numpy or the model (a seed of -1 used to end in a numpy error and a 500).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mustache.errors import BadInput

if TYPE_CHECKING:
    from mustache.paint.options import ApplyOptions

SEED_MAX = 2**31 - 1  # seeds a JavaScript number and every numpy generator take as they are
MAX_VARIATIONS = 6
MAX_FACES = 64  # face indices one request may name
NAME_MAX = 255  # a file name's length on every common file system
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what new_token() makes: url-safe base64, ASCII
KNOWN = ("seed", "strength", "style", "color", "length", "thickness", "curl", "faces", "force",
         "donor", "name", "count", "keep_exif")


class BadSetting(BadInput):
    """A setting out of its range or of the wrong kind (answered 422)."""


@dataclass(frozen=True)
class Settings:
    """One request's settings, every one checked. ``options`` is what the model gets; the
    other fields are the page's own."""

    seed: int = 0
    strength: float = 1.0
    style: str = "natural"
    color: str = ""  # "" = from the eyebrows
    length: float = 1.0
    thickness: float = 1.0
    curl: float = 1.0
    faces: tuple[int, ...] | None = None  # only these faces; None all
    force: bool = False
    donor: str = ""  # a token from /api/donor; "" = the generator
    name: str = "photo"  # the upload's file name, for the download's
    count: int = 4  # variations
    keep_exif: bool = False  # downloads keep EXIF whole, location included
    options: ApplyOptions | None = field(default=None, compare=False, repr=False)

    def stream_key(self) -> tuple:
        """What a webcam stream is painted with: a change of any of it starts a new one."""
        return (self.seed, self.strength, self.style, self.color, self.length, self.thickness,
                self.curl, self.faces, self.force, self.donor)


def parse_settings(query: Mapping[str, Sequence[str]], keep_exif: bool = False) -> Settings:
    """The query's values (name -> every value given) -> :class:`Settings`; ``keep_exif``:
    the server's default for that setting."""
    from mustache.paint.options import ApplyOptions
    from mustache.paint.styles import style_named

    for key, values in query.items():
        if key not in KNOWN:
            raise BadSetting(f"unknown setting {key!r} (known: {', '.join(KNOWN)})")
        if len(values) > 1:
            raise BadSetting(f"{key} is given {len(values)} times; give it once")
    q = {k: v[0] for k, v in query.items()}
    s = dict(
        seed=_int(q, "seed", 0, 0, SEED_MAX),
        strength=_float(q, "strength", 1.0, 0.0, 1.0),
        length=_float(q, "length", 1.0, 0.0, 4.0, open_low=True),
        thickness=_float(q, "thickness", 1.0, 0.0, 4.0),
        curl=_float(q, "curl", 1.0, 0.0, 4.0),
        force=_bool(q, "force", False),
        keep_exif=_bool(q, "keep_exif", keep_exif),
        count=_int(q, "count", 4, 1, MAX_VARIATIONS),
        faces=_faces(q.get("faces", "")),
        color=q.get("color", "").strip(),
        donor=q.get("donor", ""),
        name=q.get("name", "photo") or "photo",
    )
    if s["seed"] + s["count"] - 1 > SEED_MAX:
        raise BadSetting(f"seed + count - 1 must be at most {SEED_MAX}, got {s['seed']} + {s['count']} - 1")
    if len(s["name"]) > NAME_MAX:
        raise BadSetting(f"name must be at most {NAME_MAX} characters, got {len(s['name'])}")
    if s["donor"] and not TOKEN.fullmatch(s["donor"]):
        raise BadSetting("donor must be a token from /api/donor")
    if len(s["color"]) > 40:
        raise BadSetting(f"color must be a colour name or #rrggbb, got {s['color'][:40]!r}...")
    try:
        style = style_named(q.get("style", "natural"))
        options = ApplyOptions(seed=s["seed"], strength=s["strength"], style=style,
                               color=s["color"] or None, length=s["length"],
                               thickness=s["thickness"], curl=s["curl"], faces=s["faces"],
                               force=s["force"])
    except ValueError as e:  # the options' own checks (style, colour) name it and the choices
        raise BadSetting(" ".join(str(e).split())) from None
    return Settings(style=style.name, options=options, **s)


def _int(q: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    v = q.get(key, "").strip()
    if not v:
        return default
    if not re.fullmatch(r"[+-]?\d{1,12}", v):
        raise BadSetting(f"{key} must be a whole number in {low}..{high}, got {v[:40]!r}")
    n = int(v)
    if not low <= n <= high:
        raise BadSetting(f"{key} must be in {low}..{high}, got {n}")
    return n


def _float(q: Mapping[str, str], key: str, default: float, low: float, high: float,
           open_low: bool = False) -> float:
    v = q.get(key, "").strip()
    if not v:
        return default
    try:
        x = float(v) if len(v) <= 40 else math.nan
    except ValueError:
        x = math.nan
    inside = (low < x if open_low else low <= x) and x <= high  # NaN is inside nothing
    if not inside:
        shown = f"{'(' if open_low else '['}{low:g}, {high:g}]"
        raise BadSetting(f"{key} must be a number in {shown}, got {v[:40]!r}")
    return x


def _bool(q: Mapping[str, str], key: str, default: bool) -> bool:
    v = q.get(key, "").strip().lower()
    if not v:
        return default
    if v not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise BadSetting(f"{key} must be true or false, got {v[:40]!r}")
    return v in ("true", "1", "yes", "on")


def _faces(v: str) -> tuple[int, ...] | None:
    v = v.strip()
    if v in ("", "all"):
        return None
    if v == "none":
        return ()
    parts = v.split(",")
    if len(parts) > MAX_FACES or not all(re.fullmatch(r"\d{1,4}", p.strip()) for p in parts):
        raise BadSetting(f"faces must be up to {MAX_FACES} face numbers like 0,2 (or all or "
                         f"none), got {v[:40]!r}")
    return tuple(sorted({int(p) for p in parts}))
