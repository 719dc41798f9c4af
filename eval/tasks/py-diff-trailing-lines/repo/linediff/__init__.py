"""Line diffs by longest common subsequence."""

from .diff import diff, render, stats

__all__ = ["diff", "render", "stats"]
