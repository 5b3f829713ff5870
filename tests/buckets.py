"""A bucket on the local file system, for the delivery ledger's tests.

`FolderBucket` is a Prefect storage block that keeps objects in a local folder and answers as
prefect-gcp's GcsBucket does (google-api-core's NotFound for a missing object, whole objects written
at once), and can be told to answer the next reads with a 503, as a bucket does when it is briefly
unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.api_core.exceptions import NotFound, ServiceUnavailable
from prefect.filesystems import WritableFileSystem
from pydantic import Field


class FolderBucket(WritableFileSystem):
    """Objects in `folder`; `failing_reads` reads answer 503 before the bucket answers again."""

    _block_type_name = "Folder bucket (tests)"

    folder: str
    failing_reads: int = Field(default=0)
    reads: list[str] = Field(default_factory=list)

    def _object(self, path: str) -> Path:
        return Path(self.folder) / path

    def read_path(self, path: str, **_: Any) -> bytes:
        self.reads.append(path)
        if self.failing_reads > 0:
            self.failing_reads -= 1
            raise ServiceUnavailable(f"GET gs://bucket/{path}: 503 Service Unavailable")
        try:
            return self._object(path).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"GET gs://bucket/{path}: No such object") from None

    def write_path(self, path: str, content: bytes, **_: Any) -> str:
        target = self._object(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.upload")
        staged.write_bytes(content)
        staged.replace(target)  # an object appears whole, as in GCS
        return path
