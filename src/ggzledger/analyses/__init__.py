"""Read-only analyses of the whole ledger for policy questions: they compute, and write nothing."""
