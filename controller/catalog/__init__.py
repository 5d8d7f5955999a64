"""The model catalog's rules, pure (standard library, pydantic, semver and `api` only).

What the AIMModel / AIMClusterModel and AIMClusterModelSource controllers decide about images
without talking to anything: how an image reference reads (`imageref`), what an image's config
labels say about the model (`labels`), which pull-secret entry applies to a registry
(`credentials`) and which registry images a model source turns into AIMClusterModels (`sources`).
`controller.registry` is the I/O edge that fetches what these functions read.
"""
