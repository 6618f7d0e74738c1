"""One config per generator: the pipeline's options, the constructor's argument and the
fingerprint come from one model; unknown options are errors for every backend."""
from __future__ import annotations

import pytest

from assetkit.errors import ConfigError, ModelError
from assetkit.generators import generator_class, generator_names, get_generator, register_generator, source_types
from assetkit.generators.base import GeneratedImage, Generator, GeneratorConfig
from assetkit.generators.draft import DraftConfig, DraftGenerator
from assetkit.pipeline import load_pipeline


def test_draft_rejects_unknown_options_and_fingerprints_what_it_is_given():
    with pytest.raises(ModelError, match="unknown option 'steps' for the draft generator"):
        DraftGenerator(steps=4)
    with pytest.raises(ModelError, match="unknown option 'grian' for the draft generator; did you mean 'grain'"):
        get_generator("draft", grian=1)
    assert DraftGenerator().fingerprint() == {"generator": "draft", "version": 2}  # defaults add nothing
    assert DraftGenerator(DraftConfig(grain=0)).fingerprint() == {"generator": "draft", "version": 2, "grain": 0.0}
    assert DraftGenerator(grain=0).config == DraftConfig(grain=0)
    with pytest.raises(TypeError, match="not both"):
        DraftGenerator(DraftConfig(), grain=1)


def test_diffusers_options_are_checked_by_its_config_before_any_model_is_read():
    from assetkit.generators.diffusers import DiffusersConfig

    with pytest.raises(ModelError, match="unknown scheduler 'dpm2m'; did you mean 'dpmpp_2m'"):
        get_generator("diffusers", model="x", scheduler="dpm2m")
    with pytest.raises(ModelError, match="give both width and height, or neither"):
        get_generator("diffusers", model="x", width=512)
    with pytest.raises(ModelError, match="unknown option 'stepz' for the diffusers generator; did you mean 'steps'"):
        get_generator("diffusers", model="x", stepz=3)
    with pytest.raises(ModelError, match="needs a model"):
        get_generator("diffusers")
    assert DiffusersConfig(dtype="bf16").dtype == "bfloat16"  # the aliases `models check --dtype` takes


def write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nsteps:\n" + text + "  - reframe: {}\n  - compose: {}\n  - export: {}\n")
    return p


def test_the_pipeline_offers_a_backend_only_its_own_options(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_pipeline(write(tmp_path, "  - generate: {generator: draft, steps: 4}\n"))
    assert [p.message for p in info.value.problems] == ["unknown key 'steps'; did you mean 'masters'?"]
    assert (info.value.problems[0].line, info.value.problems[0].loc) == (3, "steps[0].generate.steps")
    with pytest.raises(ConfigError) as info:
        load_pipeline(write(tmp_path, "  - generate: {generator: dall-e}\n"))
    assert "unknown generator 'dall-e'; known: auto, draft, diffusers" in str(info.value)
    auto = load_pipeline(write(tmp_path, "  - generate: {steps: 4, grain: 0}\n")).step("generate")
    assert (auto.params.steps, auto.params.grain) == (4, 0)  # auto: every backend's options
    diff = load_pipeline(write(tmp_path, "  - generate: {generator: diffusers, steps: 4}\n")).step("generate")
    assert not hasattr(diff.params, "grain")


class EchoConfig(GeneratorConfig):
    level: int = 3
    """How loud."""


class EchoGenerator(Generator):
    name = "echo"
    Config = Options = EchoConfig

    def fingerprint(self):
        return {"generator": "echo", **self.config.model_dump()}

    def generate(self, requests, progress=None):
        return [GeneratedImage(image=None) for _ in requests]


def test_a_plugin_backend_needs_no_if_elif(monkeypatch, tmp_path):
    from assetkit import generators
    from assetkit.steps import generate

    monkeypatch.setattr(generators, "REGISTRY", generators.REGISTRY.copy())
    monkeypatch.setattr(generators, "_UNTRAINED", set(generators._UNTRAINED))
    generate.params_model.cache_clear()
    try:
        register_generator("echo", EchoGenerator, trained=False)
        assert generator_names()[-1] == "echo" and generator_class("echo") is EchoGenerator
        assert source_types("echo")[0].endswith("/algorithmicMedia")
        step = load_pipeline(write(tmp_path, "  - generate: {generator: echo, level: 5}\n")).step("generate")
        assert step.params.level == 5
        with pytest.raises(ValueError, match="already registered"):
            register_generator("echo", "somewhere:Else")
    finally:
        generate.params_model.cache_clear()


def test_every_backend_places_a_packshot_product_the_same_way():
    from pathlib import Path

    from assetkit.generators.base import place_product
    from assetkit.generators.diffusers import _packshot

    product = Path(__file__).resolve().parent.parent / "examples" / "packshot" / "product.png"  # 600×860
    placed = place_product(product, 1024, 1024, (0.7, 0.5))
    assert placed.image.size == (393, 563) and placed.box == (520, 230, 913, 793)  # 55 % of the short side
    assert _packshot(product, 1024, 1024, (0.7, 0.5), {}).box == placed.box
    assert place_product(product, 4096, 2048, (0.5, 0.5)).scale == 1.0  # never enlarged
