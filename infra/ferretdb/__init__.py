"""The local document DB: FerretDB built from the Go module proxy, started over SQLite."""
