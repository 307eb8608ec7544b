"""One module per workflow type; orchestration only."""
