"""Where the shipped weights live (no imports: the torch-free start-up reads it too)."""

from pathlib import Path

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
CLASSIFIER = WEIGHTS / "classifier.pt"  # the shipped mustache classifier (the GAN's default:
# mustache.paint.gan.DEFAULT_MODEL)
