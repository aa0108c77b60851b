"""The desktop bundle (packaging/): the icon and desktop entry, and a real PyInstaller build.

The build tests are marked ``slow`` (the default run skips them): they run packaging/build.sh into
a temporary folder, then drive the frozen executable as a user would, in a bare environment
(no venv, a throw-away home): ``--version``, the GUI headless with ``--smoke-test`` (the bundled
sample drawn, and classified when a model is bundled), ``scan`` on real DICOM files from
../shared compared row by row with the same scan from the source tree, and ``export`` of an
HTJ2K file, which only OpenJPEG decodes (found through pylibjpeg's entry points, the part a
frozen build loses most easily). For the CPU variant: at most 400 MB, and each size step of
packaging/slim/ checked (tests/bundle_native_checks.py runs the bundle's own cv2, BLAS shim and ICU
in a fresh interpreter; every shared DICOM file is exported byte for byte as from the source tree).
Build time, bundle size and start-up times are printed.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/test_packaging.py -m slow
    CXVIEWER_BUNDLE=dist/cxviewer ... -m slow   # test a bundle built before instead of building
"""

from __future__ import annotations

import configparser
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cxviewer import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = REPO_ROOT / "resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
BUILD_SECONDS: list[float] = []  # the fixture's build, for the report
SCAN_FILES = ("RG1_JLSN.dcm", "RG1_J2KI.dcm", "CR-MONO1-10-chest.dcm", "RG2_RLE.dcm", "RG2_JPLY.dcm")


# ------------------------------------------------------------------ icon and desktop entry
def test_desktop_entry_starts_cxviewer_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(RESOURCES / "cxviewer.desktop", encoding="utf-8")
    e = entry["Desktop Entry"]
    assert e["Type"] == "Application" and e["Name"] == "CXViewer"
    assert e["Exec"].split()[0] == "cxviewer" and "%F" in e["Exec"]  # files from the file manager
    assert e["Icon"] == "cxviewer"  # the theme name of resources/icons/cxviewer-N.png / cxviewer.svg
    assert "application/dicom" in e["MimeType"].split(";")
    assert e["Terminal"] == "false"
    assert e["StartupWMClass"] == "CXViewer"  # Qt's X11 window class is the application name run_gui sets


