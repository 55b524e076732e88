"""The local Operaton engine: built from engine/pom.xml with Maven, started and stopped by the launcher."""

from engine.errors import EngineError
from engine.launcher import LocalEngine, port_for_tests

__all__ = ["EngineError", "LocalEngine", "port_for_tests"]
