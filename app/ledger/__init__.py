"""The public-revenue ledger (公共收益, Civil Code Art. 282): append-only, published."""