def test_icon_is_rendered_at_every_size_with_transparent_corners():
    assert (RESOURCES / "icons" / "cxviewer.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for size in ICON_SIZES:
        image = cv2.imread(str(RESOURCES / "icons" / f"cxviewer-{size}.png"), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.shape == (size, size, 4), size
        alpha = image[..., 3]
        assert alpha[0, 0] == 0 and alpha[size // 2, size // 2] == 255  # rounded film on transparency
    ico = (RESOURCES / "icons" / "cxviewer.ico").read_bytes()
    assert ico[:4] == b"\0\0\1\0" and int.from_bytes(ico[4:6], "little") == len(ICON_SIZES)
    assert (RESOURCES / "icons" / "cxviewer.icns").read_bytes()[:4] == b"icns"


def test_window_icon_offers_every_rendering(qapp):
    from cxviewer.ui.app_icon import app_icon

    icon = app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == list(ICON_SIZES)


# ------------------------------------------------------------------ the frozen bundle (slow)
def _report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[bundle] {text}")


def _bare_env(home: Path) -> dict[str, str]:
    """What a desktop session gives a program: no venv, no PYTHONPATH, a fresh CXViewer home."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
            "CXVIEWER_HOME": str(home / "cxviewer")}


def _bundled_models(bundle: Path) -> list[dict]:
    """The model cards inside the bundle, each with its folder under "directory"."""
    return [dict(json.loads(p.read_text(encoding="utf-8")), directory=str(p.parent))
            for p in sorted(bundle.glob("_internal/cxviewer/_models/*/card.json"))]


def _default_card(cards: list[dict]) -> dict | None:
    """The model the frozen app runs unasked: the card saying "default": true (as cxviewer.model.registry)."""
    from cxviewer.model.registry import DEFAULT_MODEL

    return next((c for c in cards if c.get("default") is True),
                next((c for c in cards if c["name"] == DEFAULT_MODEL), cards[0] if cards else None))


def _evict(folder: Path) -> None:
    """Drop the bundle's files from the page cache, so the next start reads them from disk (cold)."""
    for f in folder.rglob("*"):
        if f.is_file() and not f.is_symlink():
            with open(f, "rb") as fh:
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def _smoke(bundle: Path, home: Path, timeout: float = 900) -> tuple[int, list[tuple[float, dict]], str]:
    """Run ``cxviewer --smoke-test``; each JSON line with the seconds since the process was started."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(bundle / "cxviewer"), "--smoke-test"], env=_bare_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = []
    try:
        for line in proc.stdout:
            if line.startswith("smoke-test "):
                events.append((time.perf_counter() - t0, json.loads(line[len("smoke-test "):])))
        code = proc.wait(timeout=timeout)
    finally:
        proc.kill()
    return code, events, proc.stderr.read()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A freshly built bundle (or $CXVIEWER_BUNDLE); the build time is stored for the report."""
    given = os.environ.get("CXVIEWER_BUNDLE")
    if given:
        path = Path(given).resolve()
        assert (path / "cxviewer").is_file(), f"$CXVIEWER_BUNDLE={given} holds no cxviewer executable"
        return path
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed (pip install '.[packaging]')")
    dist = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, PYTHON=sys.executable, DISTPATH=str(dist), SMOKE="0")
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", str(REPO_ROOT / "packaging" / "build.sh")], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=4 * 3600)
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    BUILD_SECONDS.append(time.perf_counter() - t0)
    return dist / "cxviewer"


@pytest.mark.slow
def test_bundle_is_self_contained_and_reports_its_version(bundle, tmp_path, capsys):
    out = subprocess.run([str(bundle / "cxviewer"), "--version"], env=_bare_env(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == f"cxviewer {__version__}"
    assert (bundle / "_internal" / "cxviewer" / "_resources" / "samples" / "RG1_J2KR.dcm").is_file()
    assert not list(bundle.rglob("checkpoints")), "training checkpoints must stay out of the bundle"
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    _report(capsys, f"{bundle}: {size / 2**20:.0f} MiB" + "".join(f", built in {s:.0f} s" for s in BUILD_SECONDS))


CPU_BUNDLE_CEILING_MB = 400  # issue 16's target for the CPU bundle; 397 MB measured (README's "Desktop bundle")
TENSORFLOW_PARTS = ("tensorflow", "keras", "tf_keras", "tensorboard", "jax", "jaxlib", "h5py", "nvidia")


def _variant() -> str:
    """The variant under test: what CXVIEWER_BUNDLE_VARIANT built (cpu unless set), for a given bundle too."""
    return os.environ.get("CXVIEWER_BUNDLE_VARIANT", "cpu")


def _size_mb(bundle: Path) -> float:
    return sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink()) / 10**6


@pytest.mark.slow
def test_cpu_bundle_runs_on_litert_without_tensorflow(bundle, dicom_dir, tmp_path, capsys):
    if _variant() != "cpu":
        pytest.skip("the GPU variant carries TensorFlow on purpose")
    internal = bundle / "_internal"
    found = sorted(str(p.relative_to(bundle)) for p in internal.iterdir()
                   if p.name.split("-")[0].split(".")[0].lower() in TENSORFLOW_PARTS)
    assert not found, f"the CPU bundle carries TensorFlow's parts: {found}"
    assert not list(bundle.rglob("*.weights.h5")), "Keras weights are TensorFlow's: the CPU bundle runs model.tflite"
    assert not list(bundle.rglob("libtensorflow*")) and not list(bundle.rglob("*pywrap_tensorflow*"))
    size = _size_mb(bundle)
    assert size <= CPU_BUNDLE_CEILING_MB, f"{size:.0f} MB: what came in? (du -sh dist/cxviewer/_internal/* | sort -h)"
    cards = _bundled_models(bundle)
    for card in cards:  # every bundled model runs from its converted file
        assert (Path(card["directory"]) / card["litert"]["file"]).is_file(), card["name"]
    if not cards:
        return
    film = dicom_dir / "RG1_UNCR.dcm"
    env = _bare_env(tmp_path)
    t0 = time.perf_counter()
    out = subprocess.run([str(bundle / "cxviewer"), "predict", str(film), "--json"], env=env,
                         capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["runtime"] == "litert" and result["device"].startswith("CPU")
    assert result["label"] in cards[0]["labels"]
    refused = subprocess.run([str(bundle / "cxviewer"), "predict", str(film), "--runtime", "tensorflow"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert refused.returncode != 0 and "TensorFlow is not installed" in refused.stderr
    assert "Traceback" not in refused.stderr
    _report(capsys, f"CPU bundle {size:.0f} MB (target {CPU_BUNDLE_CEILING_MB} MB), no TensorFlow; "
            f"frozen `predict --json` {seconds:.1f} s on {result['device']}")
    # a command only TensorFlow can do, on a model folder that has its Keras weights (a copy)
    folder = tmp_path / "model"
    source = REPO_ROOT / "models" / Path(cards[0]["directory"]).name
    if not any(source.glob("*.weights.h5")):
        return
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("checkpoints"))
    convert = subprocess.run([str(bundle / "cxviewer"), "export-model", str(folder)], env=env,
                             capture_output=True, text=True, timeout=600)
    assert convert.returncode == 1 and "needs TensorFlow" in convert.stderr and "Traceback" not in convert.stderr


def _native_check(name: str, bundle: Path) -> subprocess.CompletedProcess:
    """tests/bundle_native_checks.py NAME in a fresh interpreter (the bundle's own libraries, not the venv's)."""
    return subprocess.run([sys.executable, str(Path(__file__).with_name("bundle_native_checks.py")), name, str(bundle)],
                          capture_output=True, text=True, timeout=600, cwd=bundle.parent)


def _slimmed(bundle: Path) -> bool:
    """Whether this bundle carries packaging/slim's stand-ins (CPU variant built on Linux)."""
    return _variant() == "cpu" and sys.platform.startswith("linux") and any(
        (bundle / "_internal" / "opencv_python_headless.libs").glob("libavcodec*"))


@pytest.mark.slow
def test_cpu_bundle_leaves_out_ffmpeg_av1_and_a_second_openblas(bundle):
    # packaging/slim/opencv_libs.py: what replaced OpenCV's FFmpeg, AV1 codec and OpenBLAS is small
    if not _slimmed(bundle):
        pytest.skip("the slimmed CPU bundle (Linux) only")
    libs = bundle / "_internal" / "opencv_python_headless.libs"
    sizes = {p.name.split("-")[0]: p.stat().st_size for p in libs.iterdir()}
    for name in ("libavcodec", "libavformat", "libavutil", "libswscale", "libaom", "libopenblasp"):
        assert sizes[name] < 100_000, (name, sizes[name])
    for name in ("libvpx", "libswresample", "libgfortran", "libquadmath", "libdrm"):
        assert name not in sizes, f"{name} should have left with what needed it"
    assert sizes["libavif"] > 100_000  # real: OpenCV creates its AVIF encoder object for every imencode
    icudata = next((bundle / "_internal" / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    assert icudata.stat().st_size < 15e6, icudata.stat().st_size  # 32 MB whole
    assert not list(bundle.rglob("libLiteRt.so")) and not list(bundle.rglob("_avif*.so"))
    standard = bundle / "_internal" / "highdicom" / "_standard"
    assert (standard / "module_attribute_map.json.gz").is_file() and not (standard / "module_attribute_map.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("check", ["opencv", "blas", "icu"])
def test_cpu_bundle_native_libraries_give_the_same_results(bundle, check, capsys):
    # the bundle's cv2 on its stand-ins and BLAS shim (solve, SVD, gemm, image codecs, video off),
    # each BLAS/LAPACK routine of the shim against numpy, and Qt's ICU calls on the slim ICU data
    if not _slimmed(bundle):
        pytest.skip("the slimmed CPU bundle (Linux) only")
    out = _native_check(check, bundle)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    _report(capsys, out.stdout.strip().replace("\n", "; "))


@pytest.mark.slow
def test_cpu_bundle_ffmpeg_stand_in_says_what_is_missing(bundle):
    # with the FFmpeg backend on (the frozen entry point turns it off), video reaches the stand-in,
    # which names itself and aborts: no silent wrong result
    if not _slimmed(bundle):
        pytest.skip("the slimmed CPU bundle (Linux) only")
    out = _native_check("ffmpeg", bundle)
    assert out.returncode == -6, (out.returncode, out.stderr[-2000:])  # SIGABRT
    assert "video I/O (FFmpeg) support" in out.stderr and "is not in this bundle" in out.stderr


@pytest.mark.slow
def test_frozen_export_of_every_shared_file_matches_the_source_tree(bundle, shared_dir, dicom_dir, tmp_path, capsys):
    # every DICOM codec of ../shared/data/dicom (JPEG-LS, JPEG 2000, JPEG Lossless, RLE, uncompressed...)
    # and OpenCV's JPEG and PNG decoders inside the frozen app, with OpenCV's PNG encoder writing the
    # result: the same bytes (or the same refusal) as the source tree
    images = sorted(dicom_dir.glob("*.dcm")) + [next((shared_dir / "data" / "cxr" / "images").rglob("*.jpg")),
                                               next((shared_dir / "data" / "cxr" / "masks").rglob("*.png"))]
    src_env = dict(os.environ, CXVIEWER_HOME=str(tmp_path / "source-home"), PYTHONPATH=str(REPO_ROOT))
    written = 0
    for image in images:
        frozen, source = tmp_path / f"frozen-{image.name}.png", tmp_path / f"source-{image.name}.png"
        f = subprocess.run([str(bundle / "cxviewer"), "export", str(image), "-o", str(frozen)],
                           env=_bare_env(tmp_path / "home"), capture_output=True, text=True, timeout=600)
        s = subprocess.run([sys.executable, "-m", "cxviewer", "export", str(image), "-o", str(source)],
                           env=src_env, capture_output=True, text=True, timeout=600)
        assert f.returncode == s.returncode, (image.name, f.stderr[-2000:], s.stderr[-2000:])
        if f.returncode == 0:
            assert frozen.read_bytes() == source.read_bytes(), image.name
            written += 1
        else:  # e.g. 12-bit JPEG Extended, which no installed decoder reads: the same message
            assert "Traceback" not in f.stderr and f.stderr.strip() == s.stderr.strip(), image.name
    assert written >= len(images) - 2
    _report(capsys, f"frozen export: {written} of {len(images)} files written byte for byte as the source tree")


@pytest.mark.slow
def test_frozen_gui_draws_the_bundled_sample_and_quits_cleanly(bundle, tmp_path, capsys):
    _evict(bundle)
    code, events, stderr = _smoke(bundle, tmp_path / "cold")
    by_name = {e["event"]: (t, e) for t, e in events}
    assert code == 0, f"smoke test failed ({code}): {events}\n{stderr[-4000:]}"
    assert by_name["done"][1]["message"] == "ok"
    assert by_name["start"][1]["platform"] == "offscreen"
    assert sorted(by_name["window"][1]["icon_sizes"]) == list(ICON_SIZES)  # icons bundled, PNG plugin there
    image = by_name["image"][1]
    # the sample came from inside the bundle (cxviewer.paths frozen), decoded (JPEG 2000) and drawn
    assert Path(image["file"]).resolve().is_relative_to(bundle.resolve())
    assert image["shape"] == [1955, 1841] and image["modality"] == "CR" and image["drawn"]
    cards = _bundled_models(bundle)
    if cards:
        prediction = by_name["prediction"][1]
        default = _default_card(cards)
        assert prediction["model"] == default["name"]
        assert "AutoGraph could not transform" not in stderr  # the bundle carries cxviewer's sources
        if _variant() == "cpu":
            assert prediction["runtime"] == "litert"
        if prediction["status"] == "ok":
            assert prediction["label"] in default["labels"]
            assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    else:
        assert "prediction" not in by_name
    warm_code, warm, _ = _smoke(bundle, tmp_path / "warm")
    assert warm_code == 0
    warm_by = {e["event"]: t for t, e in warm}
    _report(capsys, "start-up (process start to window shown / sample drawn): "
            f"cold {by_name['window'][0]:.1f} s / {by_name['image'][0]:.1f} s, "
            f"warm {warm_by['window']:.1f} s / {warm_by['image']:.1f} s"
            + (f"; classified after {by_name['prediction'][0]:.1f} s cold, {warm_by['prediction']:.1f} s warm"
               if cards else "; no model bundled"))


def _scan(command: list[str], files: list[Path], out: Path, env: dict, model: list[str]) -> list[dict]:
    args = [*command, "scan", *map(str, files), "-o", str(out), "--workers", "1", *model]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{args} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    with out.open(newline="", encoding="utf-8") as fh:
        return sorted(csv.DictReader(fh), key=lambda row: row["path"])  # rows come in completion order


@pytest.mark.slow
def test_frozen_scan_matches_the_source_tree(bundle, dicom_dir, tmp_path, capsys):
    files = [dicom_dir / name for name in SCAN_FILES]
    before = {f: f.stat().st_mtime_ns for f in files}
    cards = _bundled_models(bundle)
    default = _default_card(cards)
    # the frozen scan uses its bundled default model; the source scan the same weights, named
    frozen = _scan([str(bundle / "cxviewer")], files, tmp_path / "frozen.csv", _bare_env(tmp_path / "frozen-home"),
                   [] if cards else ["--no-model"])
    src_env = dict(os.environ, CXVIEWER_HOME=str(tmp_path / "source-home"), PYTHONPATH=str(REPO_ROOT))
    source = _scan([sys.executable, "-m", "cxviewer"], files, tmp_path / "source.csv", src_env,
                   ["--model", default["directory"]] if cards else ["--no-model"])
    assert {f: f.stat().st_mtime_ns for f in files} == before  # inputs untouched
    assert [r["path"] for r in frozen] == sorted(map(str, files)) == [r["path"] for r in source]
    by_file = {Path(r["path"]).name: r for r in frozen}
    # JPEG-LS decodes only through GDCM here (pylibjpeg-libjpeg is GPL and not installed)
    assert by_file["RG1_JLSN.dcm"]["status"] in ("ok", "out_of_scope") and by_file["RG1_JLSN.dcm"]["sop_uid"]
    assert by_file["RG2_RLE.dcm"]["status"] == "out_of_scope"  # a hip: not the chest
    assert by_file["RG2_JPLY.dcm"]["status"] == "error" and "JPEG Extended" in by_file["RG2_JPLY.dcm"]["error"]
    for f, s in zip(frozen, source):
        for column in f:
            if column in ("ms",):
                continue
            if column.startswith("p_") or column == "ood_score":
                assert (f[column] == "") == (s[column] == ""), (f["path"], column)
                if f[column]:
                    assert float(f[column]) == pytest.approx(float(s[column]), abs=1e-4), (f["path"], column)
            else:
                assert f[column] == s[column], (f["path"], column, f[column], s[column])
    _report(capsys, "frozen scan: " + ", ".join(f"{Path(r['path']).name}={r['status']}{'/' + r['label'] if r['label'] else ''}"
                                             for r in frozen))


def _synthetic_chest(path: Path, transfer_syntax: str | None) -> Path:
    """A 12-bit test image, uncompressed or as a JPEG 2000 codestream labelled HTJ2K Lossless."""
    import openjpeg
    import pydicom
    from dicom_builder import build_dicom
    from pydicom.encaps import encapsulate

    yy, xx = np.mgrid[0:256, 0:200]
    stored = ((np.sin(xx / 17) + np.cos(yy / 23) + 2) * 700 + (xx * yy) % 50).astype(np.uint16)
    if transfer_syntax is None:
        return build_dicom(path, stored, bits_stored=12, BodyPartExamined="CHEST")
    build_dicom(path, stored, bits_stored=12, BodyPartExamined="CHEST",
                pixel_data=encapsulate([openjpeg.encode(stored, bits_stored=12)]))
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.slow
def test_frozen_export_decodes_htj2k_through_pylibjpeg_openjpeg(bundle, tmp_path):
    # pydicom offers only pylibjpeg for HTJ2K, and pylibjpeg finds OpenJPEG by entry point: the
    # bundle must carry both packages' metadata for this to decode.
    plain = _synthetic_chest(tmp_path / "plain.dcm", None)
    htj2k = _synthetic_chest(tmp_path / "htj2k.dcm", "1.2.840.10008.1.2.4.201")
    shown = []
    for src in (plain, htj2k):
        out = tmp_path / f"{src.stem}.png"
        proc = subprocess.run([str(bundle / "cxviewer"), "export", str(src), "-o", str(out)],
                              env=_bare_env(tmp_path / "home"), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        shown.append(cv2.imread(str(out), cv2.IMREAD_UNCHANGED))
    assert shown[0].shape == (256, 200) and shown[0].std() > 10
    np.testing.assert_array_equal(shown[1], shown[0])  # lossless: the same display, bit for bit


@pytest.mark.slow
def test_frozen_sr_pacs_and_pdf_report(bundle, dicom_dir, tmp_path):
    # highdicom (its standard's tables and ICC profile, by pkgutil), pynetdicom and dicomweb-client
    # (their versions from package metadata at import), and Qt's PDF writer, all from inside the bundle
    import pydicom
    import pypdf

    if not _bundled_models(bundle):
        pytest.skip("no model bundled: no result to write")
    film, env = dicom_dir / "RG1_UNCR.dcm", _bare_env(tmp_path / "home")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bundle / "cxviewer"), *args], env=env, capture_output=True, text=True, timeout=600)

    out = run("predict", str(film), "--sr", str(tmp_path / "sr.dcm"))
    assert out.returncode == 0, out.stderr[-3000:]
    sr = pydicom.dcmread(tmp_path / "sr.dcm")
    assert sr.Modality == "SR" and sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert sr.StudyInstanceUID == pydicom.dcmread(film, stop_before_pixels=True).StudyInstanceUID
    for node in ("ORTHANC@127.0.0.1:1", "http://127.0.0.1:1/dicom-web"):  # nothing listens on port 1
        echo = run("pacs", "echo", node, "--timeout", "2")
        assert echo.returncode != 0 and "cannot connect" in echo.stderr and "Traceback" not in echo.stderr, echo.stderr
    report = run("report", str(film), "-o", str(tmp_path / "report.pdf"))
    assert report.returncode == 0, report.stderr[-3000:]
    text = pypdf.PdfReader(tmp_path / "report.pdf").pages[0].extract_text()
    assert "radiograph" in text and "9RG1" in text  # the title and the film's Patient ID


@pytest.mark.slow
def test_linux_install_puts_the_menu_entry_and_icons_where_the_desktop_finds_them(bundle, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("freedesktop menu entries are for Linux")
    prefix = tmp_path / "prefix"
    proc = subprocess.run(["bash", str(REPO_ROOT / "packaging" / "install-linux.sh"), str(bundle), str(prefix)],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(prefix / "share" / "applications" / "cxviewer.desktop", encoding="utf-8")
    exe = Path(entry["Desktop Entry"]["Exec"].split()[0])
    assert exe == prefix / "bin" / "cxviewer"
    out = subprocess.run([str(exe), "--version"], env=_bare_env(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip() == f"cxviewer {__version__}"  # through the symlink, in a bare environment
    name = entry["Desktop Entry"]["Icon"]
    hicolor = prefix / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        assert cv2.imread(str(hicolor / f"{size}x{size}" / "apps" / f"{name}.png")).shape[:2] == (size, size)
    assert (hicolor / "scalable" / "apps" / f"{name}.svg").is_file()
