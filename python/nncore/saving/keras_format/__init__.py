"""Keras 3's own file formats: ``.keras`` archives (``config.json`` + ``model.weights.h5``) and
``.weights.h5`` weight files, read into nncore models and written from them so that Keras 3's
``keras.saving.load_model`` / ``model.load_weights`` read them.

Files from elsewhere are untrusted: configs are translated by a fixed table (nothing named in a
file is imported or executed: Keras' ``safe_mode``), and HDF5 content is checked before use."""
