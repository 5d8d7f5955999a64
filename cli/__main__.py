"""`kubectl-aim` (run as `kubectl aim ...` when it is on PATH): AIM Engine's rules where no cluster
answers yet, and plain answers where the cluster's are hard to read.

Exit codes, for CI jobs: 0 nothing wrong (warnings allowed, unless --strict), 1 something is
invalid or a check failed, 2 the command could not run (bad arguments, unreadable cluster).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from api.conversion import ConversionError
from cli import convert as converting
from cli import validate as validating
from cli.manifests import STDIN, ManifestError, expand, read_text

OK, INVALID, UNUSABLE = 0, 1, 2
PROGRESS_FROM = 50
"""Files: a progress bar only where validation takes long enough to wonder."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return UNUSABLE
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        code: int = args.run(args, out, err)
    except UsageError as error:
        err.print(f"error: {error}", style="red", markup=False)
        return UNUSABLE
    return code


class UsageError(Exception):
    """Bad input to the command itself (not to the manifests it checks)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl aim",
        description="AIM Engine: validate and convert manifests offline, explain a service, check the installation, "
        "clone templates for another GPU.",
        epilog="Exit codes: 0 fine, 1 invalid or failed check, 2 the command could not run.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    check = commands.add_parser(
        "validate",
        help="Check manifests as `kubectl apply` would with AIM Engine installed, offline",
        description="Check AIM manifests offline with the CRDs' schema and CEL rules and the admission "
        "webhook's rules: the answers `kubectl apply` would give. Objects of other API groups are skipped.",
    )
    _files(check)
    check.add_argument("-n", "--namespace", help="namespace of objects that name none (default: default)")
    check.add_argument(
        "--cluster",
        action="store_true",
        help="also ask the current cluster: an existing object is checked as an update (immutable fields), "
        "and the objects it names are looked up",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    _output(check, ("text", "json", "yaml"))
    _cluster_flags(check)
    check.set_defaults(run=_validate)

    rewrite = commands.add_parser(
        "convert",
        help="Rewrite manifests between aim.eai.amd.com/v1alpha1 and v1alpha2",
        description="Rewrite AIM manifests to another API version with the webhook's lossless conversion. "
        "Unchanged keys keep their comments and order; other objects are left as they are.",
    )
    _files(rewrite)
    rewrite.add_argument("--to", required=True, choices=converting.VERSIONS, help="the API version to write")
    rewrite.add_argument("--in-place", action="store_true", help="rewrite the files instead of printing them")
    rewrite.set_defaults(run=_convert)

    explain = commands.add_parser(
        "explain",
        help="Show what an AIMService resolves to, why that template, and what blocks it",
        description="The chain of objects an AIMService resolves through with their states, every candidate "
        "template of auto-selection with why it won or was dropped, and what blocks the service now. Read-only.",
    )
    explain.add_argument("what", choices=["service"], help="what to explain (an AIMService)")
    explain.add_argument("name", nargs="?", help="the AIMService's name (not with --dry-run)")
    explain.add_argument("-n", "--namespace", help="its namespace (default: the context's)")
    explain.add_argument(
        "--dry-run", action="store_true", help="explain the service in -f, not yet applied, against the cluster"
    )
    explain.add_argument("-f", "--filename", metavar="PATH", help="with --dry-run: the AIMService manifest")
    _output(explain, ("text", "json", "yaml"))
    _cluster_flags(explain)
    explain.set_defaults(run=_explain)

    doctor = commands.add_parser(
        "doctor",
        help="Check the installation: CRDs, webhooks, certificates, controller, RBAC, KServe, GPU nodes",
        description="Read-only checks of an AIM Engine installation, each PASS, WARN or FAIL with the fix. "
        "Exit 1 when any check fails.",
    )
    _output(doctor, ("text", "json", "yaml"))
    _cluster_flags(doctor)
    doctor.set_defaults(run=_doctor)

    clone = commands.add_parser(
        "clone-templates",
        help="Print copies of the AIMClusterServiceTemplates of one GPU model for another, to apply",
        description="Every AIMClusterServiceTemplate profiled on PROFILE_GPU (status.resolvedHardware, else "
        "spec.hardware), copied to ask for TARGET_GPU and to run PROFILE_GPU's profile (env AIM_GPU_MODEL), "
        "printed for `kubectl apply -f -`. Read-only: nothing is created until you apply. "
        "Example: kubectl aim clone-templates MI300X MI325X | kubectl apply -f -",
    )
    clone.add_argument("profile_gpu", metavar="PROFILE_GPU", help="the GPU model the templates were profiled on")
    clone.add_argument("target_gpu", metavar="TARGET_GPU", help="the GPU model the clones ask for")
    _output(clone, ("yaml", "json"), default="yaml")
    _cluster_flags(clone)
    clone.set_defaults(run=_clone_templates)
    return parser


def _files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="file, directory (recursively: .yaml, .yml, .json) or - for stdin; repeatable",
    )


def _output(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str = "text") -> None:
    parser.add_argument("-o", "--output", choices=choices, default=default, help=f"output format (default: {default})")


def _cluster_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")


def _validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    files = _existing(expand(args.filename))
    live: validating.LiveObject | None = None
    missing: validating.MissingReferences | None = None
    namespace = args.namespace
    if args.cluster:
        from cli import cluster as clusters  # a cluster client only when asked for

        try:
            cluster = clusters.Cluster(args.kubeconfig, args.context)
        except clusters.ClusterError as error:
            raise UsageError(str(error)) from error
        live, missing = _live_checks(cluster)
        namespace = namespace or cluster.namespace
    with _Progress(err, len(files), "validating") as advance:
        report = validating.validate_files(files, namespace or "default", live, missing, advance)
    failed = report.invalid > 0 or (args.strict and report.warnings > 0)
    if args.output != "text":
        data = {
            "valid": report.valid,
            "invalid": report.invalid,
            "skipped": report.skipped,
            "findings": [line.as_dict() for line in report.lines],
        }
        _emit(out, data, args.output)
        return INVALID if failed else OK
    for line in report.lines:
        style = "yellow" if line.severity == "warning" else "red"
        out.print(validating.render_line(line), style=style, markup=False)
    err.print(report.summary(), style="red" if failed else "green", markup=False)
    return INVALID if failed else OK


def _live_checks(cluster: Any) -> tuple[validating.LiveObject, validating.MissingReferences]:
    from cli import cluster as clusters
    from webhooks.lookups import ReferenceChecker

    def live(obj: dict[str, Any], namespace: str) -> dict[str, Any] | None:
        metadata = obj.get("metadata") or {}
        kind, name = obj.get("kind"), metadata.get("name")
        if kind not in clusters.PLURALS or not isinstance(name, str):
            return None
        version = str(obj.get("apiVersion")).split("/")[-1]
        try:
            return cluster.get_aim(kind, name, metadata.get("namespace") or namespace, version)  # type: ignore[no-any-return]
        except clusters.ClusterError:
            return None

    return live, ReferenceChecker(cluster.exists).missing


def _convert(args: argparse.Namespace, out: Console, err: Console) -> int:
    files = _existing(expand(args.filename))
    if args.in_place and STDIN in files:
        raise UsageError("--in-place cannot rewrite stdin")
    total = printed = 0
    for name in files:
        try:
            result = converting.convert_text(name if name != STDIN else "<stdin>", read_text(name), args.to)
        except (ManifestError, ConversionError) as error:
            err.print(f"error: {error}", style="red", markup=False)
            return INVALID
        for note in result.notes:
            err.print(note, style="yellow", markup=False)
        total += result.converted
        if args.in_place:
            if result.converted:
                Path(name).write_text(result.text)
        else:
            text = result.text if result.text.endswith("\n") else result.text + "\n"
            if printed and not text.startswith("---"):
                text = "---\n" + text  # one stream of documents, as kubectl reads it
            out.file.write(text)
            printed += 1
    err.print(f"{total} object{'s' if total != 1 else ''} converted to {args.to}", style="green", markup=False)
    return OK


def _connect(args: argparse.Namespace) -> Any:
    from cli import cluster as clusters

    try:
        return clusters.Cluster(args.kubeconfig, args.context)
    except clusters.ClusterError as error:
        raise UsageError(str(error)) from error


def _explain(args: argparse.Namespace, out: Console, err: Console) -> int:
    from cli import admission, explain
    from cli import cluster as clusters
    from cli.manifests import load

    cluster = _connect(args)
    namespace = args.namespace or cluster.namespace
    if args.dry_run:
        if not args.filename or args.name:
            raise UsageError("--dry-run explains the AIMService in -f PATH, not a NAME")
        documents = load(args.filename, read_text(_existing([args.filename])[0]))
        verdict = admission.admit(documents[0].plain() if documents else {}, namespace=namespace)
        if verdict.admitted is None:
            for finding in verdict.errors:
                err.print(f"{args.filename}: {finding.field}: {finding.message}", style="red", markup=False)
            return INVALID
        service = admission.admitted_in_storage_version(verdict.admitted)
    else:
        if not args.name:
            raise UsageError("name the AIMService to explain (or use --dry-run -f PATH)")
        try:
            service = cluster.get_aim("AIMService", args.name, namespace)
        except clusters.ClusterError as error:
            raise UsageError(str(error)) from error
        if service is None:
            err.print(f'AIMService "{args.name}" not found in namespace "{namespace}"', style="red", markup=False)
            return INVALID
    try:
        result = explain.build(explain.observe(cluster, service))
    except clusters.ClusterError as error:
        raise UsageError(str(error)) from error
    if args.output != "text":
        _emit(out, result.as_dict(), args.output)
    else:
        for text, style in explain.render(result):
            out.print(text, style=style or None, markup=False)
    return OK


def _doctor(args: argparse.Namespace, out: Console, err: Console) -> int:
    from cli import doctor

    checks = doctor.run(_connect(args))
    if args.output != "text":
        _emit(out, [c.as_dict() for c in checks], args.output)
        return doctor.exit_code(checks)
    styles = {doctor.PASS: "green", doctor.WARN: "yellow", doctor.FAIL: "red"}
    for check in checks:
        out.print(f"{check.result}  {check.name}: {check.detail}", style=styles[check.result], markup=False)
        if check.fix and check.result != doctor.PASS:
            out.print(f"      fix: {check.fix}", markup=False)
    counts = {r: sum(1 for c in checks if c.result == r) for r in styles}
    summary = ", ".join(f"{n} {r}" for r, n in counts.items())
    err.print(summary, style="red" if counts[doctor.FAIL] else "green", markup=False)
    return doctor.exit_code(checks)


def _clone_templates(args: argparse.Namespace, out: Console, err: Console) -> int:
    from cli import clone
    from cli import cluster as clusters
    from controller.common.selection import CLUSTER_KIND

    profile_gpu, target_gpu = args.profile_gpu.strip(), args.target_gpu.strip()
    if not profile_gpu or not target_gpu:
        raise UsageError("name both GPU models, e.g. clone-templates MI300X MI325X")
    if profile_gpu.lower() == target_gpu.lower():
        # The clones would carry the originals' names: applying them would rewrite the originals.
        raise UsageError(f"PROFILE_GPU and TARGET_GPU are the same model ({profile_gpu})")
    try:
        templates = _connect(args).list_aim(CLUSTER_KIND)
    except clusters.ClusterError as error:
        raise UsageError(str(error)) from error
    clones = clone.clone_templates(templates, profile_gpu, target_gpu)
    for line in clone.progress(clones, profile_gpu, target_gpu):
        err.print(line, markup=False)
    manifests = [c.manifest for c in clones]
    if not manifests:
        return OK
    if args.output == "json":
        # One List, as `kubectl get -o json` prints several objects; `kubectl apply -f -` reads it.
        _emit(out, {"apiVersion": "v1", "kind": "List", "items": manifests}, "json")
    else:
        out.file.write(yaml.safe_dump_all(manifests, sort_keys=False))
    return OK


def _existing(files: list[str]) -> list[str]:
    absent = [name for name in files if name != STDIN and not Path(name).exists()]
    if absent:
        raise UsageError(f"no such file or directory: {', '.join(absent)}")
    return files


def _emit(out: Console, data: Any, output: str) -> None:
    text = json.dumps(data, indent=2) if output == "json" else yaml.safe_dump(data, sort_keys=False)
    out.file.write(text if text.endswith("\n") else text + "\n")


class _Progress:
    """A progress bar on stderr when it is a terminal and the work is long; else nothing."""

    def __init__(self, console: Console, total: int, what: str):
        self.bar: Progress | None = None
        if console.is_terminal and total >= PROGRESS_FROM:
            self.bar = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), console=console, transient=True)
            self.task = self.bar.add_task(what, total=total)

    def __enter__(self) -> Callable[[int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        bar, task = self.bar, self.task
        return lambda n: bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


if __name__ == "__main__":
    sys.exit(main())
