"""Typed records of the knowledge base.

Editors write Chinese keys (事项名称, 申请材料 …); the code uses English attribute
names. Each model maps one to the other with pydantic aliases, so a file's
structure survives unchanged from the file to the answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,127}$")
MATERIAL_FORMS = ("原件", "复印件", "原件和复印件", "电子件")


def _text_list(value: object) -> object:
    """Accept a single string where a list of strings is expected (editors often write one item)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if value is None:
        return []
    return value


def _plain_text(value: object) -> object:
    """Numbers and dates typed in YAML or Excel cells are still text to us."""
    if isinstance(value, (int, float, dt.date)):
        return str(value)
    return value


def _date(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip().replace("/", "-"))
    return value


TextList = Annotated[list[str], BeforeValidator(_text_list)]
Text = Annotated[str, BeforeValidator(_plain_text)]
Date = Annotated[dt.date, BeforeValidator(_date)]
OptionalDate = Annotated[dt.date | None, BeforeValidator(lambda v: None if v in (None, "") else _date(v))]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)


class Material(_Model):
    """One item of 申请材料: what to bring, in which form, how many copies."""

    name: str = Field(alias="名称", min_length=1)
    form: Literal["原件", "复印件", "原件和复印件", "电子件"] = Field(alias="形式")
    copies: int = Field(alias="份数", ge=0)
    notes: Text = Field(default="", alias="备注")

    def describe(self) -> str:
        text = f"{self.name}（{self.form}{self.copies}份）"
        return f"{text}：{self.notes}" if self.notes else text


class TimeLimit(_Model):
    statutory: Text = Field(default="无", alias="法定")
    promised: Text = Field(default="无", alias="承诺")

    def describe(self) -> str:
        return f"法定时限{self.statutory}，承诺时限{self.promised}"


class _Record(_Model):
    id: str
    source: str = Field(default="", description="path of the file the record came from")

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not RECORD_ID.match(value):
            raise ValueError("只能包含小写字母、数字和“-”，长度2-128")
        return value

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def content_hash(self) -> str:
        """Hash of everything an editor wrote, so re-indexing skips unchanged records."""
        payload = self.model_dump(mode="json", exclude={"source"})
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class ServiceGuide(_Record):
    """办事指南: one public service, with the fixed fields citizens ask about."""

    kind: Literal["guide"] = Field(default="guide", alias="类型")
    name: str = Field(alias="事项名称", min_length=1)
    aliases: TextList = Field(default_factory=list, alias="别名")
    department: Text = Field(default="", alias="实施部门")
    region: Text = Field(default="", alias="适用地区")
    audience: Text = Field(default="", alias="办理对象")
    conditions: TextList = Field(default_factory=list, alias="办理条件")
    materials: list[Material] = Field(default_factory=list, alias="申请材料")
    process: TextList = Field(default_factory=list, alias="办理流程")
    time_limit: TimeLimit = Field(default_factory=TimeLimit, alias="办理时限")
    fees: Text = Field(default="", alias="收费标准")
    location: Text = Field(default="", alias="办理地点与时间")
    phone: Text = Field(default="", alias="咨询电话")
    online: Text = Field(default="", alias="网上办理入口")
    legal_basis: TextList = Field(default_factory=list, alias="设定依据")
    updated: Date = Field(alias="更新日期")
    notes: Text = Field(default="", alias="说明")

    @property
    def title(self) -> str:
        return self.name


class PolicySection(_Model):
    """A 章/节/条 of a policy, or a paragraph where the text has no such structure."""

    heading: str = ""
    text: str


class Policy(_Record):
    """政策文件: a normative document, its body split into sections."""

    kind: Literal["policy"] = Field(default="policy", alias="类型")
    name: str = Field(alias="标题", min_length=1)
    issuer: Text = Field(default="", alias="发文机关")
    doc_number: Text = Field(default="", alias="文号")
    published: OptionalDate = Field(default=None, alias="发布日期")
    effective: OptionalDate = Field(default=None, alias="生效日期")
    expires: OptionalDate = Field(default=None, alias="失效日期")
    region: Text = Field(default="", alias="适用地区")
    sections: list[PolicySection] = Field(default_factory=list, alias="正文")

    @property
    def title(self) -> str:
        return self.name

    @property
    def department(self) -> str:
        return self.issuer

    @property
    def updated(self) -> dt.date | None:
        return self.published


class FAQ(_Record):
    """常见问题: a question, the ways citizens phrase it, and the approved answer."""

    kind: Literal["faq"] = Field(default="faq", alias="类型")
    question: str = Field(alias="问题", min_length=1)
    similar: TextList = Field(default_factory=list, alias="相似问法")
    answer: str = Field(alias="答案", min_length=1)
    related_guide: Text = Field(default="", alias="关联事项")
    updated: OptionalDate = Field(default=None, alias="更新日期")
    department: Text = Field(default="", alias="实施部门")
    region: Text = Field(default="", alias="适用地区")

    @property
    def title(self) -> str:
        return self.question


class EventStep(_Model):
    """One service of a life event: the guide that describes it, and when it applies (empty: always)."""

    guide: str = Field(alias="事项", min_length=1)
    name: Text = Field(default="", alias="名称", description="shown in place of the guide's title, or when it is missing")
    condition: Text = Field(default="", alias="适用条件")
    materials: TextList = Field(default_factory=list, alias="所需材料",
                                description="names of the guide's materials this event needs; empty: all of them")

    @field_validator("guide")
    @classmethod
    def _check_guide(cls, value: str) -> str:
        if not RECORD_ID.match(value):
            raise ValueError("应为一项办事指南的 id（小写字母、数字和“-”），如 g-birth-registration")
        return value


class LifeEvent(_Record):
    """一件事: the services of one life situation (a birth, a new shop, a death) in the order they are done,
    so that one question gets the whole chain, one checklist and one route."""

    kind: Literal["event"] = Field(default="event", alias="类型")
    name: str = Field(alias="标题", min_length=1)
    aliases: TextList = Field(default_factory=list, alias="别名")
    situations: TextList = Field(default_factory=list, alias="适用情形")
    steps: list[EventStep] = Field(alias="步骤", min_length=1)
    joint_window: Text = Field(default="", alias="联办窗口")
    online: Text = Field(default="", alias="网上入口")
    department: Text = Field(default="", alias="牵头部门")
    region: Text = Field(default="", alias="适用地区")
    updated: Date = Field(alias="更新日期")
    notes: Text = Field(default="", alias="说明")

    @property
    def title(self) -> str:
        return self.name


Record = Annotated[Union[ServiceGuide, Policy, FAQ, LifeEvent], Field(discriminator="kind")]
KIND_NAMES = {"guide": "办事指南", "policy": "政策文件", "faq": "常见问题", "event": "一件事"}
KIND_ALIASES = {**{name: kind for kind, name in KIND_NAMES.items()}, **{k: k for k in KIND_NAMES}}
