"""The engine's version, recorded with every decision (one place)."""

ENGINE_VERSION = "0.1.0"
