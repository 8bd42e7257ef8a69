"""`make demo`: the main job on a bundled public-domain photo (scikit-image's astronaut).

The astronaut is 512 px; phones take photos of 3000-4000 px, where every hair of a mustache is
several pixels long. So the demo also writes her at 1280 px (upscaled 2.5x; more would be all
blur), runs `mustache apply` on both with the shipped default model (result, before|after
image, JSON), then writes the before|after crop of each face's mustache at 100% (native
pixels, never resized: judge the hair there), and says what it wrote.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
from skimage import data

from data_prep.image_io import load_image, save_image
from mustache.measure.crops import before_after_crop

out = Path("out/demo")
small = data.astronaut()
for name, before in (("astronaut", small),
                     ("astronaut_1280", cv2.resize(small, (1280, 1280), interpolation=cv2.INTER_CUBIC))):
    photo = out / f"{name}.png"
    save_image(photo, before)
    result, faces_json = out / f"{name}_mustache.png", out / f"{name}_faces.json"
    cmd = [sys.executable, "-m", "mustache", "apply", str(photo), "-o", str(result), "--compare",
           "--json", str(faces_json)]
    print("$ mustache", " ".join(cmd[3:]))
    subprocess.run(cmd, check=True)
    # the faces as `apply` reported them; one 100% crop a face, stacked (PNG: no loss either)
    after = load_image(result)
    faces = [SimpleNamespace(region_box=f["region_box"], landmarks=f.get("landmarks"), box=f["box"])
             for f in json.loads(faces_json.read_text())["faces"]]
    crops = [before_after_crop(before, after, f) for f in faces]
    if crops:
        width = max(c.shape[1] for c in crops)
        crop = out / f"{name}_mustache_crop.png"
        save_image(crop, np.vstack([np.pad(c, ((0, 4), (0, width - c.shape[1]), (0, 0)),
                                           constant_values=255) for c in crops]))
        print(f"wrote {result} (the result), {crop} (before | after around the mustache at "
              f"100%: open it first), {faces_json}")
