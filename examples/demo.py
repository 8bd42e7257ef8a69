"""`make demo`: run the main job on a bundled public-domain photo (scikit-image's astronaut).

Writes the photo to out/demo/photos/, preps it into a dataset, and says what it wrote.
"""

import subprocess
import sys
from pathlib import Path

from skimage import data

from data_prep.image_io import save_image

out = Path("out/demo")
photos = out / "photos"
save_image(photos / "astronaut.png", data.astronaut())
cmd = [sys.executable, "-m", "mustache", "prep", str(photos), "--out", str(out / "dataset"),
       "--workers", "1"]
print("$", " ".join(cmd[2:]).replace("-m mustache", "mustache"))
subprocess.run(cmd, check=True)
print(f"wrote {out / 'dataset'}: faces/, windows/, masks/, manifest.jsonl, contact_sheet.png")
