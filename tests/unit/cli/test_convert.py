"""`kubectl aim convert`: the webhook's lossless conversion applied to files, touching only what
changed (comments, key order and list style kept), and a round trip that gives the file back."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from api.conversion import TRANSFORMS, convert
from cli.__main__ import main
from cli.convert import convert_text
from cli.manifests import round_trip_yaml
from tests.examples import EXAMPLES
from tests.unit.api.test_conversion import objects

FILES = sorted(p for p in EXAMPLES.rglob("*.yaml"))


CONVERTIBLE = [p for p in FILES if any(d and d["kind"] in TRANSFORMS for d in yaml.safe_load_all(p.read_text()))]


@pytest.mark.parametrize("path", CONVERTIBLE, ids=[str(p.relative_to(EXAMPLES)) for p in CONVERTIBLE])
def test_an_example_file_comes_back_from_a_round_trip_with_its_comments(path: Path) -> None:
    text = path.read_text()
    versions = [d["apiVersion"] for d in yaml.safe_load_all(text) if d and d["kind"] in TRANSFORMS]
    start = versions[0].split("/")[1]
    other = "v1alpha1" if start == "v1alpha2" else "v1alpha2"
    there = convert_text(str(path), text, other)
    assert there.converted == len(versions)
    back = convert_text(str(path), there.text, start).text
    assert list(yaml.safe_load_all(back)) == list(yaml.safe_load_all(text))
    assert comments(back) == comments(there.text) == comments(text)
    # A field the target version lacks comes back at the end of its map, not where it was.
    assert sorted(back.splitlines()) == sorted(text.splitlines())


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(EXAMPLES)) for p in FILES])
def test_the_file_holds_what_the_webhook_would_serve(path: Path) -> None:
    converted = list(yaml.safe_load_all(convert_text(str(path), path.read_text(), "v1alpha2").text))
    originals = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for original, written in zip(originals, [d for d in converted if d], strict=True):
        expected = (
            convert(original, "aim.eai.amd.com/v1alpha2")
            if original["kind"] in ("AIMService", "AIMModel", "AIMClusterModel")
            else original
        )
        assert written == expected


SERVICE = """\
# The chat service of the research team.
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
metadata:
  name: chat  # keep it short
spec:
  model:
    name: qwen
  routing:
    enabled: true
    routeTemplate: "/team/chat"  # the old spelling
    gatewayRef:
      name: gw
  caching:
    mode: Never
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMServiceTemplate
metadata:
  name: t
spec:
  modelName: qwen
"""


def test_only_what_changed_is_touched() -> None:
    result = convert_text("s.yaml", SERVICE, "v1alpha2")
    assert (result.converted, result.unchanged) == (1, 1)
    text = result.text
    assert text.startswith("# The chat service of the research team.\napiVersion: aim.eai.amd.com/v1alpha2\n")
    assert "name: chat  # keep it short" in text
    # the renamed key where the old one was, before gatewayRef
    assert text.index("pathTemplate:") < text.index("gatewayRef:")
    assert "mode: Dedicated" in text
    assert "AIMServiceTemplate exists only in aim.eai.amd.com/v1alpha1" in result.notes[0]
    assert "s.yaml:17:" in result.notes[0]


def test_a_file_in_the_target_version_is_left_byte_for_byte() -> None:
    text = (EXAMPLES / "v1alpha2" / "aimservice.yaml").read_text()
    result = convert_text("x.yaml", text, "v1alpha2")
    assert result.text == text
    assert result.converted == 0


@pytest.mark.parametrize("kind", ["AIMService", "AIMModel"])
@pytest.mark.parametrize(("start", "other"), [("v1alpha1", "v1alpha2"), ("v1alpha2", "v1alpha1")])
def test_round_trip_of_generated_objects_through_files(kind: str, start: str, other: str) -> None:
    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    # Printable text only: ruamel turns a NEL (U+0085) in a value into a space, as YAML's line
    # folding allows; manifests do not hold control characters.
    @given(objects(kind, f"aim.eai.amd.com/{start}").filter(lambda o: json.dumps(o, ensure_ascii=False).isprintable()))
    def round_trip(original: dict[str, Any]) -> None:
        # Written and read back as YAML 1.2 (ruamel's): PyYAML's YAML 1.1 leaves keys such as 0e0
        # unquoted, which YAML 1.2 reads as a number (docs/cli.md, "YAML").
        stream = io.StringIO()
        round_trip_yaml().dump(original, stream)
        there = convert_text("g.yaml", stream.getvalue(), other)
        back = convert_text("g.yaml", there.text, start).text
        assert json.loads(json.dumps(round_trip_yaml().load(back))) == original

    round_trip()


def test_in_place_rewrites_files_and_stdout_joins_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(SERVICE)
    second.write_text((EXAMPLES / "v1alpha1" / "aimmodel.yaml").read_text())
    assert main(["convert", "-f", str(tmp_path), "--to", "v1alpha2"]) == 0
    printed = list(yaml.safe_load_all(capsys.readouterr().out))
    assert len([d for d in printed if d]) == 2 + len([d for d in yaml.safe_load_all(second.read_text()) if d])
    assert main(["convert", "-f", str(first), "--to", "v1alpha2", "--in-place"]) == 0
    assert "apiVersion: aim.eai.amd.com/v1alpha2" in first.read_text()
    assert main(["convert", "-f", "-", "--to", "v1alpha2", "--in-place"]) == 2
