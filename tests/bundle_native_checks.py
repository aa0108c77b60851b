"""Checks of the CPU bundle's slimmed native libraries, run by tests/test_packaging.py in a fresh process.

    python tests/bundle_native_checks.py opencv BUNDLE   # the bundle's cv2 on its stand-ins and BLAS shim
    python tests/bundle_native_checks.py blas BUNDLE     # each BLAS/LAPACK routine of the shim against numpy
    python tests/bundle_native_checks.py ffmpeg BUNDLE   # a call into the FFmpeg stand-in says what is missing
    python tests/bundle_native_checks.py icu BUNDLE      # Qt's ICU calls on the slim ICU data

A fresh interpreter of the development venv loads the bundle's own binaries (cv2.abi3.so finds the
stand-ins beside it through its RPATH; the shim finds numpy's OpenBLAS the same way; libicui18n
its libicuuc and libicudata). It must not have imported the venv's cv2 or PySide6 first: their
libraries carry the same sonames and would be taken instead. Prints one line per check; exits
non-zero (assertion) on the first wrong result.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path

import numpy as np


def load_cv2(bundle: Path):
    assert "cv2" not in sys.modules
    spec = importlib.util.spec_from_file_location("cv2", next((bundle / "_internal" / "cv2").glob("cv2*.so")))
    cv2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cv2)
    return cv2


def check_opencv(bundle: Path) -> None:
    os.environ["OPENCV_VIDEOIO_PRIORITY_FFMPEG"] = "0"  # as packaging/cxviewer_main.py sets it
    cv2 = load_cv2(bundle)
    rng = np.random.default_rng(16)
    n = 300  # above OpenCV's small-matrix thresholds: the work goes to LAPACK and BLAS
    for dtype, tol in ((np.float32, 1e-3), (np.float64, 1e-9)):
        a = rng.standard_normal((n, n))
        spd = (a @ a.T + n * np.eye(n)).astype(dtype)
        b = rng.standard_normal((n, 3)).astype(dtype)
        want = np.linalg.solve(spd.astype(np.float64), b.astype(np.float64))
        for flag in ("DECOMP_LU", "DECOMP_CHOLESKY", "DECOMP_SVD", "DECOMP_QR", "DECOMP_EIG"):
            ok, x = cv2.solve(spd, b, flags=getattr(cv2, flag))
            assert ok and np.allclose(x, want, atol=tol), (dtype, flag)
        m = a.astype(dtype)
        w, _, _ = cv2.SVDecomp(m)
        assert np.allclose(w.ravel(), np.linalg.svd(a, compute_uv=False), rtol=1e-4 if dtype == np.float32 else 1e-10)
        assert np.allclose(cv2.gemm(m, b, 1.0, None, 0.0), m @ b, rtol=1e-4, atol=1e-3)
        print(f"opencv {np.dtype(dtype).name}: solve (LU, Cholesky, SVD, QR, eigen), SVD and gemm match numpy")
    z = rng.standard_normal((200, 200, 2)).astype(np.float32)
    zc = z[..., 0] + 1j * z[..., 1]
    g = cv2.gemm(z, z, 1.0, None, 0.0)
    assert np.allclose(g[..., 0] + 1j * g[..., 1], zc @ zc, atol=1e-2)
    print("opencv complex gemm matches numpy")
    grey16 = rng.integers(0, 65536, (64, 80)).astype(np.uint16)
    for ext in (".png", ".tiff"):
        ok, buf = cv2.imencode(ext, grey16)
        assert ok and np.array_equal(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), grey16), ext
    grey8 = (grey16 >> 8).astype(np.uint8)
    for ext, lossless in ((".png", True), (".tiff", True), (".webp", False), (".jpg", False), (".bmp", True)):
        ok, buf = cv2.imencode(ext, grey8)
        back = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        assert ok and back.shape == grey8.shape, ext
        assert np.array_equal(back, grey8) if lossless else np.abs(back.astype(int) - grey8).mean() < 8, ext
    print("opencv encodes and decodes PNG and TIFF (8 and 16 bit), WebP, JPEG, BMP")
    # damaged files of each format CXViewer hands OpenCV, and random bytes: no image, no abort (the
    # AVIF decoder, whose codec is a stand-in, is never chosen for them)
    for head in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"RIFF\0\0\0\0WEBPVP8 ", b""):
        for _ in range(10):
            data = np.frombuffer(head + rng.bytes(3000), np.uint8)
            try:
                assert cv2.imdecode(data, cv2.IMREAD_UNCHANGED) is None, head
            except cv2.error:
                pass  # OpenCV's own refusal, which CXViewer turns into a message
    print("opencv refuses damaged PNG, JPEG, TIFF, WebP and random bytes without aborting")
    assert not cv2.VideoCapture(str(bundle / "no-such-video.mp4")).isOpened()
    assert not cv2.VideoWriter(os.devnull + ".mp4", cv2.VideoWriter_fourcc(*"mp4v"), 5, (80, 64)).isOpened()
    print("opencv video through FFmpeg fails softly (backend off): not opened")


def check_ffmpeg_stand_in(bundle: Path) -> None:
    os.environ.pop("OPENCV_VIDEOIO_PRIORITY_FFMPEG", None)  # FFmpeg backend on: reaches the stand-in
    cv2 = load_cv2(bundle)
    cv2.VideoCapture(str(bundle / "no-such-video.mp4"))
    raise AssertionError("the FFmpeg stand-in returned")  # it prints what is missing and aborts


# ---------------------------------------------------------------- the BLAS/LAPACK shim, routine by routine
def check_blas(bundle: Path) -> None:
    shim = ctypes.CDLL(str(next((bundle / "_internal" / "opencv_python_headless.libs").glob("libopenblas*"))))
    rng = np.random.default_rng(7)
    i = ctypes.c_int
    ref = lambda v: ctypes.byref(i(v))  # noqa: E731
    ptr = lambda arr: arr.ctypes.data_as(ctypes.c_void_p)  # noqa: E731

    def lapack(name: str, *args, strings: int = 0) -> int:
        """Call a LAPACK routine of the shim; its info (Fortran's hidden string lengths after it)."""
        info = i(-99)
        getattr(shim, name)(*args, ctypes.byref(info), *[ctypes.c_size_t(1)] * strings)
        return info.value

    for prefix, dtype, ctype in (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double)):
        tol = 1e-3 if dtype == np.float32 else 1e-10
        m, n, k = 37, 29, 23
        a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
        c = np.zeros((m, n), dtype)
        getattr(shim, f"cblas_{prefix}gemm")(101, 111, 111, m, n, k, ctype(1.0), ptr(a), k, ptr(b), n, ctype(0.0), ptr(c), n)
        assert np.allclose(c, a @ b, atol=tol * 10)
        size = 40
        g = np.asfortranarray(rng.standard_normal((size, size)).astype(dtype))
        spd = np.asfortranarray((g @ g.T + size * np.eye(size)).astype(dtype))
        rhs = np.asfortranarray(rng.standard_normal((size, 2)).astype(dtype))
        lu, piv = g.copy(order="F"), np.zeros(size, np.int32)
        assert lapack(f"{prefix}getrf_", ref(size), ref(size), ptr(lu), ref(size), ptr(piv)) == 0
        perm = np.arange(size)
        for row, p in enumerate(piv - 1):  # 1-based row swaps, applied in order
            perm[[row, p]] = perm[[p, row]]
        lower, upper = np.tril(lu, -1) + np.eye(size), np.triu(lu)
        assert piv.min() >= 1 and piv.max() <= size and np.allclose(lower @ upper, g[perm], atol=tol * 10)
        x, piv = rhs.copy(order="F"), np.zeros(size, np.int32)
        work = g.copy(order="F")
        assert lapack(f"{prefix}gesv_", ref(size), ref(2), ptr(work), ref(size), ptr(piv), ptr(x), ref(size)) == 0
        assert np.allclose(x, np.linalg.solve(g.astype(np.float64), rhs), atol=tol * 10)
        chol = spd.copy(order="F")
        assert lapack(f"{prefix}potrf_", b"L", ref(size), ptr(chol), ref(size), strings=1) == 0
        assert np.allclose(np.tril(chol), np.linalg.cholesky(spd.astype(np.float64)), atol=tol)
        x, work = rhs.copy(order="F"), spd.copy(order="F")
        assert lapack(f"{prefix}posv_", b"U", ref(size), ref(2), ptr(work), ref(size), ptr(x), ref(size), strings=1) == 0
        assert np.allclose(x, np.linalg.solve(spd.astype(np.float64), rhs), atol=tol)
        tall = np.asfortranarray(rng.standard_normal((60, 8)).astype(dtype))
        qr, tau, lwork = tall.copy(order="F"), np.zeros(8, dtype), 60 * 64
        scratch = np.zeros(lwork, dtype)
        assert lapack(f"{prefix}geqrf_", ref(60), ref(8), ptr(qr), ref(60), ptr(tau), ptr(scratch), ref(lwork)) == 0
        assert np.allclose(np.abs(np.triu(qr[:8])), np.abs(np.linalg.qr(tall.astype(np.float64), mode="r")), atol=tol * 10)
        ls_a, ls_b = tall.copy(order="F"), np.asfortranarray(rng.standard_normal((60, 1)).astype(dtype))
        want = np.linalg.lstsq(tall.astype(np.float64), ls_b.astype(np.float64), rcond=None)[0]
        assert lapack(f"{prefix}gels_", b"N", ref(60), ref(8), ref(1), ptr(ls_a), ref(60), ptr(ls_b), ref(60),
                      ptr(scratch), ref(lwork), strings=1) == 0
        assert np.allclose(ls_b[:8], want, atol=tol * 10)
        sv_in = np.asfortranarray(rng.standard_normal((30, 20)).astype(dtype))
        s, u, vt = np.zeros(20, dtype), np.zeros((30, 30), dtype, order="F"), np.zeros((20, 20), dtype, order="F")
        iwork, big = np.zeros(8 * 20, np.int32), np.zeros(20000, dtype)
        want = np.linalg.svd(sv_in.astype(np.float64), compute_uv=False)
        assert lapack(f"{prefix}gesdd_", b"A", ref(30), ref(20), ptr(sv_in), ref(30), ptr(s), ptr(u), ref(30), ptr(vt),
                      ref(20), ptr(big), ref(20000), ptr(iwork), strings=1) == 0
        assert np.allclose(s, want, atol=tol * 10)
        print(f"blas {prefix}: gemm, getrf (pivots), gesv, potrf, posv, geqrf, gels, gesdd match numpy")
    ev_in = np.asfortranarray(rng.standard_normal((12, 12)))
    wr, wi, vl, vr = np.zeros(12), np.zeros(12), np.zeros((12, 12), order="F"), np.zeros((12, 12), order="F")
    big = np.zeros(1000)
    want = np.sort_complex(np.linalg.eigvals(ev_in))
    assert lapack("dgeev_", b"N", b"N", ref(12), ptr(ev_in.copy(order="F")), ref(12), ptr(wr), ptr(wi), ptr(vl), ref(12),
                  ptr(vr), ref(12), ptr(big), ref(1000), strings=2) == 0
    assert np.allclose(np.sort_complex(wr + 1j * wi), want, atol=1e-8)
    cz, dz = rng.standard_normal((9, 7)) + 1j * rng.standard_normal((9, 7)), rng.standard_normal((7, 5)) + 1j * rng.standard_normal((7, 5))
    for fn, dtype in ((shim.cblas_cgemm, np.complex64), (shim.cblas_zgemm, np.complex128)):
        one, zero = np.ones(1, dtype), np.zeros(1, dtype)
        a, b, c = cz.astype(dtype), dz.astype(dtype), np.zeros((9, 5), dtype)
        fn(101, 111, 111, 9, 5, 7, ptr(one), ptr(a), 7, ptr(b), 5, ptr(zero), ptr(c), 5)
        assert np.allclose(c, cz @ dz, atol=1e-4)
    print("blas: dgeev, cgemm, zgemm match numpy")


