"""Chinese display names shared by the report pages, the exports and the workbench."""

from __future__ import annotations

from qc.report.queue import COMPLAINT_TYPE_NAMES, RISK_NAMES

__all__ = ["SEVERITY_NAMES", "STATUS_NAMES", "ROLE_NAMES", "TRAJECTORY_NAMES", "VERDICT_NAMES", "COMPLAINT_TYPE_NAMES", "RISK_NAMES"]

SEVERITY_NAMES = {"info": "提示", "minor": "轻微", "major": "严重", "critical": "致命"}
STATUS_NAMES = {"deducted": "扣分", "capped": "已达上限", "pending_review": "待复核", "rejected": "误报不扣", "fatal": "一票否决"}
ROLE_NAMES = {"agent": "坐席", "customer": "客户", "unknown": "未知"}
TRAJECTORY_NAMES = {"worsened": "恶化", "recovered": "好转", "stable": "平稳"}
VERDICT_NAMES = {"confirmed": "确认", "false_positive": "误报"}
