"""Reading V8 heap snapshots: :func:`read_snapshot`, DevTools class names, snapshot file names."""

from .classes import NodeClasses, normalize_object_name, type_class_label
from .reader import Edges, HeapSnapshot, Layout, read_snapshot
from .strings import StringTable

__all__ = [
    "Edges",
    "HeapSnapshot",
    "Layout",
    "NodeClasses",
    "StringTable",
    "normalize_object_name",
    "read_snapshot",
    "type_class_label",
]
