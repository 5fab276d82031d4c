"""Models, store, API clients and services. Never imports Textual."""
