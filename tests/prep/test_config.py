"""data_prep.config: the one dict <-> frozen-config conversion, through JSON and checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

from data_prep.build import PrepConfig
from data_prep.config import from_dict, to_dict
from data_prep.region import RegionConfig


@dataclass(frozen=True)
class Inner:
    size: int = 1
    pairs: tuple[tuple[int, int], ...] = ((1, 2),)


@dataclass(frozen=True)
class Outer:
    inner: Inner = Inner()
    maybe: Inner | None = None  # a dataclass behind a union
    inners: tuple[Inner, ...] = ()  # dataclasses inside a tuple
    cube: tuple[tuple[tuple[float, ...], ...], ...] = (((0.5,),),)
    loose: object = None  # untyped: lists still come back as tuples, at any depth
    name: str = "x"


DEEP = Outer(inner=Inner(3, ((4, 5), (6, 7))), maybe=Inner(8, ()),
             inners=(Inner(9, ((1, 1),)), Inner()), cube=(((1.0, 2.0), (3.0,)), ((4.0,),)),
             loose={"a": ((1, (2, 3)), ())}, name="deep")


def _json(config) -> dict:
    return json.loads(json.dumps(to_dict(config)))


def test_round_trip_through_json_rebuilds_nested_dataclasses_and_tuples():
    back = from_dict(Outer, _json(DEEP))
    assert back == DEEP
    assert isinstance(back.inner, Inner) and isinstance(back.maybe, Inner)
    assert all(isinstance(i, Inner) for i in back.inners)
    assert type(back.inner.pairs) is tuple and type(back.inner.pairs[0]) is tuple
    assert type(back.cube[0][0]) is tuple
    assert from_dict(Outer, {"loose": {"a": [[1, [2, 3]], []]}}).loose == DEEP.loose
    hash(back.cube)  # frozen all the way down: hashable


def test_round_trip_through_a_checkpoint(tmp_path):
    torch.save({"config": to_dict(DEEP)}, tmp_path / "c.pt")
    d = torch.load(tmp_path / "c.pt", weights_only=True)["config"]
    assert from_dict(Outer, d) == DEEP


def test_project_configs_round_trip():
    from mustache.learn.models.classifier import ClassifierConfig
    from mustache.learn.models.generator import GeneratorConfig
    from mustache.learn.train_config import TrainConfig

    for config in (PrepConfig(region=RegionConfig(window_size=64)), ClassifierConfig(widths=(8, 16)),
                   GeneratorConfig(base=8), TrainConfig(steps=3, batch_size=4, lr_g=1e-3,
                                                        lr_d=2e-3, guide="g.pt")):
        back = from_dict(type(config), _json(config))
        assert back == config, type(config).__name__
    assert type(from_dict(PrepConfig, _json(PrepConfig())).align.template[0]) is tuple


def test_missing_keys_take_defaults_and_unknown_keys_are_ignored():
    d = _json(DEEP)
    del d["name"], d["inner"]["size"]
    d["photos"] = ["/somewhere"]  # more than the config (prep_config.json has this)
    d["inner"]["retired_field"] = 1  # a field an older version had
    back = from_dict(Outer, d)
    assert back.name == "x" and back.inner.size == 1 and back.inner.pairs == DEEP.inner.pairs
    assert from_dict(Outer, {}) == Outer()


def test_bad_input_raises():
    with pytest.raises(TypeError, match="expected a dict"):
        from_dict(Outer, [1, 2])
    with pytest.raises(TypeError, match="expected a dict"):
        from_dict(Outer, {"inner": 3})  # a value that does not fit a nested config
