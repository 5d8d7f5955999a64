"""kwok configuration for the simulated GPU nodes.

Node lifecycle and pod start/delete use the stages that ship in the kwok module (read from the Go
module cache at run time, never copied here). Completion is ours, because tests and the operator's
Jobs need to choose the outcome:

* a Job-owned pod becomes Running, then Succeeded with exit code 0;
* with the annotation `sim.aim.eai.amd.com/outcome: Failed` it ends Failed instead, with the exit
  code from `sim.aim.eai.amd.com/exit-code` (default 1) — how the downloader's permanent and
  transient exit codes reach the controller in tests;
* `sim.aim.eai.amd.com/run-duration` (a Go duration such as `2s`) keeps the pod Running that long.
"""

from __future__ import annotations

from pathlib import Path

SIM_PREFIX = "sim.aim.eai.amd.com"
OUTCOME_ANNOTATION = f"{SIM_PREFIX}/outcome"
EXIT_CODE_ANNOTATION = f"{SIM_PREFIX}/exit-code"
RUN_DURATION_ANNOTATION = f"{SIM_PREFIX}/run-duration"

KWOK_VERSION = "v0.8.0"
_SHIPPED_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-delete.yaml",
)

# `exit_code` is evaluated before `range`, where `.` is still the pod (inside it is a container).
_TERMINATE_TEMPLATE = """\
{{{{ $now := Now }}}}
{{{{ $exitCode := {exit_code} }}}}
containerStatuses:
{{{{ range .spec.containers }}}}
- image: {{{{ .image | Quote }}}}
  name: {{{{ .name | Quote }}}}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: {{{{ $exitCode }}}}
      finishedAt: {{{{ $now | Quote }}}}
      reason: {reason}
      startedAt: {{{{ $now | Quote }}}}
{{{{ end }}}}
phase: {phase}
"""


def _finish_stage(name: str, outcome_operator: str, phase: str, reason: str, exit_code: str) -> str:
    template = _TERMINATE_TEMPLATE.format(exit_code=exit_code, reason=reason, phase=phase)
    indented = "\n".join("      " + line if line else "" for line in template.splitlines())
    return f"""\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: {name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']
    - key: '.metadata.annotations["{OUTCOME_ANNOTATION}"]'
      operator: '{outcome_operator}'
      values: ['Failed']
  delay:
    durationMilliseconds: 200
    durationFrom:
      expressionFrom: '.metadata.annotations["{RUN_DURATION_ANNOTATION}"]'
  next:
    statusTemplate: |
{indented}
"""


def stage_config(kwok_module_dir: Path) -> str:
    """The multi-document YAML passed to `kwok --config`."""
    shipped = [(kwok_module_dir / "kustomize" / "stage" / p).read_text() for p in _SHIPPED_STAGES]
    ours = [
        _finish_stage("aim-pod-succeed", "NotIn", "Succeeded", "Completed", '"0"'),
        _finish_stage(
            "aim-pod-fail",
            "In",
            "Failed",
            "Error",
            f'or (index .metadata.annotations "{EXIT_CODE_ANNOTATION}") "1"',
        ),
    ]
    return "\n---\n".join(doc.strip() + "\n" for doc in [*shipped, *ours])


def crd_files(kwok_module_dir: Path) -> list[Path]:
    """kwok's Logs CRD: per-pod log files are configured as Logs objects (see logrouter)."""
    return [kwok_module_dir / "kustomize" / "crd" / "bases" / "kwok.x-k8s.io_logs.yaml"]
