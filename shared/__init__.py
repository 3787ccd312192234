"""Code both the agent and the hub use: payload schemas and their canonical encoding, code lists,
signing and verification, pseudonymisation, and the one error tree. Standard library and
``cryptography`` only, so the agent installs light."""

__version__ = "0.1.0"
