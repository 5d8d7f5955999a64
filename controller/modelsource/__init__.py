"""AIMClusterModelSource: periodic registry discovery creating AIMClusterModels (upstream E.14)."""
