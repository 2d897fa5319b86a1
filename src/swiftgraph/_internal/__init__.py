"""swiftgraph's private core. Nothing here is public API; the public modules re-export what users need."""
