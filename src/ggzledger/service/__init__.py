"""The service layer: the composition root, the Ledger service, its batches, cache and input records."""
