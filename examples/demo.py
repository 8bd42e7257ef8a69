"""`make demo`: the main job on a bundled public-domain photo (scikit-image's astronaut).

Writes out/demo/astronaut.png, then runs `mustache apply` on it with the shipped default
model, writing the result and a before/after image, then the before|after crop of each face's
mustache at 100% (native pixels: judge the hair there), and says what it wrote.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from skimage import data

from data_prep.image_io import load_image, save_image
from mustache.crops import before_after_crop

out = Path("out/demo")
photo = out / "astronaut.png"
before = data.astronaut()
save_image(photo, before)
cmd = [sys.executable, "-m", "mustache", "apply", str(photo), "-o", str(out / "astronaut_mustache.png"),
       "--compare", "--json", str(out / "faces.json")]
print("$ mustache", " ".join(cmd[3:]))
subprocess.run(cmd, check=True)
print(f"wrote {out / 'astronaut_mustache.png'} (the result), "
      f"{out / 'astronaut_mustache_compare.png'} (before | after), {out / 'faces.json'}")

# the faces as `apply` reported them; one 100% crop a face, stacked (PNG: no loss either)
after = load_image(out / "astronaut_mustache.png")
faces = [SimpleNamespace(region_box=f["region_box"], landmarks=f.get("landmarks"), box=f["box"])
         for f in json.loads((out / "faces.json").read_text())["faces"]]
crops = [before_after_crop(before, after, f) for f in faces]
if crops:
    width = max(c.shape[1] for c in crops)
    crop = out / "astronaut_mustache_crop.png"
    save_image(crop, np.vstack([np.pad(c, ((0, 4), (0, width - c.shape[1]), (0, 0)), constant_values=255)
                                for c in crops]))
    print(f"wrote {crop} (before | after around the mustache at 100%: open it first)")
