"""One module per measured workload; bench/run.py runs them."""
