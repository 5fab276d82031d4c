"""The Textual workbench. Screens call core services only."""
