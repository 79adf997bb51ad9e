"""ONNX export internals: a graph builder that tracks each tensor's layout, and the layer
converters. The entry point is :func:`nncore.saving.onnx_export.export_onnx`."""