# ---------------------------------------------------------------- ICU: what QtCore calls
def check_icu(bundle: Path) -> None:
    lib = bundle / "_internal" / "PySide6" / "Qt" / "lib"
    i18n = ctypes.CDLL(str(next(lib.glob("libicui18n.so.*"))))
    uc = ctypes.CDLL(str(next(lib.glob("libicuuc.so.*"))))
    version = re.search(r"\.so\.(\d+)", next(lib.glob("libicuuc.so.*")).name).group(1)
    status = ctypes.c_int(0)
    P = ctypes.c_void_p

    def fn(library, name, restype, *argtypes):
        f = getattr(library, f"{name}_{version}")
        f.restype, f.argtypes = restype, argtypes
        return f

    def ok() -> None:
        assert status.value <= 0, f"ICU error {status.value}"  # U_SUCCESS: errors are > 0, warnings < 0
        status.value = 0

    def u16(text: str):
        return ctypes.create_string_buffer(text.encode("utf-16-le") + b"\0\0")

    out = ctypes.create_string_buffer(512)

    def text_of(length: int) -> str:
        return out.raw[: 2 * length].decode("utf-16-le")

    st = ctypes.byref(status)
    ucol_open = fn(i18n, "ucol_open", P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
    ucol_strcoll = fn(i18n, "ucol_strcoll", ctypes.c_int, P, P, ctypes.c_int32, P, ctypes.c_int32)
    ucol_set = fn(i18n, "ucol_setAttribute", None, P, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
    orders = {}
    for locale in ("en", "de", "sv", "ja"):
        coll = ucol_open(locale.encode(), st)
        ok()
        ucol_set(coll, 7, 17, st)  # UCOL_NUMERIC_COLLATION on (QCollator::setNumericMode, file dialogs)
        ok()
        orders[locale] = tuple(ucol_strcoll(coll, u16(x), -1, u16(y), -1)
                               for x, y in (("file2", "file10"), ("\u00e4", "b"), ("a", "B")))
    assert orders["en"] == (-1, -1, -1) and orders["de"] == (-1, -1, -1) and orders["sv"] == (-1, 1, -1), orders
    print(f"icu collation: numeric and per-language order ({orders})")
    cal = fn(i18n, "ucal_open", P, P, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int))(
        u16("Europe/Berlin"), -1, b"de", 0, st)
    ok()
    name_of = fn(i18n, "ucal_getTimeZoneDisplayName", ctypes.c_int32, P, ctypes.c_int, ctypes.c_char_p, P,
                 ctypes.c_int32, ctypes.POINTER(ctypes.c_int))
    zone = text_of(name_of(cal, 0, b"de", out, 256, st))
    ok()
    assert zone == "Mitteleurop\u00e4ische Normalzeit", zone
    system = ctypes.c_bool()
    canonical = fn(i18n, "ucal_getCanonicalTimeZoneID", ctypes.c_int32, P, ctypes.c_int32, P, ctypes.c_int32,
                   ctypes.POINTER(ctypes.c_bool), ctypes.POINTER(ctypes.c_int))
    assert text_of(canonical(u16("Asia/Calcutta"), -1, out, 256, ctypes.byref(system), st)) == "Asia/Calcutta"
    ok()
    print(f"icu time zones: {zone}")
    upper = fn(uc, "u_strToUpper", ctypes.c_int32, P, ctypes.c_int32, P, ctypes.c_int32, ctypes.c_char_p,
               ctypes.POINTER(ctypes.c_int))
    assert text_of(upper(out, 256, u16("i\u00df"), -1, b"tr", st)) == "\u0130SS"
    ok()
    ucnv_open = fn(uc, "ucnv_open", P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
    to_uchars = fn(uc, "ucnv_toUChars", ctypes.c_int32, P, P, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32,
                   ctypes.POINTER(ctypes.c_int))
    for name, raw, text in ((b"UTF-8", "\u00e9".encode(), "\u00e9"), (b"ISO-8859-1", b"\xe9", "\u00e9"), (b"US-ASCII", b"A", "A")):
        converter = ucnv_open(name, st)
        ok()
        assert text_of(to_uchars(converter, out, 256, raw, len(raw), st)) == text, name
        ok()
    print("icu case mapping (Turkish) and the Unicode/Latin-1/ASCII converters")


if __name__ == "__main__":
    checks = {"opencv": check_opencv, "blas": check_blas, "ffmpeg": check_ffmpeg_stand_in, "icu": check_icu}
    checks[sys.argv[1]](Path(sys.argv[2]))
