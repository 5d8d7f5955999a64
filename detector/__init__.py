"""The accelerator detector (`aim-detect-accelerators`), run on every node by the chart's optional
DaemonSet (`acceleratorDetector.enabled`): it reads the node's AMD GPUs from sysfs (its CPU from
/proc/cpuinfo when it has none) and writes them as a Node Feature Discovery local feature file,
which NFD publishes as `feature.node.kubernetes.io/aim-accelerator.*` node labels. It never talks
to the API server (import-linter checks it). See docs/accelerator-detection.md.

Layers: `detector.features` is pure (a snapshot of the node in, feature lines out);
`detector.node` reads the snapshot and writes the file; `detector.__main__` is the loop.
"""
