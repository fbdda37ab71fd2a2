"""`cached_property` without the lock Python 3.11's functools version takes.

Python 3.8-3.11's functools.cached_property holds one RLock per attribute, shared by every
instance of the class, while it computes a value: 32 ALTER workers reading 32 different
backups' `FullBackup.top_level_files` (a directory listing each) waited on each other, one
listing at a time (py-spy: 29% of the workers' samples sat in that lock). Python 3.12 dropped
the lock for the same reason. Here two threads that ask for the same instance's value at once
may both compute it; the first value stored is the one every caller gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - a drop-in for functools.cached_property
    """Computed on first access, then stored in the instance's __dict__ (which, this being a
    non-data descriptor, answers every later access without calling back here)."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> T | cached_property[T]:
        if obj is None:
            return self
        cache = obj.__dict__
        try:
            return cache[self.name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        value = self.func(obj)
        return cache.setdefault(self.name, value)  # type: ignore[no-any-return]
