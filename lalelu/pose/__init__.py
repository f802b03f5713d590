"""Pose estimation: MoveNet models, their backends, and the letterboxing around them."""

from lalelu.pose.estimator import Estimator, load_estimator

__all__ = ["Estimator", "load_estimator"]
