"""Export of int8 neural networks: read a `.tflite`, rewrite what the converter emits into vigil's op set,
compile a plan (op list, precomputed requantization, static arena) and write C headers.

Modules: `tflite_reader` (flatbuffer → dataclasses), `tflite` (Keras → int8 `.tflite`, the TFLM oracle),
`graph_rewrite` (fold shape-only subgraphs, fuse dilated convolutions), `plan` (plan compiler),
`headers` (`NAME_tflite.h`, `NAME_plan.h`)."""
