"""`kubectl aim`: the project's rules (api/) as a command line, for manifests and clusters.

May import `api` (the rules), `webhooks.lookups` (the webhook's reference wording) and the
controller's pure planners; never the controller's or the webhook service's I/O.
"""
