"""The formats records and the comparison table are written in, light to import: the CLI's parser
needs them at every launch, the writers (export) only when something is exported."""

FORMATS = ("table", "json", "jsonl", "csv", "md")
