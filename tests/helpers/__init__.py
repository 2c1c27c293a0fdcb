"""What tests share: clocks, apps, Pilot steps, records, resource fakes, fit machines (fixtures stay in conftest.py)."""
