"""The transfer helpers of the training rounds (wordvec.distributed_rounds.scatter/fetch): the
model goes straight between driver and workers, and where the driver cannot reach the workers
the first failure switches to the scheduler's relay for good. The direct path itself runs in
every cluster training test (test_distributed_train/glove/fasttext); this checks the fallback,
which a LocalCluster never needs."""

import pytest

from wordvec import distributed_rounds as dr


class Client:
    """Records how it was asked to move data; refuses direct transfers like a driver that
    reaches only the scheduler."""

    def __init__(self, direct_fails):
        self.direct_fails = direct_fails
        self.calls = []

    def scatter(self, data, hash=True, direct=None, **kwargs):
        self.calls.append(("scatter", direct, hash))
        if direct and self.direct_fails:
            raise OSError("Timed out trying to connect to tcp://10.0.0.7:40123")
        return ["future"]

    def gather(self, future, direct=None):
        self.calls.append(("gather", direct))
        if direct and self.direct_fails:
            raise OSError("Timed out trying to connect to tcp://10.0.0.7:40123")
        return "result"


@pytest.fixture(autouse=True)
def fresh_flag(monkeypatch):
    monkeypatch.setattr(dr, "_DIRECT", [True])


def test_direct_when_the_workers_are_reachable():
    c = Client(direct_fails=False)
    assert dr.scatter(c, [1, 2], broadcast=True) == ["future"]
    assert dr.fetch(c, "f") == "result"
    assert c.calls == [("scatter", True, False), ("gather", True)]
    assert dr._DIRECT == [True]


def test_falls_back_to_the_scheduler_once_and_stays_there():
    c = Client(direct_fails=True)
    assert dr.scatter(c, [1, 2], broadcast=True) == ["future"]
    assert dr.fetch(c, "f") == "result"
    assert dr.scatter(c, [3]) == ["future"]
    assert c.calls == [("scatter", True, False), ("scatter", False, False), ("gather", False),
                       ("scatter", False, False)]
    assert dr._DIRECT == [False]
