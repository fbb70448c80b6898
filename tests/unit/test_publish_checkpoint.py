"""The block publisher's checkpoint: where publishing resumes after a restart."""

import os
from pathlib import Path

import pytest

from ledger_gateway.checkpoint import PublishCheckpoint


def test_a_gateway_without_a_checkpoint_starts_before_the_first_transaction(
    tmp_path: Path,
) -> None:
    assert PublishCheckpoint(tmp_path / "checkpoint.json").load() == (-1, -1)


def test_a_saved_position_is_where_the_next_process_resumes(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    PublishCheckpoint(path).save(7, 3)
    PublishCheckpoint(path).save(9, 0)

    assert PublishCheckpoint(path).load() == (9, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]


def test_a_save_that_dies_before_its_file_is_in_place_leaves_the_previous_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.json"
    PublishCheckpoint(path).save(4, 1)

    def dies(fd: int) -> None:
        raise OSError("killed during the write")

    monkeypatch.setattr(os, "fsync", dies)
    with pytest.raises(OSError, match="killed"):
        PublishCheckpoint(path).save(5, 0)

    assert PublishCheckpoint(path).load() == (4, 1)


def test_a_new_gateways_checkpoint_starts_where_the_single_gateway_had_got_to(
    tmp_path: Path,
) -> None:
    legacy = tmp_path / "legacy.json"
    PublishCheckpoint(legacy).save(12, 2)
    own = PublishCheckpoint(tmp_path / "se-ki.json", starts_from=legacy)

    assert own.load() == (12, 2)
    own.save(13, 0)
    assert own.load() == (13, 0)
    assert PublishCheckpoint(legacy).load() == (12, 2)
