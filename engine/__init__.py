"""The local Operaton engine: built from engine/pom.xml with Maven, started and stopped by the launcher."""

from engine.errors import EngineError
from engine.launcher import LocalCluster, LocalEngine, port_for_tests

__all__ = ["EngineError", "LocalCluster", "LocalEngine", "port_for_tests"]
