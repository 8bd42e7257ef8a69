"""`make demo`: the main job on a bundled public-domain photo (scikit-image's astronaut).

Writes out/demo/astronaut.png, then runs `mustache apply` on it with the shipped default
model, writing the result and a before/after image, and says what it wrote.
"""

import subprocess
import sys
from pathlib import Path

from skimage import data

from data_prep.image_io import save_image

out = Path("out/demo")
photo = out / "astronaut.png"
save_image(photo, data.astronaut())
cmd = [sys.executable, "-m", "mustache", "apply", str(photo), "-o", str(out / "astronaut_mustache.png"),
       "--compare", "--json", str(out / "faces.json")]
print("$ mustache", " ".join(cmd[3:]))
subprocess.run(cmd, check=True)
print(f"wrote {out / 'astronaut_mustache.png'} (the result), "
      f"{out / 'astronaut_mustache_compare.png'} (before | after), {out / 'faces.json'}")
