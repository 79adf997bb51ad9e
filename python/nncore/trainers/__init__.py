"""The machinery behind ``Model.fit``/``evaluate``/``predict``: data adapters turning what the
user passes into batches, the epoch iterator, and the per-output loss and metric bookkeeping."""
