"""The demo data that `make run` loads: `seed_demo` and every app's part of it."""
