"""Local Camunda 8 orchestration cluster (Zeebe, Operate, Tasklist, REST API) for development and tests."""

from engine.errors import EngineError
from engine.launcher import EnginePorts, LocalEngine

__all__ = ["EngineError", "EnginePorts", "LocalEngine"]
