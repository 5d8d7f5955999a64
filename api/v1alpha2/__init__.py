"""aim.eai.amd.com/v1alpha2: the hub and storage version (profiles; a cleaner AIMService and AIMModel)."""

VERSION = "v1alpha2"
