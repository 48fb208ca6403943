"""The public surface of pmsync: names, sorting, typing marker."""

from __future__ import annotations

from importlib import resources

import pmsync


def test_all_is_sorted_and_exported():
    """__all__ is sorted and every name in it exists."""
    assert sorted(pmsync.__all__) == list(pmsync.__all__)
    for name in pmsync.__all__:
        assert hasattr(pmsync, name), name


def test_package_is_typed():
    """The package ships py.typed so that users' type checkers read its annotations."""
    assert resources.files("pmsync").joinpath("py.typed").is_file()


def test_every_error_derives_from_pmsync_error():
    """One except clause catches everything pmsync raises on purpose."""
    for name in pmsync.__all__:
        obj = getattr(pmsync, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, pmsync.PmsyncError), name
