"""The transfer directory of a hotline: which department takes which calls, and the number to put a caller
through to. It lives in the knowledge base (`directory.yml`), so editors keep it beside the guides whose
实施部门 it serves; see FORMAT.md.

A 12345 agent cannot answer everything: when the knowledge base has no answer, the console names
the department responsible and its transfer number instead of telling the caller to "call 12345".
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.models import TextList

DIRECTORY_FILE = "directory.yml"


class Department(BaseModel):
    """One entry: the department, other names it goes by, its transfer number and what it handles."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(alias="部门", min_length=1)
    aliases: TextList = Field(default_factory=list, alias="别名")
    phone: str = Field(alias="转接电话", min_length=1)
    duties: TextList = Field(default_factory=list, alias="职责")
    hours: str = Field(default="", alias="接听时间")

    def as_json(self) -> dict:
        return {"name": self.name, "phone": self.phone, "duties": self.duties, "hours": self.hours}


class Directory:
    """The departments of `directory.yml`, found by a guide's 实施部门 or by the words of a question."""

    def __init__(self, departments: list[Department], problems: list[str] | None = None) -> None:
        self.departments = departments
        self.problems = problems or []

    @classmethod
    def load(cls, kb_dir: Path) -> "Directory":
        """The directory of a knowledge-base folder; empty when it has none. A bad entry is reported, not fatal."""
        path = kb_dir / DIRECTORY_FILE
        if not path.is_file():
            return cls([])
        try:
            items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            return cls([], [f"{DIRECTORY_FILE}：无法读取（{exc}）"])
        departments, problems = [], []
        for n, item in enumerate(items if isinstance(items, list) else [], start=1):
            try:
                departments.append(Department.model_validate(item))
            except ValidationError as exc:
                fields = "、".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
                problems.append(f"{DIRECTORY_FILE} 第 {n} 项：{fields or '格式'}有误")
        return cls(departments, problems)

    def for_department(self, department: str) -> Department | None:
        """The entry whose name or alias a guide's 实施部门 holds (the longest such name wins), else the first
        whose name holds it: "示例市公安局出入境管理支队" is the 出入境 entry, not the 公安局's."""
        if not department:
            return None
        best, length = None, 0
        for entry in self.departments:
            for name in (entry.name, *entry.aliases):
                if name and name in department and len(name) > length:
                    best, length = entry, len(name)
        return best or next((e for e in self.departments if department in e.name), None)

    def for_question(self, text: str) -> Department | None:
        """The entry one of whose duties the question names (the longest duty named wins)."""
        best, length = None, 0
        for entry in self.departments:
            for duty in entry.duties:
                if duty and duty in text and len(duty) > length:
                    best, length = entry, len(duty)
        return best
