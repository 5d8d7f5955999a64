"""The kopf-based controller process. Only `controller.k8s` and fetch steps talk to the API server."""
