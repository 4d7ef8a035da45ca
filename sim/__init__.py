"""sim: agent-based scenario model of China's new industrialization."""

__version__ = "0.1.0"
