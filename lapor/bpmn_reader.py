"""The one reader of the BPMN models (Camunda 7 dialect): a file parsed once, its elements by tag, their `camunda:`
attributes and extension properties. lapor.modelcheck checks the models through it; lapor.deadlines and
lapor.restore read the shipped process's properties through it."""

from pathlib import Path
from xml.etree import ElementTree

from lapor.settings import ROOT

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "modeler": "http://camunda.org/schema/modeler/1.0",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "camundaDmn": "http://camunda.org/schema/1.0/dmn",
}
PROCESS_MODEL = ROOT / "bpmn" / "lapor-pengaduan.bpmn"


def camunda(element: ElementTree.Element, name: str) -> str | None:
    """The element's `camunda:<name>` attribute."""
    return element.get(f"{{{NS['camunda']}}}{name}")


def properties(element: ElementTree.Element) -> dict[str, str]:
    """The element's extension properties (`camunda:property`), name -> value."""
    return {
        str(p.get("name")): str(p.get("value", ""))
        for p in element.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


class BpmnModel:
    """One BPMN file, parsed once."""

    def __init__(self, path: Path, root: ElementTree.Element | None = None) -> None:
        self.path = path
        # A model of bpmn/ or the designer's, or one the engine itself deployed: not remote input.
        self.root = root if root is not None else ElementTree.parse(path).getroot()  # noqa: S314

    @classmethod
    def from_xml(cls, text: str, *, source: str = "deployed model") -> "BpmnModel":
        """A model as the engine holds it (lapor.restore reads the version an instance runs); ParseError if broken."""
        return cls(Path(source), ElementTree.fromstring(text))  # noqa: S314 - the city's engine's own deployment

    def all(self, tag: str) -> list[ElementTree.Element]:
        """Every element `bpmn:<tag>` in the file."""
        return self.root.findall(f".//bpmn:{tag}", NS)

    def service_tasks(self, topic: str) -> list[ElementTree.Element]:
        """The service tasks of one external-task topic."""
        return [task for task in self.all("serviceTask") if camunda(task, "topic") == topic]
