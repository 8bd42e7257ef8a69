"""data_prep: the image-processing toolkit beneath `mustache`.

Landmarks (MediaPipe FaceMesh), alignment, the canvas (the canonical face and each face's
mesh map to it, over the triangle geometry of `triangles`), the mustache region and window,
quality filters, dataset building and the training Dataset. It never imports `mustache`.

Image convention at every edge: ``uint8`` ``(H, W, 3)`` RGB. Inside models: float ``NCHW`` in
[-1, 1]. Masks: float ``(H, W)`` in [0, 1] (``uint8`` 0-255 on disk).
"""

__version__ = "0.1.0"
