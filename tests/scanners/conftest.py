import pytest

from scanners.labels import LabelInfo

from ._images import make_label


@pytest.fixture
def label() -> LabelInfo:
    return make_label()
