"""``cxviewer report FILE -o report.pdf``: the whole findings pipeline, headless.

Reads the radiograph, renders its default display (first header window, C.11), runs the model with
Grad-CAM, and writes the PDF with both key images (and, with ``--json``, the same findings as JSON).
Page size and institution come from the viewer settings unless given here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from cxviewer.commands.runtime_option import add_runtime_argument
from cxviewer.files.output_targets import output_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a DICOM file or a PNG/JPEG/WebP/TIFF image")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT.pdf", help="PDF to write")
    parser.add_argument("--impression", default="", help="text of the Impression section")
    parser.add_argument("--findings", default="", help="text of the Findings section")
    parser.add_argument("--indication", default="", help="text of the Clinical indication section")
    parser.add_argument("--reader", default="", help="reader's name")
    parser.add_argument("--anonymize", "--anonymise", dest="anonymise", action="store_true",
                        help="de-identify per DICOM PS3.15 Annex E Basic Profile: no name, IDs, birth date, sex, "
                             "accession, UIDs, descriptions, dates or times")
    parser.add_argument("--keep-dates", action="store_true",
                        help="with --anonymize: keep dates and times (the profile's Full Dates option)")
    parser.add_argument("--json", metavar="OUT.json", help="also write the findings as JSON")
    parser.add_argument("--dicom", metavar="OUT.dcm",
                        help="also write the PDF as a DICOM Encapsulated PDF in the film's study (a new series; "
                             "with --anonymize a new anonymous study), to store with 'cxviewer pacs send'")
    parser.add_argument("--model", default=None, metavar="DIR", help="model folder (default: the bundled model)")
    add_runtime_argument(parser)
    parser.add_argument("--no-ai", action="store_true", help="do not run the model (no AI block, no overlay)")
    parser.add_argument("--page-size", choices=("A4", "Letter"), help="default: from the settings (A4)")
    parser.add_argument("--institution", help="default: from the settings")


def _fail(message: str, code: int = 1) -> int:
    print(f"cxviewer report: {message}", file=sys.stderr)
    return code


def _pdf_preferences(args: argparse.Namespace) -> tuple[str, str]:
    page_size, institution = "A4", ""
    try:
        from cxviewer.settings import Settings  # Qt-free JSON settings of the viewer

        stored = Settings.load().data.get("report", {})
        if isinstance(stored, dict):
            page_size = stored.get("page_size") if stored.get("page_size") in ("A4", "Letter") else page_size
            institution = stored.get("institution") if isinstance(stored.get("institution"), str) else ""
    except ImportError:
        pass
    return args.page_size or page_size, args.institution if args.institution is not None else institution


Step = tuple[Path, Callable[[dict[Path, Path]], object]]


def _write_all(steps: list[Step], refusals: tuple[type[Exception], ...] = ()) -> str | None:
    """All the outputs or none. ``steps``: (target, write) pairs; each ``write(temp)`` writes its target's
    temp file ``temp[target]`` (a hidden file in the target's folder, 0600) and may read the ones before it.
    Only when every step has succeeded are the temp files renamed into place; on any failure they are
    all removed. ``refusals``: the writers' own errors, reported with their message. Returns why it failed
    (naming the user's file, never a temp file), or None."""
    from cxviewer.files.atomic import AtomicFile

    staged: list[AtomicFile] = []
    current = steps[0][0]
    done = False
    try:
        for target, _ in steps:
            current = target
            staged.append(AtomicFile(target, private=True))  # the report of a patient: owner-only
        temp = {target: pending.temp for (target, _), pending in zip(steps, staged)}
        for target, write in steps:
            current = target
            write(temp)
        for (target, _), pending in zip(steps, staged):
            current = target
            pending.commit()
        done = True
    except refusals as exc:
        return f"{current}: {exc}"
    except OSError as exc:
        return f"cannot write {current}: {exc.strerror or exc}"
    finally:
        if not done:
            for pending in staged:
                pending.discard()
    return None


def run(args: argparse.Namespace) -> int:
    from cxviewer.imaging import DisplayState, UnreadableImageError, read_radiograph
    from cxviewer.report import Report, write_report_json

    src, out = Path(args.file), Path(args.output)
    json_out = Path(args.json) if args.json else None
    dicom_out = Path(args.dicom) if args.dicom else None
    targets = [t for t in (out, json_out, dicom_out) if t is not None]
    problem = output_problem(src, targets)
    if problem:
        return _fail(problem, 2)
    try:
        rad = read_radiograph(src)
    except UnreadableImageError as exc:
        return _fail(f"{src}: {exc.reason}")
    if args.dicom and not args.anonymise and getattr(rad, "header", None) is None:
        return _fail(f"{src} is not a DICOM film: --dicom needs its patient and study (or use --anonymize)")
    display = DisplayState.default(rad)  # the viewer's default display of this film
    image = display.render(rad)
    report = Report.for_radiograph(rad)
    report.sections["impression"] = args.impression
    report.sections["findings"] = args.findings
    report.sections["clinical_indication"] = args.indication
    report.reader_name = args.reader

    heatmap = None
    if not args.no_ai:
        from cxviewer.model import ModelCardError, load_classifier

        try:
            clf = load_classifier(args.model, args.runtime)
        except ModelCardError as exc:
            return _fail(f"{exc} (use --no-ai to write the report without the model)")
        except Exception as exc:  # a damaged weights file: the runtimes raise ValueError, RuntimeError, OSError...
            return _fail(f"cannot load the model: {str(exc) or type(exc).__name__} "
                         "(use --no-ai to write the report without the model)")
        try:
            prediction = clf.predict_radiograph(rad, gradcam=True, outline=False)
        except Exception as exc:  # a model that loads but cannot run
            return _fail(f"{src}: the prediction failed: {str(exc) or type(exc).__name__} "
                         "(use --no-ai to write the report without the model)")
        report.set_prediction(prediction, clf.card)
        if not prediction.in_scope:
            print(f"{src.name}: outside the model's scope: {prediction.scope_text.rstrip('.')}. "
                  "The report says so and gives no AI opinion.")
        else:
            heatmap = prediction.heatmap
            probs = "  ".join(f"{k} {v:.3f}" for k, v in zip(prediction.labels, prediction.probabilities))
            print(f"{src.name}: AI leading class {prediction.label} ({probs}); "
                  f"{prediction.model_name} {prediction.model_version} on {prediction.device} ({prediction.runtime}), "
                  f"{prediction.elapsed_ms:.0f} ms. Research use only, not a diagnosis.")

    from cxviewer.report.pdf import ensure_gui_application, render_report_pdf
    from cxviewer.report.pdf_options import PdfOptions

    ensure_gui_application()
    page_size, institution = _pdf_preferences(args)
    options = PdfOptions(page_size=page_size, institution=institution, anonymise=args.anonymise,
                         keep_dates=args.keep_dates, image_caption=display.caption())
    steps: list[Step] = [(out, lambda temp: render_report_pdf(temp[out], report, image, heatmap, options=options))]
    if json_out:
        steps.append((json_out, lambda temp: write_report_json(report, temp[json_out], anonymise=args.anonymise,
                                                               keep_dates=args.keep_dates)))
    refusals: tuple[type[Exception], ...] = ()
    if dicom_out:  # the Encapsulated PDF holds the very PDF written above
        from cxviewer.pacs.report_document import ReportDocumentError, write_report_document

        refusals = (ReportDocumentError,)

        steps.append((dicom_out, lambda temp: write_report_document(
            temp[dicom_out], temp[out].read_bytes(), report, getattr(rad, "header", None),
            anonymise=args.anonymise, keep_dates=args.keep_dates)))
    problem = _write_all(steps, refusals)
    if problem:
        return _fail(problem)
    for warning in options.warnings:
        print(f"cxviewer report: warning: {warning}", file=sys.stderr)
    print(f"wrote {out}" + "".join(f" and {extra}" for extra in (args.json, args.dicom) if extra)
          + (" (anonymised)" if args.anonymise else ""))
    return 0
