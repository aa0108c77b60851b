"""PyInstaller runtime hook: package data files stored gzipped in the bundle read as the originals.

The spec stores highdicom's tables of the DICOM standard (_standard/*.json, 23 MB, read with
pkgutil.get_data when an SR or a presentation state is built) as NAME.gz (0.6 MB). When a package
asks for a file the bundle holds only gzipped, this returns the decompressed bytes: the same
bytes the package would have read (about 30 ms for the largest table, once: highdicom caches it).
"""

import gzip
import pkgutil

_get_data = pkgutil.get_data


def _get_data_or_gzipped(package, resource):
    try:
        return _get_data(package, resource)
    except FileNotFoundError:
        packed = _get_data(package, resource + ".gz")  # raises FileNotFoundError too when neither exists
        return None if packed is None else gzip.decompress(packed)


pkgutil.get_data = _get_data_or_gzipped
