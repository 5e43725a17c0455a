"""Editor operations on the knowledge-base folder: add a file, remove a record.

Files are only ever replaced atomically (write a temporary file, then rename),
so an interrupted edit never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from knowledge.loaders import load_file, load_knowledge_base

_FOLDERS = {"guide": "guides", "policy": "policies", "faq": "faqs"}


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KnowledgeBaseStore:
    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ValueError(f"知识库目录不存在：{root}")
        self.root = root

    def add(self, file: Path) -> list[str]:
        """Copy a valid file into the right folder; refuses files with errors or ids already in use."""
        if not file.is_file():
            raise ValueError(f"文件不存在：{file}")
        result = load_file(file)
        if result.errors:
            raise ValueError("；".join(str(e) for e in result.errors))
        if not result.records:
            raise ValueError(f"{file} 中没有记录")
        existing = {r.id: r.source for r in load_knowledge_base(self.root).records}
        clashes = [f"{r.id}（已在 {existing[r.id]}）" for r in result.records if r.id in existing]
        if clashes:
            raise ValueError("id 已存在：" + "，".join(clashes))
        target = self.root / _FOLDERS[result.records[0].kind] / file.name
        if target.exists():
            raise ValueError(f"目标文件已存在：{target}")
        atomic_write(target, file.read_bytes())
        return [r.id for r in result.records]

    def remove(self, record_id: str) -> Path:
        """Delete a one-record file, or rewrite a multi-record file without that record."""
        records = [r for r in load_knowledge_base(self.root).records if r.id == record_id]
        if not records:
            raise KeyError(f"没有 id 为 {record_id} 的记录")
        path = Path(records[0].source)
        siblings = [r for r in load_file(path).records if r.id != record_id]
        if not siblings:
            path.unlink()
            return path
        suffix = path.suffix.lower()
        if suffix == ".csv":
            self._rewrite_csv(path, record_id)
        elif suffix == ".jsonl":
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                     if ln.strip() and json.loads(ln).get("id") != record_id]
            atomic_write(path, ("\n".join(lines) + "\n").encode())
        elif suffix == ".json":
            items = [x for x in json.loads(path.read_text(encoding="utf-8")) if x.get("id") != record_id]
            atomic_write(path, json.dumps(items, ensure_ascii=False, indent=2).encode())
        elif suffix == ".xlsx":
            self._rewrite_xlsx(path, record_id)
        return path

    @staticmethod
    def _rewrite_csv(path: Path, record_id: str) -> None:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(r for r in rows if r.get("id") != record_id)
        atomic_write(path, out.getvalue().encode("utf-8"))

    @staticmethod
    def _rewrite_xlsx(path: Path, record_id: str) -> None:
        from openpyxl import load_workbook

        book = load_workbook(path)
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        col = header.index("id") + 1
        for row in range(sheet.max_row, 1, -1):
            if str(sheet.cell(row, col).value) == record_id:
                sheet.delete_rows(row)
        tmp = path.with_suffix(".tmp.xlsx")
        book.save(tmp)
        os.replace(tmp, path)
