"""The kopf-based controller process. Only `controller.kube` (through the fetch modules and the
runner) talks to the API server; see docs/controller.md for the map."""
