"""Video access through PyAV only: a frame-accurate random-access reader with caching and a
background packet index, proxies for long-GOP files, an in-memory synthetic reader for tests,
and compressed-domain signals (motion vectors, residuals) read from the codec."""

from annotator.video.base import VideoReader, open_video

__all__ = ["VideoReader", "open_video"]
