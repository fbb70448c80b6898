"""The records-system port: does the home organisation hold the patient's records?

CUREX keeps the hospitals' clinical systems outside the platform; the platform only asks
whether the data exists. ``LocalRecordsStore`` stands in for them: one file per
organisation listing the patient ids it holds, looked up through the same keyed hash
the platform uses, so the question carries only a pseudonym.
"""

from pathlib import Path
from typing import Protocol

from processors.errors import RecordsUnavailable
from schemas import pseudonymise

DEMO_PATIENTS: dict[str, tuple[str, ...]] = {
    "ES-SERMAS": ("ES-1000001",),
    "SE-KI": ("SE-2000002",),
}


class RecordsSystem(Protocol):
    def holds_records(self, org_id: str, patient_pseudonym: str) -> bool: ...


class LocalRecordsStore:
    def __init__(self, directory: Path, key: bytes) -> None:
        self._directory = directory
        self._key = key
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def holds_records(self, org_id: str, patient_pseudonym: str) -> bool:
        try:
            return patient_pseudonym in self._pseudonyms(org_id)
        except OSError as error:
            raise RecordsUnavailable(f"records of {org_id} cannot be read") from error

    def add_patient(self, org_id: str, patient_id: str) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        with self._file(org_id).open("a") as handle:
            handle.write(patient_id + "\n")

    def seed_demo_patients(self) -> None:
        for org_id, patients in DEMO_PATIENTS.items():
            if not self._file(org_id).exists():
                for patient_id in patients:
                    self.add_patient(org_id, patient_id)

    def _file(self, org_id: str) -> Path:
        return self._directory / f"{org_id}.txt"

    def _pseudonyms(self, org_id: str) -> frozenset[str]:
        path = self._file(org_id)
        if not path.exists():
            return frozenset()
        modified = path.stat().st_mtime
        cached = self._cache.get(org_id)
        if cached is None or cached[0] != modified:
            ids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
            cached = (modified, frozenset(pseudonymise(self._key, org_id, i) for i in ids))
            self._cache[org_id] = cached
        return cached[1]


class InMemoryRecords:
    """A fake for pure tests."""

    def __init__(self, holdings: dict[str, set[str]]) -> None:
        self._holdings = holdings

    def holds_records(self, org_id: str, patient_pseudonym: str) -> bool:
        return patient_pseudonym in self._holdings.get(org_id, set())
