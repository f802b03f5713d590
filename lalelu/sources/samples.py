"""The sample media moved to lalelu/samples.py (pose reads the demo clip too, and pose imports no sources);
this name stays for the code and tests that import it from here."""

from lalelu.samples import DEMO_MEMBER, SPORTS2D_VERSION, demo_video_path

__all__ = ["DEMO_MEMBER", "SPORTS2D_VERSION", "demo_video_path"]
