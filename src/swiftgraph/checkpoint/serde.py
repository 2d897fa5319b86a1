"""How checkpoints are serialized: typed JSON, never pickle.

``register(MyClass)`` lets a dataclass, enum, pydantic model or namedtuple be loaded
back from a checkpoint written by another process; see
:mod:`swiftgraph._internal.serde` for the format and its guarantees."""

from swiftgraph._internal.serde import SerializationError, Serializer, class_name, register

__all__ = ["SerializationError", "Serializer", "class_name", "register"]
