"""Where retrieved and received objects go: ``FOLDER/<StudyInstanceUID>/<SOPInstanceUID>.dcm``.

Each file is written to a hidden temp file in its final folder (owner-only, 0600) and renamed when
complete, so no half-written file is ever visible. Folders are created owner-only (0700). A store
counts objects and bytes and refuses what goes over its limits; ``discard`` removes everything a
transfer wrote (after a cancel or a failure).
"""

from __future__ import annotations

import threading
from pathlib import Path

from cxviewer.files.atomic import atomic_write_bytes
from cxviewer.files.folders import make_dirs_private
from cxviewer.files.uid_names import uid_file_stem
from cxviewer.pacs.errors import LimitExceeded
from cxviewer.paths import private_dir, user_data_dir  # private_dir: 0700, also an existing folder

DEFAULT_MAX_OBJECT_BYTES = 1 << 30  # 1 GiB: larger than any radiograph, smaller than a disk
DEFAULT_MAX_OBJECTS = 100_000


def default_folder() -> Path:
    """The app's own folder for PACS objects (under the user data folder)."""
    return private_dir(user_data_dir() / "pacs")




class ObjectStore:
    """Writes DICOM objects under one folder, with limits; thread-safe."""

    def __init__(self, folder: Path, max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
                 max_objects: int = DEFAULT_MAX_OBJECTS) -> None:
        # a folder the user named (``pacs get --out``) keeps its mode (it may be shared); what is made here is 0700
        self.folder = make_dirs_private(Path(folder))
        self.max_object_bytes = max_object_bytes
        self.max_objects = max_objects
        self.written: list[Path] = []
        self._lock = threading.Lock()

    def path_for(self, study_uid: str, sop_uid: str) -> Path:
        return self.folder / uid_file_stem(study_uid) / f"{uid_file_stem(sop_uid)}.dcm"

    def check_size(self, size: int) -> None:
        if size > self.max_object_bytes:
            raise LimitExceeded(f"object of {size} bytes is over the limit of {self.max_object_bytes}")

    def save(self, data: bytes, study_uid: str, sop_uid: str) -> Path:
        """``data``: a complete DICOM file (preamble, file meta, data set)."""
        self.check_size(len(data))
        with self._lock:
            if len(self.written) >= self.max_objects:
                raise LimitExceeded(f"more than {self.max_objects} objects in one transfer")
            path = self.path_for(study_uid, sop_uid)
            private_dir(path.parent)
            atomic_write_bytes(path, data, private=True)  # 0600, never half a file
            if path not in self.written:
                self.written.append(path)
            return path

    def discard(self) -> None:
        """Remove every file this store wrote, and the study folders left empty."""
        with self._lock:
            for path in self.written:
                path.unlink(missing_ok=True)
                try:
                    path.parent.rmdir()
                except OSError:
                    pass
            self.written.clear()
