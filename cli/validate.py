"""`kubectl aim validate`: every AIM object in the manifests through offline admission
(`cli.admission`), findings located as `file:line: field: message`.

With a cluster, an object that exists is checked as the update `kubectl apply` would make (the
immutability rules apply) and the objects it names are looked up, with the webhook's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from api.validation import Reference
from cli.admission import Finding, admit, is_aim_object
from cli.manifests import Document, ManifestError, display_name, load, read_text


@dataclass(frozen=True)
class Line:
    """One finding, where it is."""

    file: str
    line: int
    severity: str  # "error" | "warning"
    kind: str
    name: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    lines: list[Line]
    valid: int = 0
    invalid: int = 0
    skipped: int = 0
    """Documents that are not AIM objects (a kustomize build's Deployments): not ours to judge."""

    @property
    def errors(self) -> int:
        return sum(1 for line in self.lines if line.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for line in self.lines if line.severity == "warning")

    def summary(self) -> str:
        parts = [f"{self.valid} valid", f"{self.invalid} invalid"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (not AIM objects)")
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' if self.warnings != 1 else ''}")
        return ", ".join(parts)


LiveObject = Callable[[dict[str, Any], str], dict[str, Any] | None]
"""(object, namespace) → the object as the cluster has it now, in the object's version."""
MissingReferences = Callable[[list[Reference]], list[str]]


def validate_files(
    files: Iterable[str],
    namespace: str = "default",
    live: LiveObject | None = None,
    missing: MissingReferences | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    report = Report(lines=[])
    for name in files:
        source = display_name(name)
        try:
            documents = load(source, read_text(name))
        except ManifestError as error:
            report.lines.append(Line(source, error.line, "error", "", "", "", error.message))
            report.invalid += 1
            continue
        except OSError as error:
            report.lines.append(Line(source, 0, "error", "", "", "", f"cannot read: {error.strerror or error}"))
            report.invalid += 1
            continue
        for document in documents:
            _validate_document(document, namespace, live, missing, report)
        if progress:
            progress(1)
    return report


def _validate_document(
    document: Document,
    namespace: str,
    live: LiveObject | None,
    missing: MissingReferences | None,
    report: Report,
) -> None:
    obj = document.plain()
    if not isinstance(obj, dict) or not is_aim_object(obj):
        report.skipped += 1
        return
    old = live(obj, namespace) if live else None
    verdict = admit(obj, old=old, namespace=namespace)
    findings = list(verdict.findings)
    if verdict.allowed and missing and verdict.references:
        findings += [Finding((), text, warning=True) for text in missing(verdict.references)]
    kind = str(obj.get("kind", ""))
    name = str((obj.get("metadata") or {}).get("name", "")) if isinstance(obj.get("metadata"), dict) else ""
    located = []
    for finding in findings:
        located.append(
            Line(
                file=document.source,
                line=document.line(finding.path),
                severity="warning" if finding.warning else "error",
                kind=kind,
                name=name,
                field=finding.field,
                message=finding.message,
            )
        )
    report.lines += sorted(located, key=lambda line: line.line)  # in the order of the file
    if verdict.allowed:
        report.valid += 1
    else:
        report.invalid += 1


def render_line(line: Line) -> str:
    where = f"{line.file}:{line.line}"
    field = f"{line.field}: " if line.field else ""
    what = f"{line.kind}/{line.name}" if line.kind else ""
    severity = "warning: " if line.severity == "warning" else ""
    return f"{where}: {severity}{field}{line.message}" + (f"  [{what}]" if what else "")
