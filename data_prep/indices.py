"""Named MediaPipe FaceMesh landmark indices (468 points, 478 with refined irises).

Source of truth: ``mediapipe/python/solutions/face_mesh_connections.py`` and the project's
field notes. "Left"/"right" are the viewer's left and right in an unmirrored photo.
"""

NUM_LANDMARKS = 478

UPPER_LIP_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)  # corner to corner
UPPER_LIP_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_LIP_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LOWER_LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)  # corner to corner
# A line just under the nose that bounds a mustache from above, left to right; its ends
# (57, 287) sit just outside the mouth corners.
UNDER_NOSE = (57, 186, 92, 165, 167, 164, 393, 391, 322, 410, 287)
SUBNASALE = 2
ALAR_BASES = (98, 327)
NOSE_TIP = 1
MOUTH_CORNERS = (61, 291)
LEFT_EYE_CORNERS = (33, 133)
RIGHT_EYE_CORNERS = (362, 263)
LEFT_IRIS = 468
RIGHT_IRIS = 473
FACE_SIDES = (234, 454)
FOREHEAD = 10
CHIN = 152
# Eyebrows (MediaPipe FACEMESH_RIGHT/LEFT_EYEBROW), viewer's left and right; each as a closed
# contour: the upper edge from the nose side outwards, then the lower edge back.
LEFT_BROW = (107, 66, 105, 63, 70, 46, 53, 52, 65, 55)
RIGHT_BROW = (336, 296, 334, 293, 300, 276, 283, 282, 295, 285)
