"""Pure policy documents and their evaluation with AWS semantics."""
