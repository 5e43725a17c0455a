"""Language knowledge is data: word lists and patterns of Chinese words live in knowledge/lexicon/, where an
editor can change them, and no Python file outside the language package holds one. No model needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from language.aspects import aspects, detect_aspect
from language.data import LEXICON_DIR, LanguageData, language_data

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("assistant", "demand", "indexing", "knowledge", "ui")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _language_rules(tree: ast.AST) -> list[int]:
    """Lines holding a regex of Chinese words, a set of Chinese words, a split-up word list or a string of
    Chinese alternatives ("小区|花园|…")."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(getattr(func, "value", None), "id", "")
            literal = func.value if name == "split" and isinstance(getattr(func, "value", None), ast.Constant) else None
            read = node.args[:1] if owner == "re" else node.args if name in ("frozenset", "set") else [literal]
            if any(arg is not None and any(_CJK.search(s) for s in _strings(arg)) for arg in read):
                lines.append(node.lineno)
        elif isinstance(node, ast.Set) and sum(bool(_CJK.search(s)) for s in _strings(node)) >= 3:
            lines.append(node.lineno)  # a set of two column names is a schema, three words a word list
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _CJK.search(node.value) \
                and node.value.count("|") >= 2:
            lines.append(node.lineno)
    return lines


def test_no_python_file_outside_the_language_package_holds_chinese_word_lists_or_patterns():
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += [f"{path.relative_to(ROOT)}:{line}" for line in _language_rules(ast.parse(path.read_text()))]
    assert not found, "move these word lists or patterns to knowledge/lexicon/: " + ", ".join(found)


def test_the_detector_sees_the_shapes_it_looks_for():
    source = 'A = re.compile(r"多少钱|收费")\nB = frozenset("办 证".split())\nC = {"你好", "您好", "在吗"}\nD = "小区|花园|村"\n'
    assert len(set(_language_rules(ast.parse(source)))) == 4
    assert not _language_rules(ast.parse('MESSAGE = "请输入您要咨询的问题"\nLABELS = {"guide": "办事指南"}\n'))


def test_every_pattern_compiles_and_every_tag_used_in_code_has_words():
    data = language_data()

    def names(node: object, prefix: str = "") -> list[str]:
        if isinstance(node, dict):
            return [n for k, v in node.items() for n in names(v, f"{prefix}{k}.")]
        return [prefix[:-1]] if isinstance(node, str) else []

    tree = data.section("phrasing_checks")  # any group will do to reach the root
    assert tree
    for name in names({k: data.section(k) for k in ("document_facts", "quantities", "district",
                                                     "jurisdiction", "courtesy", "follow_up", "figures", "yes_or_no",
                                                     "per_period", "phrasing_checks", "place_names", "message_time",
                                                     "documents")}):
        if not name.endswith("own_field"):
            data.pattern(name)
    used = set()
    for path in [*ROOT.glob("*/*.py")]:
        used |= set(re.findall(r'words\("([a-z_]+)"\)', path.read_text()))
    assert used and all(data.words(tag) for tag in used), used


def test_an_editor_adds_a_phrasing_in_the_data_not_the_code(tmp_path):
    """A new wording in patterns.yml is read as that aspect: the file is the only place to change."""
    import shutil

    shutil.copytree(LEXICON_DIR, tmp_path / "lexicon")
    path = tmp_path / "lexicon" / "patterns.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("pattern: '材料|", "pattern: '要弄些啥|材料|", 1),
                    encoding="utf-8")
    edited = LanguageData(tmp_path / "lexicon")
    materials = next(a for a in edited.section("aspects") if a["code"] == "materials")
    assert re.search(materials["pattern"], "办护照要弄些啥")
    assert detect_aspect("办护照要弄些啥") != "materials"  # the shipped data does not know it
    assert [a.code for a in aspects()][0] == "materials"


@pytest.mark.parametrize("question, tag, word", [("代办", "generic", "代办"), ("的", "stop", "的")])
def test_tagged_words(question, tag, word):
    assert word in language_data().words(tag)


def test_a_common_short_name_is_cut_whole_and_hearsay_names_nothing():
    """"办慢病" (an alias of 门诊慢特病) once cut as 办慢 + 病, so the citizens' 慢病 was a word the knowledge base lacked;
    "听说" only says where the news came from."""
    from language.lexicon import Lexicon
    assert "慢病" in Lexicon().words("办慢病")
    assert "听说" in language_data().words("generic")


@pytest.mark.parametrize("text, dying", [("我爸上个月走了", True), ("我公公是退休工人 上个月走了", True),
                                         ("我爸刚走 后面的事该怎么办", True), ("屋头老汉走了", True), ("我妈刚走开", False),
                                         ("户口迁走了", False), ("我妈能走了吗", False), ("我妈的身份证没了", False)])
def test_a_relative_who_has_gone_says_deceased_and_moving_away_does_not(text, dying):
    assert bool(language_data().pattern("said_as.去世").search(text)) is dying


@pytest.mark.parametrize("text, account", [("钱打到哪个卡上", True), ("失业金发到哪张卡", True), ("补贴会转到什么账户", True),
                                           ("社保卡丢了 补哪张卡", False), ("钱打到哪里", False)])
def test_money_paid_to_which_card_asks_for_the_account(text, account):
    """"哪张卡" after money is paid (打到, 发到) asks for the account the guides name (社会保障卡金融账户); which card
    to replace, or where money goes in general ("打到哪里"), does not."""
    assert bool(language_data().pattern("said_as.账户").search(text)) is account


@pytest.mark.parametrize("text, plainly", [("买了套新房 公积金怎么提出来", "买了套新房 公积金怎么提取"),
                                           ("公积金里的钱能取出来付首付吗", "公积金里的钱能提取付首付吗"),
                                           ("公积金贷款要先提出申请吗", "公积金贷款要先提出申请吗"),
                                           ("养老保险的钱能取出来吗", "养老保险的钱能取出来吗")])
def test_taking_the_housing_fund_out_says_withdrawal_and_keeps_what_it_is_said_of(text, plainly):
    """Only the wording in the pattern's `said` group is replaced: 公积金, the context it must be said of, stays
    (replacing the whole match lost the service's name). An account's money taken out is 提取 only for 公积金: the
    sample KB calls a pension account's 继承, and 提取 sent "养老保险里的钱能取出来吗" to another service."""
    from language.understanding import said_plainly
    assert said_plainly(text) == plainly


def test_a_word_given_frequency_zero_is_no_word_and_public_schools_are_said_two_ways():
    from language.lexicon import Lexicon
    lexicon = Lexicon()
    assert "没落" not in lexicon.words("宝宝户口还没落")
    assert lexicon.synonym_groups("公立") == lexicon.synonym_groups("公办") != []


def test_an_age_in_years_is_no_length_of_time():
    """"16周岁" once matched the length-of-time figure (16周), so "签注一次能待多久" was answered with who must
    come with a guardian."""
    duration = language_data().pattern("figures.duration.number")
    assert not duration.search("未满16周岁的由监护人陪同")
    assert duration.search("有效期6个月") and duration.search("每2周复查")
