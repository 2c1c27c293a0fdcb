"""The formats records and the comparison table are written in, light to import: the CLI's parser
needs them at every launch, the writers (export, the sweep table) only when something is written."""

FORMATS = ("table", "json", "jsonl", "csv", "md")
# The forms of a bench sweep's closing table.
SWEEP_FORMATS = ("table", "md", "csv", "json")
