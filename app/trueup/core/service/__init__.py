"""The surface the fronts call: `Workbench` for the TUI's screens (the types they show are
imported from here). The CLI still calls stage modules directly; issue 15 moves it here.
"""
