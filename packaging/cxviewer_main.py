"""Entry script of the frozen application: the same ``cxviewer`` command as the installed one."""

import multiprocessing
import os
import sys

# OpenCV's FFmpeg video backend off: the CPU bundle carries stand-ins for FFmpeg, not FFmpeg
# (packaging/slim/opencv_libs.py), and CXViewer reads no video. cv2.VideoCapture/VideoWriter then
# fail softly (isOpened() is False) instead of reaching them. Read when OpenCV first lists its
# video backends, so it is set before anything imports cv2.
os.environ["OPENCV_VIDEOIO_PRIORITY_FFMPEG"] = "0"

from cxviewer.cli import main  # noqa: E402 - after the environment above

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless when nothing spawns; required if a library does (Windows)
    sys.exit(main())
