"""One module per kind of CSV file that ``salus export`` writes (see salus.transfer.registry)."""
