"""aim-activator: holds requests for a predictor that KEDA idled to zero, and tells KEDA about them.

A service with `minReplicas: 0` has no pod while idle. Clients (or the gateway) send its requests
through the activator, `/<namespace>/<service>/<path>`; the activator forwards each to the
service's predictor Service and, while that has no ready pod, holds it (retrying the connection,
which kube-proxy refuses at once while there is no endpoint) until a pod answers or the hold times
out. `GET /activation/<namespace>/<service>` reports the requests it holds or forwards for that
service; the service's ScaledObject reads it with KEDA's metrics-api scaler as its activation
trigger, so the first request wakes the predictor and is answered instead of refused.
"""
