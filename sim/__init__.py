"""basing: international basing negotiations as an agent-based model (Mesa, batched numpy)."""

__version__ = "0.2.0"
