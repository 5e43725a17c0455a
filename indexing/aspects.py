"""Which aspect of a service a question asks about (材料, 流程, 费用 …).

Shared by retrieval (a guide answers an aspect question better than a FAQ about
a special case) and by answer composition (which guide field to quote).
"""

from __future__ import annotations

import re

# aspect code → (label, pattern over the normalised question); order matters: first match wins
ASPECTS: dict[str, tuple[str, re.Pattern[str]]] = {
    "materials": ("申请材料", re.compile(r"材料|资料|带什么|带啥|带哪些|要带|准备什么|准备啥|准备哪些|需要什么证|哪些证件|什么证件|证明材料|提交什么|交什么材料")),
    "fees": ("收费标准", re.compile(r"(?<![领发补给拿])多少钱|收费|费用|要钱|花钱|收钱|免费|工本费|交钱|几块钱|价格|贵不贵")),
    # "能领多久", "最长能贷多久", "能呆几天" ask how long a benefit lasts, not how long the office takes
    "time_limit": ("办理时限", re.compile(r"(?<![领贷住呆待留受])(?:多久|多长时间|几天|多少天|几个月)|几个工作日|时限|什么时候能(拿|领|办好|下来)|要等|当场|当天")),
    "location": ("办理地点与时间", re.compile(r"在哪里|去哪里|到哪里|在哪儿|去哪儿|哪里|哪儿|在哪|去哪|到哪|地点|地址|窗口|几点|上班时间|办公时间|周末|星期六|周六|节假日")),
    # "咨询" alone is how citizens open any question ("我想咨询一下居住证怎么办"), not a request for the number
    "phone": ("咨询电话", re.compile(r"电话|热线|联系方式|怎么联系|联系谁|咨询(号码|方式|渠道)|[找问向]谁咨询|哪[里儿]?(能|可以)?咨询")),
    "online": ("网上办理", re.compile(r"网上|线上|app|小程序|网办|手机上|在线|不用跑|不出门|公众号")),
    "conditions": ("办理条件", re.compile(r"条件|资格|能不能|能否|可不可以|可以办吗|能办吗|符合|要求|谁可以|哪些人|什么人|什么情况下?(可以|能|才能)")),
    "process": ("办理流程", re.compile(r"流程|步骤|程序|怎么办|如何办|怎么申请|如何申请|咋办|怎么弄|怎么领|如何领|手续|怎样办|办理方式|[咋怎]么?补|如何补|[咋怎]么?换|如何换")),
    # 法律援助/法律咨询 are services, not a question about the legal basis
    "legal_basis": ("政策依据", re.compile(r"依据|法律(?!援助|服务|咨询|职业|顾问|工作者)|法规|根据什么|哪个文件|政策规定")),
}
# questions about a policy document itself: who issued it, its number, from when it applies
DOCUMENT_FACTS = re.compile(r"文号|发文|哪个部门发|哪几个部门|哪些部门发|(什么时候|哪天|何时|几号)(开始|起)?(施行|执行|实施|生效)|有效期|失效")
# the kind of figure a question asks for: "失业金能领多少" wants an amount, "能领多久" a length of time
QUANTITIES: dict[str, re.Pattern[str]] = {
    "amount": re.compile(r"多少(?!天|年|个?月|个?工作日|时间)|几[块元]|金额"),
    "duration": re.compile(r"多久|多长时间|期限|时限|多少(?:天|年|个?月|个?工作日)|几(?:天|年|个月|个工作日)"),
}
ASPECT_FIELDS = {
    "materials": "materials", "fees": "fees", "time_limit": "time_limit", "location": "location",
    "phone": "contact", "online": "contact", "conditions": "conditions", "process": "process",
    "legal_basis": "legal_basis",
}


def detect_aspect(normalized_question: str) -> str:
    """The first aspect whose wording appears, or "general"."""
    for code, (_, pattern) in ASPECTS.items():
        if pattern.search(normalized_question):
            return code
    return "general"


def quantities_asked(normalized_question: str) -> frozenset[str]:
    return frozenset(kind for kind, pattern in QUANTITIES.items() if pattern.search(normalized_question))


def without_aspect_wording(normalized_question: str) -> str:
    """The question with every aspect's wording blanked out, leaving what it is about."""
    for _, pattern in ASPECTS.values():
        normalized_question = pattern.sub(" ", normalized_question)
    return normalized_question


def aspect_label(code: str) -> str:
    return ASPECTS[code][0] if code in ASPECTS else "综合"
