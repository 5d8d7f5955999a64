"""The AIM Engine API (`aim.eai.amd.com`): pydantic models, defaulting, validation and conversion.

Pure layer: imports pydantic and the standard library only (import-linter contract). The CRDs
in `crds/` and the Helm chart are generated from it. The webhooks use its validation, defaulting
and conversion; the controller its names (`naming`), keys (`labels`), conditions and registry.
"""

GROUP = "aim.eai.amd.com"
