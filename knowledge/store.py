"""Editor operations on the knowledge-base folder: add a file, save one record, remove a record, and the
history of every record (see, compare, restore earlier versions).

Files are only ever replaced atomically (knowledge/files.py: write a temporary file, then rename),
so an interrupted edit never leaves a half-written file behind; every change is
recorded as a new version (knowledge/history.py), so no edit loses what it replaced.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import time
from pathlib import Path

from knowledge.files import TEMP_FILES, atomic_write, fsync_dir
from knowledge.history import KnowledgeHistory, Version
from knowledge.loaders import RECORD_ADAPTER, UNSTRUCTURED, LoadResult, load_file, load_knowledge_base
from knowledge.life_events import unknown_steps
from knowledge.models import FAQ, LifeEvent, Policy, ServiceGuide
from knowledge.writer import renderings

_FOLDERS = {"guide": "guides", "policy": "policies", "faq": "faqs", "event": "events"}
_STALE_TEMP_S = 600   # a temporary file this old belongs to a writer that was killed


class KnowledgeBaseStore:
    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ValueError(f"知识库目录不存在：{root}")
        self.root = root
        self.history = KnowledgeHistory(root)
        self._sweep_stale_temp_files()

    def add(self, file: Path, author: str = "") -> list[str]:
        """Copy a valid file into the right folder; refuses files with errors or ids already in use."""
        if not file.is_file():
            raise ValueError(f"文件不存在：{file}")
        result = load_file(file)
        if result.errors:
            raise ValueError("；".join(str(e) for e in result.errors))
        if not result.records:
            raise ValueError(f"{file} 中没有记录")
        current = load_knowledge_base(self.root).records
        existing = {r.id: r.source for r in current}
        guides = {r.id: r for r in [*current, *result.records] if isinstance(r, ServiceGuide)}
        broken = [f"{r.id}：{where}：{message}" for r in result.records if isinstance(r, LifeEvent)
                  for where, message in unknown_steps(r, guides)]
        if broken:
            raise ValueError("；".join(broken))
        clashes = [f"{r.id}（已在 {existing[r.id]}）" for r in result.records if r.id in existing]
        if clashes:
            raise ValueError("id 已存在：" + "，".join(clashes))
        target = self.root / _FOLDERS[result.records[0].kind] / file.name
        if target.exists():
            raise ValueError(f"目标文件已存在：{target}")
        self._replace(target, file.read_bytes(), author, "add", {r.id for r in result.records})
        return [r.id for r in result.records]

    def save(self, record: ServiceGuide | Policy | FAQ | LifeEvent, author: str = "", action: str = "edit") -> Path:
        """Write a new or edited record into its file (a new guide or policy gets `<id>.md`; a new FAQ joins
        the table of its guide's other FAQs). Refuses, touching nothing, unless the file would read back
        with this record as given and every other record of the file unchanged."""
        records = load_knowledge_base(self.root).records
        old = next((r for r in records if r.id == record.id), None)
        if old is not None and old.kind != record.kind:
            raise ValueError(f"{record.id} 已是另一类记录，不能改变类型")
        path = Path(old.source) if old else self._new_path(record, records)
        existing = path.read_bytes() if path.exists() else None
        before = load_file(path) if existing else None
        keep = {r.id: r.content_hash for r in (before.records if before else []) if r.id != record.id}
        for data in renderings(path, record, existing):
            if _reads_back(path, data, record, keep, len(before.errors) if before else 0):
                self._replace(path, data, author, action, {record.id})
                return path
        raise ValueError(f"{path.name} 无法按原格式保存这条记录，文件未改动")

    def _new_path(self, record: ServiceGuide | Policy | FAQ | LifeEvent, records: list) -> Path:
        if isinstance(record, FAQ):
            tables = [Path(r.source) for r in records if isinstance(r, FAQ) and r.related_guide
                      and r.related_guide == record.related_guide and r.source.endswith(".csv")]
            return tables[0] if tables else self.root / _FOLDERS["faq"] / "added.csv"
        path = self.root / _FOLDERS[record.kind] / f"{record.id}.md"
        if path.exists():
            raise ValueError(f"目标文件已存在：{path}")
        return path

    def remove(self, record_id: str, author: str = "") -> Path:
        """Delete a one-record file, or rewrite a multi-record file without that record."""
        records = [r for r in load_knowledge_base(self.root).records if r.id == record_id]
        if not records:
            raise KeyError(f"没有 id 为 {record_id} 的记录")
        path = Path(records[0].source)
        siblings = [r for r in load_file(path).records if r.id != record_id]
        self._replace(path, _without(path, record_id) if siblings else None, author, "remove", {record_id})
        return path

    # ---- history ------------------------------------------------------------------
    def get(self, record_id: str) -> ServiceGuide | Policy | FAQ | None:
        """The record as its file holds it now, or None."""
        return next((r for r in load_knowledge_base(self.root).records if r.id == record_id), None)

    def versions(self, record_id: str) -> list[Version]:
        """Every saved state of the record, oldest first; the last one is what the file holds now."""
        return self.history.versions(record_id)

    def diff(self, record_id: str, version: int) -> str:
        return self.history.diff(record_id, version)

    def restore(self, record_id: str, version: int, author: str = "") -> Path:
        """Make the record what it was in `version` (written in its file's own format), as a new version;
        the versions in between stay, so a restore can itself be undone."""
        old = self.history.get(record_id, version)
        current = self.get(record_id)
        if old.removed:
            if current is None:
                raise ValueError(f"{record_id} 现在已不在知识库中")
            return self.remove(record_id, author)
        path = self.root / old.path
        if path.suffix.lower() in UNSTRUCTURED:       # a .txt/.docx/.pdf policy: its file as it was
            if current is not None and Path(current.source).resolve() != path.resolve():
                raise ValueError(f"{record_id} 现在位于 {current.source}，请先处理该文件")
            self._replace(path, self.history.file_content(record_id, version), author, "restore", {record_id})
            return path
        return self.save(RECORD_ADAPTER.validate_python({**old.fields, "类型": old.kind}), author, "restore")

    def _replace(self, path: Path, data: bytes | None, author: str, action: str, subject: set[str]) -> None:
        """Write (or, with None, delete) a knowledge-base file and record a version of each record it changes
        (`subject`: the records the editor meant to change; the others of the file are only kept)."""
        with self.history.change() as change:     # also keeps another process's change out until this one is done
            current = path.read_bytes() if path.exists() else None
            before = {r.id: r for r in (load_file(path).records if current is not None else [])}
            after = {r.id: r for r in (_probe(path, data).records if data is not None else [])}
            for rid in sorted(before.keys() | after.keys()):
                old, new = before.get(rid), after.get(rid)
                if _hash(old) != _hash(new):
                    if old is not None:
                        change.ensure_current(old, path, current)      # what this change replaces is kept
                elif rid not in subject or change.latest_hash(rid) == _hash(new):
                    change.ensure_current(old, path, current, only_if_versioned=True)   # hand edits kept too
                    continue
                # otherwise the record is saved as it already is on disk but history lacks it: a crash came
                # between an earlier save's file and its version, so this save records it
                what = action if action == "restore" else "add" if old is None else "remove" if new is None else action
                change.add(rid, kind=(new or old).kind, path=path, author=author, action=what, record=new,
                           content=data)
            if data is None:
                path.unlink()
                fsync_dir(path.parent)
            else:
                atomic_write(path, data)

    def _sweep_stale_temp_files(self) -> None:
        """Temporary files of writers killed mid-save (the loader never reads them, but they are clutter)."""
        now = time.time()
        for tmp in self.root.rglob(TEMP_FILES):
            try:
                if now - tmp.stat().st_mtime > _STALE_TEMP_S:
                    tmp.unlink()
            except FileNotFoundError:
                pass


def _hash(record) -> str | None:
    return record.content_hash if record is not None else None


def _without(path: Path, record_id: str) -> bytes:
    """The contents of a multi-record file less one record, in the file's own format."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(r for r in rows if r.get("id") != record_id)
        return out.getvalue().encode("utf-8")
    if suffix == ".jsonl":
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if ln.strip() and json.loads(ln).get("id") != record_id]
        return ("\n".join(lines) + "\n").encode()
    if suffix == ".json":
        items = [x for x in json.loads(path.read_text(encoding="utf-8")) if x.get("id") != record_id]
        return json.dumps(items, ensure_ascii=False, indent=2).encode()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        sheet = book.worksheets[0]
        col = [c.value for c in sheet[1]].index("id") + 1
        for row in range(sheet.max_row, 1, -1):
            if str(sheet.cell(row, col).value) == record_id:
                sheet.delete_rows(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise ValueError(f"{path.name} 中有多条记录，不能单独删除其中一条")


def _probe(path: Path, data: bytes) -> LoadResult:
    """`data` loaded as the file at `path` would be (the folder name tells a record's kind)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / path.parent.name / path.name
        probe.parent.mkdir()
        probe.write_bytes(data)
        return load_file(probe)


def _reads_back(path: Path, data: bytes, record, keep: dict[str, str], errors_before: int) -> bool:
    """Load `data` as the file at `path` would be loaded: the record as given, the others as they were
    (rows that already had errors stay as they were too)."""
    result = _probe(path, data)
    hashes = {r.id: r.content_hash for r in result.records}
    return (len(result.errors) <= errors_before and hashes.pop(record.id, None) == record.content_hash
            and hashes == keep)
