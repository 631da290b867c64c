"""One module per kind of CSV file that ``salus import`` reads (see salus.transfer.registry)."""
