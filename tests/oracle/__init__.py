"""Independent oracles for the demo bundle: hand-written SQL views, no govern code."""
