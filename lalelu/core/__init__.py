"""Shared types below every room: keypoints, limbs, hits, the body frame, messages, the parts' protocols,
the TOML reader and the hit matcher. Nothing here imports another lalelu package but `lalelu.errors`."""
