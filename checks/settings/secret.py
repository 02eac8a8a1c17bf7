"""A secret value (password, client secret, token) that never shows itself in repr, str, format or pickle."""

from __future__ import annotations

from typing import Any

MASK = "********"


class Secret:
    """A secret value whose repr, str and format never show it; call reveal() at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", str(value))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled or copied to disk")
