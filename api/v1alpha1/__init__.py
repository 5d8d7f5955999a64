"""aim.eai.amd.com/v1alpha1: the original API, served for every kind."""

VERSION = "v1alpha1"
