"""Files the way Slack's external upload takes them: ``files.getUploadURLExternal`` hands out
an upload URL (served by the stand-in), the bytes are POSTed there, and
``files.completeUploadExternal`` shares the files into a conversation as one message with a
``files`` entry. The stand-in serves each file back at its ``url_private``."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.standin.limits import ApiError, json_param
from bot.sandbox.standin.model import JsonDict
from bot.sandbox.standin.state import Workspace

MAX_FILE_BYTES = 1_000_000_000  # Slack's limit is 1 GB


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    user: str
    created: float
    title: str = ""
    alt_txt: str = ""
    content: bytes | None = None  # None until uploaded
    shared_in: str | None = None  # the conversation it was shared into

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def as_slack(self, base_url: str) -> JsonDict:
        url = f"{base_url}files/{self.id}/{self.name}"
        out: JsonDict = {
            "id": self.id,
            "created": int(self.created),
            "timestamp": int(self.created),
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary",
            "user": self.user,
            "size": self.length,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "channels": [self.shared_in] if self.shared_in else [],
        }
        if self.alt_txt:
            out["alt_txt"] = self.alt_txt
        return out


class FileStore:
    def __init__(self, ws: Workspace, base_url: Callable[[], str]) -> None:
        self._ws = ws
        self._base_url = base_url
        self.files: dict[str, StoredFile] = {}

    def get_upload_url(self, p: JsonDict) -> JsonDict:
        name = str(p.get("filename") or "").strip()
        if not name:
            raise ApiError("invalid_arguments", "[ERROR] missing required field: filename")
        try:
            length = int(str(p.get("length")))
        except ValueError:
            raise ApiError("invalid_arguments", "[ERROR] missing required field: length") from None
        if not 0 < length <= MAX_FILE_BYTES:
            raise ApiError("invalid_arguments", "[ERROR] length must be 1 byte to 1 GB")
        file_id = self._ws.next_id("F")
        self.files[file_id] = StoredFile(
            id=file_id,
            name=name,
            length=length,
            user=self._ws.bot_user_id,
            created=self._ws.now(),
            alt_txt=str(p.get("alt_txt") or ""),
        )
        return {"ok": True, "upload_url": f"{self._base_url()}upload/{file_id}", "file_id": file_id}

    def upload(self, file_id: str, content: bytes) -> tuple[int, str]:
        """The POST to an upload URL: (HTTP status, body) as Slack's upload host answers."""
        stored = self.files.get(file_id)
        if stored is None or stored.content is not None:
            return 404, "Not Found"
        if len(content) != stored.length:
            return 400, f"length mismatch: announced {stored.length}, got {len(content)}"
        stored.content = content
        return 200, f"OK - {len(content)}"

    def complete(self, p: JsonDict) -> JsonDict:
        items = json_param(p.get("files"), error="invalid_arguments")
        if not isinstance(items, list) or not items:
            raise ApiError("invalid_arguments", "[ERROR] missing required field: files")
        found: list[StoredFile] = []
        for item in items:
            file_id = str(item.get("id") or "") if isinstance(item, dict) else ""
            stored = self.files.get(file_id)
            if stored is None or stored.shared_in is not None:
                raise ApiError("file_not_found")
            if stored.content is None:
                raise ApiError("file_upload_not_complete")  # the bytes never arrived
            stored.title = str(item.get("title") or stored.name)
            found.append(stored)
        channel_ref = p.get("channel_id") or p.get("channels")
        base = self._base_url()
        if channel_ref:
            ws = self._ws
            channel = ws.resolve_channel(str(channel_ref).split(",")[0])
            for stored in found:
                stored.shared_in = channel
            thread = p.get("thread_ts")
            ws.post_message(
                channel,
                user=ws.bot_user_id,
                text=str(p.get("initial_comment") or ""),
                thread_ts=str(thread) if thread else None,
                files=[f.as_slack(base) for f in found],
            )
        return {"ok": True, "files": [{"id": f.id, "title": f.title} for f in found]}
