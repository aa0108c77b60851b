"""``cxviewer scan PATH ... -o results.csv``: triage every radiograph under some folders.

Exit status: 0 when the scan ran to the end (even if some files failed), 2 for bad arguments
(missing input, output inside a scanned folder, a results file that exists without --resume),
1 when nothing could be scanned (no images found, or the model cannot be loaded), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import sys

from cxviewer.commands.runtime_option import add_runtime_argument


def _printable(stream):
    """``stream``, writing the undecodable bytes of a file name as escapes instead of failing."""
    try:
        stream.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError):
        pass
    return stream


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders (searched recursively) or files")
    parser.add_argument("-o", "--output", required=True, metavar="CSV", help="results CSV (one row per file)")
    parser.add_argument("--jsonl", metavar="FILE", help="also write the results as JSON Lines")
    parser.add_argument("--no-recursive", action="store_true", help="do not look inside subfolders")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted scan into the same CSV")
    parser.add_argument("--overwrite", action="store_true", help="replace existing result files")
    parser.add_argument("--workers", type=_positive, metavar="N", help="decoding threads (default: up to 4)")
    parser.add_argument("--batch-size", type=_positive, metavar="N", help="images per model batch (default 16)")
    parser.add_argument("--model", metavar="DIR", help="model folder (default: the bundled model)")
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="only check the files (readable, in scope, header); leave the probabilities empty",
    )
    parser.add_argument("--max-files", type=_positive, metavar="N", help="stop after N new files (a trial run)")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="local|ADDRESS",
        help="run on a Ray cluster (needs the [cluster] extra): 'local' starts one on this machine, an address "
        "(ray://host:10001 or auto) joins a running cluster; workers must see the same paths",
    )
    parser.add_argument("--ray-workers", type=_positive, metavar="N", help="model actors on the cluster (default: one per node's share)")
    parser.add_argument(
        "--ray-gpus-per-worker", type=float, default=0.0, metavar="G",
        help="GPUs each model actor asks the cluster for (default 0: CPU actors)",
    )
    add_runtime_argument(parser)


def _load_classifier(args):
    """The classifier, or ``None`` with --no-model; raises RuntimeError with a message for the user."""
    if args.no_model:
        return None
    from cxviewer.model import available_models, load_classifier

    if args.model is None and not available_models():
        raise RuntimeError(
            "no classification model is installed; give one with --model DIR, "
            "or use --no-model to only check the files"
        )
    try:
        return load_classifier(args.model, args.runtime)
    except Exception as exc:
        raise RuntimeError(f"cannot load the model: {exc}") from exc


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _disk_full(output) -> str:
    return (
        f"the disk is full: the results could not be written completely (rows written so far are in {output}). "
        "Free some space and run the same command with --resume to continue."
    )


def _engine(args):
    """``run_scan`` (this machine) or the Ray engine with the same signature (imported only with --ray)."""
    if args.ray is None:
        from cxviewer.scan import run_scan

        return run_scan
    import functools

    from cxviewer.scan.ray_scan import RayOptions, run_ray_scan

    cluster = RayOptions(address=args.ray, workers=args.ray_workers, gpus_per_worker=args.ray_gpus_per_worker)
    return functools.partial(run_ray_scan, cluster=cluster, model_dir=args.model, runtime=args.runtime)


def _remove_new_files(paths):
    """Remove the result files this run created (they hold only a header), so that the same command with
    the right folder is not refused for a file that "already exists"; returns the ones removed."""
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            continue
        removed.append(path)
    return removed


def run(args: argparse.Namespace) -> int:
    import threading

    from cxviewer.scan import (
        ResultsFileError,
        ScanOptions,
        ScanSetupError,
        check_inputs,
        check_output,
    )
    from cxviewer.scan.guards import check_writable
    from cxviewer.scan.progress import TerminalProgress
    from cxviewer.scan.quiet import quiet_readers
    from cxviewer.scan.results import UnwritableLabelsError, probability_columns
    from cxviewer.scan.resume import open_results
    from cxviewer.scan.state import DEFAULT_BATCH_SIZE, default_workers

    err = sys.stderr
    quiet_readers()
    if args.model and args.no_model:
        print("cxviewer scan: --model and --no-model exclude each other", file=err)
        return 2
    if args.resume and args.overwrite:
        print("cxviewer scan: --resume and --overwrite exclude each other", file=err)
        return 2
    try:
        roots = check_inputs(args.paths)
        output = check_writable(check_output(args.output, roots))
        jsonl = check_writable(check_output(args.jsonl, roots)) if args.jsonl else None
    except ScanSetupError as exc:
        print(f"cxviewer scan: {exc}", file=err)
        return 2
    if args.ray is None and (args.ray_workers or args.ray_gpus_per_worker):
        print("cxviewer scan: --ray-workers and --ray-gpus-per-worker need --ray", file=err)
        return 2
    try:
        classifier = _load_classifier(args)
    except RuntimeError as exc:
        print(f"cxviewer scan: {exc}", file=err)
        return 1
    try:
        if classifier is not None:
            probability_columns(classifier.card.labels)
    except UnwritableLabelsError as exc:
        print(f"cxviewer scan: {exc}", file=err)
        return 2
    tag = f"{classifier.card.name}@{classifier.card.version}" if classifier is not None else ""
    new_files = [p for p in (output, jsonl) if p is not None and not p.exists()]  # made by this run
    try:
        sink = open_results(output, jsonl, resume=args.resume, overwrite=args.overwrite, model_tag=tag)
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            print(f"cxviewer scan: {_disk_full(output)}", file=err)
            return 1
        print(f"cxviewer scan: {exc}", file=err)
        return 2
    except ResultsFileError as exc:
        print(f"cxviewer scan: {exc}", file=err)
        return 2
    options = ScanOptions(
        recursive=not args.no_recursive,
        workers=args.workers or default_workers(),
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE,
        max_files=args.max_files,
        skip=sink.done,
    )
    progress = TerminalProgress(err)
    cancel = threading.Event()
    try:
        summary = _engine(args)(roots, sink.write, classifier=classifier, options=options, cancel=cancel,
                                on_progress=progress)
    except ScanSetupError as exc:  # the cluster cannot be reached or its workers cannot read the files
        progress.close()
        sink.close()
        print(f"cxviewer scan: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        cancel.set()
        progress.close()
        print(f"cxviewer scan: interrupted; rows written so far are in {output} (continue with --resume)", file=err)
        return 130
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        cancel.set()
        progress.close()
        print(f"cxviewer scan: {_disk_full(output)}", file=err)
        return 1
    finally:
        try:
            sink.close()
        except OSError:
            pass  # disk full again: what was written stays, --resume repairs a torn last line
    progress.close()
    for line in summary.skipped_dirs:
        print(f"cxviewer scan: not scanned: {line}", file=err)
    print(summary.text())
    if summary.stages_text():
        print(summary.stages_text(), file=err)
    nothing_scanned = summary.scanned == 0 and not summary.already_done
    removed = _remove_new_files(new_files) if nothing_scanned and not args.resume else []
    kept = [str(p) for p in (output, jsonl) if p is not None and p not in removed]
    if kept:
        print("results: " + " and ".join(kept), file=_printable(sys.stdout))
    if nothing_scanned:
        print("cxviewer scan: nothing could be scanned (no images found)", file=err)
        return 1
    if summary.scanned and summary.ok + summary.out_of_scope == 0:
        print("cxviewer scan: every file failed; see the error column", file=err)
        return 1
    return 0
