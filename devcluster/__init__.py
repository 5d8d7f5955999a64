"""The local, embedded control plane: real etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok-simulated AMD GPU nodes, all on 127.0.0.1.

Used by `make run` / `make dev-up` and by the test harness. Product code never imports it
(import-linter contract).
"""
