"""`python -m tui` and the `ollamon` command."""

from __future__ import annotations

from tui.perf.hooks import before_start


def main() -> int:
    before_start()
    # Imported after the pause: importing Textual and the app is most of start-up.
    from tui.cli.main import main as run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
