"""A read-only XML tree that knows where each element sits in the file's bytes, so a generator can replace one part
of a Modeler file and keep every other byte (a serializer would re-quote, re-indent and re-order what it rewrites)."""

from dataclasses import dataclass, field
from xml.parsers import expat


@dataclass(slots=True)
class XmlElement:
    """An element as written (`tag` with its prefix, if any), its attributes, text and byte span [start, end)."""

    tag: str
    attrs: dict[str, str]
    start: int
    end: int = -1
    text: str = ""
    children: list["XmlElement"] = field(default_factory=list)

    @property
    def local_name(self) -> str:
        return self.tag.rpartition(":")[2]

    def children_named(self, local_name: str) -> list["XmlElement"]:
        return [child for child in self.children if child.local_name == local_name]

    def child_named(self, local_name: str) -> "XmlElement | None":
        return next(iter(self.children_named(local_name)), None)

    def text_of(self, local_name: str) -> str:
        """The text of the first child of that name; "" when there is none."""
        child = self.child_named(local_name)
        return child.text if child else ""


def parse_xml(data: bytes) -> XmlElement:
    """The document's root element; expat.ExpatError if the file is not well-formed."""
    parser = expat.ParserCreate()
    stack: list[XmlElement] = []
    document: list[XmlElement] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = XmlElement(tag=tag, attrs=attrs, start=parser.CurrentByteIndex)
        (stack[-1].children if stack else document).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        # Expat points at the end tag's "<", or just past the "/>" of an empty element.
        position = parser.CurrentByteIndex
        stack.pop().end = data.index(b">", position) + 1 if data.startswith(b"</", position) else position

    def text(content: str) -> None:
        if stack:
            stack[-1].text += content

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.Parse(data, True)
    return document[0]
