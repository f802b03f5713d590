"""Pose estimation: MoveNet models, their backends, and the letterboxing around them."""

from lalelu.pose.estimator import Estimator, load_estimator
from lalelu.pose.keypoints import KEYPOINT_NAMES, Person

__all__ = ["Estimator", "load_estimator", "KEYPOINT_NAMES", "Person"]
