"""The workbench screens: one module each; they call core services only."""
