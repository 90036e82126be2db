"""The device's set of models: the bundle `vigil export models` writes (model_bundle) and the twin of what the
device computes with it (consensus_twin). It sits above `vigil.ml` (training) and `vigil.export` (conversion and
C headers) and imports both; neither imports it."""
