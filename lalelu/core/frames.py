"""A frame as every source hands it over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Frame:
    index: int           # 0, 1, 2, ... in the order the source delivers them
    t_capture: int       # time.monotonic_ns() when the frame became ready
    image: np.ndarray    # H x W x 3 uint8 BGR
    t_kernel: int = 0    # the driver's own capture stamp (a camera's), mapped to time.monotonic_ns(); 0 = unknown
