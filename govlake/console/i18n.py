"""The console's words in English and Chinese (zh-CN), chosen from the browser's language unless
the user picked one (the `lang` cookie). Department and dataset names are shown as the registry
spells them, never translated."""
from __future__ import annotations

LANGS = ("zh-CN", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "govlake governance console", "zh-CN": "govlake 数据治理控制台"},
    "sign_in": {"en": "Sign in", "zh-CN": "登录"},
    "sign_out": {"en": "Sign out", "zh-CN": "退出"},
    "user": {"en": "User", "zh-CN": "用户"},
    "password": {"en": "Password", "zh-CN": "密码"},
    "bad_login": {"en": "Wrong user or password.", "zh-CN": "用户名或密码错误。"},
    "locked": {"en": "Too many failed sign-ins: try again later.", "zh-CN": "登录失败次数过多，请稍后再试。"},
    "inbox": {"en": "Inbox", "zh-CN": "待办"},
    "inbox_empty": {"en": "Nothing waits for your decision.", "zh-CN": "没有等待您审批的共享协议。"},
    "contracts": {"en": "Sharing contracts", "zh-CN": "共享协议"},
    "contract": {"en": "Contract", "zh-CN": "共享协议"},
    "provider": {"en": "Provider", "zh-CN": "提供方"},
    "consumer": {"en": "Consumer", "zh-CN": "使用方"},
    "status": {"en": "Status", "zh-CN": "状态"},
    "waiting": {"en": "Waiting since", "zh-CN": "等待自"},
    "as_capacity": {"en": "You decide as", "zh-CN": "您的审批身份"},
    "purpose": {"en": "Purpose", "zh-CN": "用途"},
    "legal_basis": {"en": "Legal basis", "zh-CN": "法律依据"},
    "validity": {"en": "Valid", "zh-CN": "有效期"},
    "spec_hash": {"en": "Specification hash", "zh-CN": "规格哈希"},
    "columns": {"en": "Granted columns", "zh-CN": "授权字段"},
    "column": {"en": "Column", "zh-CN": "字段"},
    "mask": {"en": "Mask", "zh-CN": "脱敏方式"},
    "row_filter": {"en": "Row filter", "zh-CN": "行过滤"},
    "problems": {"en": "Validation problems", "zh-CN": "校验问题"},
    "no_problems": {"en": "The specification passes every rule.", "zh-CN": "规格通过全部校验规则。"},
    "approvals": {"en": "Approvals", "zh-CN": "审批"},
    "needs_compliance": {"en": "Compliance co-approval required", "zh-CN": "需要合规会签"},
    "history": {"en": "History", "zh-CN": "历史"},
    "still_required": {"en": "Still required", "zh-CN": "尚需审批"},
    "diff": {"en": "Changes against the last approved version", "zh-CN": "与上次批准版本的差异"},
    "no_diff": {"en": "No approved version to compare with, or no change.", "zh-CN": "没有可比较的已批准版本，或没有变化。"},
    "approve": {"en": "Approve", "zh-CN": "批准"},
    "reject": {"en": "Reject", "zh-CN": "驳回"},
    "revoke": {"en": "Revoke", "zh-CN": "撤销"},
    "reason": {"en": "Reason", "zh-CN": "理由"},
    "refused": {"en": "Refused", "zh-CN": "已拒绝"},
    "done": {"en": "Done", "zh-CN": "已完成"},
    "query": {"en": "Query", "zh-CN": "查询"},
    "my_data": {"en": "My data", "zh-CN": "我的数据"},
    "my_data_none": {"en": "No contract shares data with your department now.", "zh-CN": "目前没有共享协议向您的部门提供数据。"},
    "table": {"en": "Table", "zh-CN": "数据表"},
    "why": {"en": "Why", "zh-CN": "依据"},
    "connect": {"en": "Connect any Trino client", "zh-CN": "使用任意 Trino 客户端连接"},
    "run": {"en": "Run", "zh-CN": "执行"},
    "rows_shown": {"en": "rows shown (limit {limit})", "zh-CN": "行（上限 {limit}）"},
    "query_refused": {"en": "Trino refused the query for you", "zh-CN": "Trino 拒绝了您的查询"},
    "audit": {"en": "Audit", "zh-CN": "审计"},
    "audit_intact": {"en": "Audit chain intact: {n} entries", "zh-CN": "审计链完整：{n} 条"},
    "audit_broken": {"en": "Audit chain TAMPERED at entry {seq}: {problem}", "zh-CN": "审计链在第 {seq} 条被篡改：{problem}"},
    "action_prefix": {"en": "Action starts with", "zh-CN": "操作前缀"},
    "actor": {"en": "Actor", "zh-CN": "操作人"},
    "search": {"en": "Search", "zh-CN": "搜索"},
    "forbidden": {"en": "This page is not for your role.", "zh-CN": "您的角色无权访问此页面。"},
    "not_found": {"en": "Not found.", "zh-CN": "未找到。"},
    "language": {"en": "中文", "zh-CN": "English"},
}


def pick(accept_language: str | None, cookie: str | None) -> str:
    """The user's choice if made, else the first of the browser's languages govlake speaks."""
    if cookie in LANGS:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "zh-CN"


def words(lang: str):
    def t(key: str, **values) -> str:
        text = TEXT[key].get(lang) or TEXT[key]["en"]
        return text.format(**values) if values else text
    return t
