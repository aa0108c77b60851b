"""``cxviewer predict FILE [--json] [--sr OUT.dcm]``: label, probabilities, model name and version, timing.

``--sr`` also writes the result as a DICOM Structured Report in the image's study
(``cxviewer.pacs.sr``); it needs a DICOM input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from cxviewer.commands.runtime_option import add_runtime_argument
from cxviewer.files.output_targets import output_problem
from cxviewer.no_call import no_call_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a DICOM file or a PNG/JPEG/WebP/TIFF image")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--gradcam", action="store_true", help="also compute Grad-CAM (reports its share of the timing)")
    parser.add_argument("--sr", default=None, metavar="OUT.dcm",
                        help="also write the result as a DICOM Comprehensive SR (TID 1500) in the image's study")
    add_runtime_argument(parser)


def _check_sr_target(args: argparse.Namespace) -> str | None:
    """Why --sr cannot be written there, or None."""
    if not args.sr:
        return None
    problem = output_problem(Path(args.file).expanduser(), [Path(args.sr).expanduser()])
    return f"--sr: {problem}" if problem else None


def _reason(exc: BaseException) -> str:
    """An exception's message for the user (its class name when it has none)."""
    return str(exc).strip() or type(exc).__name__


def _fail(args: argparse.Namespace, message: str, code: int = 1) -> int:
    """Report a failure on stderr and, with --json, as one JSON object on stdout; return ``code``."""
    print(f"cxviewer predict: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"file": str(args.file), "status": "error", "error": message}))
    return code


def run(args: argparse.Namespace) -> int:
    from cxviewer.imaging import UnreadableImageError, read_radiograph
    from cxviewer.model import ModelCardError, load_classifier

    problem = _check_sr_target(args)
    if problem:
        return _fail(args, problem, 2)
    t0 = time.perf_counter()
    try:
        rad = read_radiograph(args.file)
    except UnreadableImageError as exc:
        return _fail(args, f"{args.file}: {exc.reason}")
    if args.sr and rad.header is None:
        return _fail(args, f"--sr needs a DICOM image ({args.file} is {rad.source_format})", 2)
    t_read = time.perf_counter()
    try:
        clf = load_classifier(args.model, args.runtime)
    except ModelCardError as exc:
        return _fail(args, _reason(exc))
    except Exception as exc:  # a damaged weights file: the runtimes raise ValueError, RuntimeError, OSError...
        return _fail(args, f"cannot load the model: {_reason(exc)}")
    t_load = time.perf_counter()
    try:
        pred = clf.predict_radiograph(rad, gradcam=args.gradcam, outline=False)
    except Exception as exc:  # a model that loads but cannot run (wrong input shape, damaged tensors...)
        return _fail(args, f"{args.file}: the prediction failed: {_reason(exc)}")
    result = {
        "file": str(args.file),
        **pred.as_dict(),
        "timing_ms": {
            "read": round((t_read - t0) * 1000, 1),
            "load_model": round((t_load - t_read) * 1000, 1),
            "predict": round(pred.elapsed_ms, 1),
        },
    }
    att = pred.attention_in_lungs if pred.in_scope else None
    result["attention_in_lungs"] = att
    if args.sr:
        from cxviewer.pacs.sr import NotDicomSource, result_from_prediction, write_sr

        try:
            result["sr"] = str(write_sr(result_from_prediction(pred), rad.header, Path(args.sr).expanduser()))
        except NotDicomSource as exc:
            return _fail(args, f"--sr: {_reason(exc)}")
        except OSError as exc:
            return _fail(args, f"--sr: cannot write {args.sr}: {exc.strerror or _reason(exc)}")
        except Exception as exc:  # a header the SR cannot be built from
            return _fail(args, f"--sr: cannot build the structured report: {_reason(exc)}")
    if args.json:
        print(json.dumps(result))
    elif not pred.in_scope:
        print(f"{args.file}: outside the model's scope: {pred.scope_text.rstrip('.')}. No opinion is given.")
    else:
        probs = "  ".join(f"{k} {v:.3f}" for k, v in result["probabilities"].items())
        if pred.call == "uncertain":
            print(f"{args.file}: uncertain ({no_call_text(pred.call_note)})  ({probs})")
        else:
            print(f"{args.file}: {pred.call or pred.label}  ({probs})")
        if att is not None:
            from cxviewer.report.ai_block import attention_text

            print(f"Grad-CAM: {attention_text(att)}")
        print(f"model {pred.model_name} {pred.model_version} on {pred.device} ({pred.runtime}); read {result['timing_ms']['read']} ms, "
              f"model load {result['timing_ms']['load_model']} ms, inference {result['timing_ms']['predict']} ms")
        if pred.lung_crop == "lungs not found":
            print("Lungs not found: the model saw the whole film instead of its usual lung crop. Read with extra care.")
        print("Research software, not a medical device: not a diagnosis.")
    if args.sr and not args.json:
        print(f"Structured report written: {result['sr']}")
    return 0
