"""The audit trail's words: every action code, object type and payload field in Chinese.

One registry, pure (no database): `ACTIONS` gives each action code the group it is filtered by
and a Chinese sentence template over its payload fields; `OBJECTS` gives each object type its
Chinese noun and the front-end screen that shows it; `FIELDS` gives each payload field a label
and how its value is written. `tests/audit/test_vocabulary.py` finds every action code the app
can write (by reading the code) and fails when one is missing here: a domain that writes a new
action adds one line to `ACTIONS` (and its new payload fields to `FIELDS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.timefmt import format_date, format_moment

# --- groups (the "kind" filter) -------------------------------------------------------------------

GROUPS: dict[str, str] = {
    "roster": "小区与名册",
    "role": "角色授权",
    "ballot": "表决",
    "vote": "投票与计票",
    "notice": "公告",
    "procedure": "议事程序",
    "ledger": "公共收益",
    "file": "文件",
    "audit": "审计签名",
    "survey": "问卷调查",
    "work_order": "三单一访工单",
    "appraisal": "季度报告与述职评议",
    "credit": "信用评价与红黑榜",
}


@dataclass(frozen=True)
class Action:
    group: str
    template: str  # Chinese sentence; {field} is the payload field as written by FIELDS
    # Other sentences for some payload values: {field: {value: template}}.
    variants: Mapping[str, Mapping[str, str]] | None = None


ACTIONS: dict[str, Action] = {
    # roster and compound
    "compound.created": Action("roster", "创建小区“{name}”"),
    "roster.imported": Action("roster", "导入业主名册：房屋{unit_count}套，表决主体{subject_count}个"),
    "subject.representative_set": Action("roster", "指定共有人的投票代表人"),
    "roster.parking_setting_changed": Action(
        "roster", "修改车位、车库是否计入表决面积", variants={"parking_counts_as_area": {
            "True": "设置车位、车库计入表决面积并参与表决", "False": "设置车位、车库不计入表决面积"}}),
    "roster.exported": Action("roster", "导出业主名册（房屋{unit_count}套）"),
    "roster.removed": Action(
        "roster", "移除名册文件中没有的房屋{units_removed}套、业主{owners_removed}人（理由：{reason}）"),
    "unit.edited": Action("roster", "修改房屋{unit}的{changed}（理由：{reason}）"),
    "owner.edited": Action("roster", "修改业主{owner}的{changed}（理由：{reason}）"),
    # roles
    "role.granted": Action("role", "授予{user_id}“{role}”角色"),
    "role.revoked": Action("role", "撤销{user_id}的“{role}”角色"),
    "account.disabled": Action("role", "停用工作人员账号{user_id}"),
    "account.enabled": Action("role", "重新启用工作人员账号{user_id}"),
    "account.password_reset": Action("role", "重置工作人员账号{user_id}的密码（临时密码须首次登录时修改）"),
    "account.password_changed": Action("role", "工作人员账号{user_id}修改了自己的密码"),
    # audit
    "audit.checkpoint_signed": Action("audit", "为记录链签署检查点（第{seq}条）"),
    # files
    "file.stored": Action("file", "存档文件“{file_name}”"),
    # ballots
    "voting.settings_changed": Action("ballot", "修改本小区表决规则"),
    "ballot.drafted": Action("ballot", "起草表决“{title}”"),
    "ballot.draft_updated": Action("ballot", "修改表决草稿“{title}”"),
    "ballot.noticed": Action("ballot", "发布表决会议公告，投票时间{starts_at}至{ends_at}"),
    "ballot.opened": Action("ballot", "开始表决，冻结表决名册（{total_headcount}个表决主体）", variants={
        "trigger": {"schedule": "到达投票开始时间，由系统定时任务自动开始表决，冻结表决名册（{total_headcount}个表决主体）"}}),
    "ballot.closed": Action("ballot", "结束表决", variants={
        "trigger": {"schedule": "到达投票结束时间，由系统定时任务自动结束表决"}}),
    "ballot.draft_deleted": Action("ballot", "删除未公告的表决草稿“{title}”"),
    "ballot.cancelled": Action("ballot", "取消表决并发布取消公告，理由：{reason}；已投的票保留，不计票（{votes_kept}户）"),
    "ballot.postponed": Action("ballot", "推迟表决并发布推迟公告，投票时间改为{starts_at}至{ends_at}，理由：{reason}"),
    "ballot.schedule_refused": Action("ballot", "系统定时任务未能按时{step}表决：{message}"),
    "ballot.tallied": Action("ballot", "完成计票，公示初步结果，异议期至{objection_ends_at}"),
    "ballot.published": Action("ballot", "公布表决结果（决议公告）"),
    "ballot.reminder_sent": Action("ballot", "提醒尚未投票的业主（短信{queued}条）"),
    "objection.raised": Action("ballot", "业主对计票结果提出异议"),
    "objection.answered": Action("ballot", "答复业主的异议"),
    # votes
    "vote.cast": Action("vote", "{subject_id}的表决票计入（{channel}）", variants={
        "channel": {"paper": "复核确认{subject_id}的{paper_entry_id}，表决票计入"}}),
    "vote.changed": Action("vote", "{subject_id}修改表决票（{channel}）"),
    "vote.conflict_recorded": Action("vote", "{subject_id}经{incoming_channel}重复表决，记为冲突待处理"),
    "vote.conflict_resolved": Action("vote", "处理{subject_id}的投票冲突"),
    "proxy.submitted": Action("vote", "提交{subject_id}的授权委托书"),
    "proxy.accepted": Action("vote", "接受{subject_id}的授权委托书"),
    "proxy.rejected": Action("vote", "不予接受{subject_id}的授权委托书"),
    "paper.entered": Action("vote", "录入{subject_id}的书面表决票，待另一名委员复核"),
    "paper.rejected": Action("vote", "认定{subject_id}的书面表决票无效"),
    # notices
    "notice.draft_created": Action("notice", "起草公告“{title}”"),
    "notice.draft_updated": Action("notice", "修改公告草稿"),
    "notice.published": Action("notice", "发布公告“{title}”"),
    "notice.posted": Action("notice", "公告已在“{location}”张贴"),
    "notice.delivered_paper": Action("notice", "向{subject_label}书面送达公告"),
    "notice.read_online": Action("notice", "业主在线阅读公告"),
    # procedures
    "procedure.template_added": Action("procedure", "新增议事程序模板"),
    "procedure.settings_changed": Action("procedure", "修改议事程序设置"),
    "procedure.item_proposed": Action("procedure", "发起议题“{title}”"),
    "procedure.version_submitted": Action("procedure", "提交议题文本第{version}稿"),
    "procedure.step_recorded": Action("procedure", "办理步骤“{step_name}”：{action}"),
    "procedure.step_decided": Action("procedure", "办理步骤“{step_name}”：{action}"),
    "procedure.step_skipped": Action("procedure", "步骤“{step_name}”不适用，跳过"),
    "procedure.item_rejected": Action("procedure", "议题未获通过，程序终止"),
    "procedure.item_closed": Action("procedure", "议题办结"),
    "procedure.publication_published": Action("procedure", "公开“{step_name}”"),
    "procedure.ballot_linked": Action("procedure", "关联业主大会表决"),
    "procedure.resolution_recorded": Action("procedure", "记录业主大会表决结果"),
    "procedure.observer_appointed": Action("procedure", "指派{user_id}为本议题观察员"),
    "procedure.observer_revoked": Action("procedure", "撤销{user_id}的观察员指派"),
    "procedure.observation_recorded": Action("procedure", "观察员记录观察意见"),
    # ledger
    "ledger.settings_changed": Action("ledger", "修改公共收益设置"),
    "ledger.entry_recorded": Action("ledger", "记一笔{direction}：{amount_fen}"),
    "ledger.entry_reversal_recorded": Action("ledger", "记一笔冲正：{amount_fen}"),
    "ledger.entry_approved": Action("ledger", "审核通过一笔账目：{amount_fen}"),
    "ledger.entry_rejected": Action("ledger", "退回一笔账目"),
    "ledger.entry_withdrawn": Action("ledger", "撤回一笔账目"),
    "ledger.period_closed": Action("ledger", "结账：{start_date}至{end_date}"),
    "ledger.audit_report_attached": Action("ledger", "附上审计报告“{file_name}”"),
    "ledger.period_published": Action("ledger", "公布收支明细"),
    "ledger.import_created": Action("ledger", "导入银行流水“{file_name}”（{rows}行）"),
    "ledger.import_row_accepted": Action("ledger", "采用导入流水第{row_number}行"),
    "ledger.import_row_discarded": Action("ledger", "舍弃导入流水第{row_number}行"),
    # surveys: an answer is recorded without who gave it or what it says (app/surveys/service.py)
    "survey.created": Action("survey", "创建问卷“{title}”（{question_count}个评价项）"),
    "survey.opened": Action("survey", "开启问卷“{title}”"),
    "survey.answer_recorded": Action("survey", "收到一份问卷答卷（现有{response_count}份）"),
    "survey.closed": Action("survey", "结束问卷“{title}”，共收到答卷{response_count}份"),
    "survey.published": Action("survey", "公布问卷“{title}”的结果：总体满意度{satisfaction_rate}"),
    # 三单一访 work orders (seed 001 §4.7.1): no names, phones or texts in the chain
    "work_order.reported": Action("work_order", "报事：{category}"),
    "work_order.dispatched": Action("work_order", "派单给物业：{category}"),
    "work_order.accepted": Action("work_order", "物业接单：{category}"),
    "work_order.done": Action("work_order", "物业登记处理结果：{category}"),
    "work_order.rated": Action("work_order", "业主评单：{rating}"),
    "work_order.reopened": Action("work_order", "业主不满意，工单退回物业重新处理"),
    "work_order.visited": Action("work_order", "支部回访，工单办结"),
    # quarterly reports and the annual appraisal (app/appraisals, seed 002)
    "appraisal.quarterly_filed": Action("appraisal", "物业服务企业提交{year}年第{quarter}季度报告（第{version}版）"),
    "appraisal.quarterly_acknowledged": Action("appraisal", "社区党组织签收{year}年第{quarter}季度报告（第{version}版），意见：{opinion}"),
    "appraisal.account_filed": Action("appraisal", "{party}提交{year}年度述职报告（第{version}版）"),
    "appraisal.scored": Action("appraisal", "录入{year}年度述职评议评分：{appraiser_kind}“{appraiser_name}”平均{mean_score}分"),
    "appraisal.rectification_added": Action("appraisal", "列出{year}年度整改事项“{text}”，期限{due_on}"),
    "appraisal.published": Action("appraisal", "公布{year}年度述职评议结果：{score}分，{grade}（业主满意度{satisfaction_rate}），整改事项{rectification_count}项"),
    "appraisal.rectification_done": Action("appraisal", "物业服务企业报告整改事项“{text}”已完成：{note}"),
    "appraisal.rectification_confirmed": Action("appraisal", "业主委员会确认整改事项“{text}”已完成"),
    # credit scores and the red and black list (app/credit, seeds 000, 002, 003, 004)
    "credit.company_recorded": Action("credit", "登记本小区物业服务企业“{name}”（统一社会信用代码{credit_code}），合同期{contract_starts_on}至{contract_ends_on}"),
    "credit.finding_recorded": Action("credit", "登记{company_name}的负面清单问题（发现于{found_on}）：{text}"),
    "credit.finding_withdrawn": Action("credit", "撤销发现于{found_on}的负面清单问题“{text}”（理由：{reason}）"),
    "credit.list_published": Action("credit", "发布{district}{period}物业服务企业红黑榜（第{version}版）：{company_name}得分{company_score}分，排名第{rank}（共{company_count}家），{place}；本小区得分{compound_score}分"),
    "credit.dismissal_prompted": Action("credit", "提示业主委员会：{company_name}列入{district}{period}黑榜，且{year}年度整改事项“{text}”逾期（期限{due_on}）未确认完成，可依法定程序提请业主大会表决是否解聘"),
    "credit.dismissal_prompt_dismissed": Action("credit", "业主委员会暂不发起解聘{company_name}的议题（整改事项“{text}”；理由：{reason}）"),
    "credit.dismissal_proposed": Action("credit", "业主委员会根据解聘提示发起议题“{title}”（整改事项“{text}”），进入本小区议事程序"),
}


# --- objects --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ObjectKind:
    noun: str
    # The front-end path showing the object ({compound_id}, {id}); None when it has no screen
    # of its own: then `via` names the payload field of the object that does (e.g. its ballot).
    route: str | None = None
    via: str | None = None


OBJECTS: dict[str, ObjectKind] = {
    "compound": ObjectKind("小区", "/c/{compound_id}"),
    "roster_import": ObjectKind("名册导入", "/c/{compound_id}/roster"),
    "unit": ObjectKind("房屋", "/c/{compound_id}/units/{id}"),
    "owner": ObjectKind("业主"),
    "role_grant": ObjectKind("角色授权"),
    "user_account": ObjectKind("工作人员账号"),
    "voting_subject": ObjectKind("表决主体"),
    "audit_checkpoint": ObjectKind("签名检查点", "/c/{compound_id}/audit"),
    "stored_file": ObjectKind("文件", "/api/v1/compounds/{compound_id}/files/{id}"),
    "voting_setting": ObjectKind("表决规则设置"),
    "ballot": ObjectKind("表决", "/c/{compound_id}/ballots/{id}"),
    "vote_cast": ObjectKind("表决票", via="ballot_id"),
    "vote_conflict": ObjectKind("投票冲突", via="ballot_id"),
    "proxy_authorization": ObjectKind("授权委托书", via="ballot_id"),
    "paper_entry": ObjectKind("书面表决票", via="ballot_id"),
    "ballot_objection": ObjectKind("异议", via="ballot_id"),
    "notice": ObjectKind("公告", "/c/{compound_id}/notices/{id}"),
    "agenda_item": ObjectKind("议题", "/c/{compound_id}/procedures/{id}"),
    "procedure_template": ObjectKind("议事程序模板"),
    "procedure_setting": ObjectKind("议事程序设置"),
    "ledger_setting": ObjectKind("公共收益设置", "/c/{compound_id}/ledger"),
    "ledger_entry": ObjectKind("账目", "/c/{compound_id}/ledger/entries/{id}"),
    "ledger_period": ObjectKind("收支期间", "/c/{compound_id}/ledger"),
    "ledger_import": ObjectKind("流水导入", "/c/{compound_id}/ledger/imports"),
    "ledger_import_row": ObjectKind("流水导入行", "/c/{compound_id}/ledger/imports"),
    "survey": ObjectKind("问卷", "/c/{compound_id}/surveys/{id}"),
    "work_order": ObjectKind("工单", "/c/{compound_id}/work-orders/{id}"),
    "quarterly_report": ObjectKind("季度报告", "/c/{compound_id}/appraisals"),
    "appraisal": ObjectKind("述职评议", "/c/{compound_id}/appraisals/{id}"),
    "rectification_item": ObjectKind("整改事项", "/c/{compound_id}/appraisals"),
    "property_company": ObjectKind("物业服务企业登记", "/c/{compound_id}/credit"),
    "credit_finding": ObjectKind("负面清单问题", "/c/{compound_id}/credit"),
    "credit_list": ObjectKind("红黑榜", "/c/{compound_id}/credit"),
    "dismissal_prompt": ObjectKind("解聘提示", "/c/{compound_id}/credit"),
}


def object_noun(object_type: str) -> str:
    kind = OBJECTS.get(object_type)
    return kind.noun if kind else "记录"


def object_route(object_type: str, object_id: str | int, compound_id: int) -> str | None:
    kind = OBJECTS.get(object_type)
    if kind is None or kind.route is None:
        return None
    return kind.route.format(compound_id=compound_id, id=object_id)


def event_link(object_type: str, object_id: str, payload: Mapping[str, Any],
               compound_id: int) -> str | None:
    """Where the event's object is shown: its own screen, or the screen of the object it
    belongs to (a paper ballot's ballot)."""
    kind = OBJECTS.get(object_type)
    if kind is None:
        return None
    if object_type == "ledger_period" and isinstance(payload.get("start_date"), str):
        return f"/c/{compound_id}/ledger/periods/{payload['start_date']}"
    if kind.route is not None:
        return kind.route.format(compound_id=compound_id, id=object_id)
    if kind.via and isinstance(payload.get(kind.via), int):
        target = _REF_TYPES.get(kind.via)
        return object_route(target, payload[kind.via], compound_id) if target else None
    return None


# --- payload fields -------------------------------------------------------------------------------

CHANNELS = {"online": "线上投票", "proxy": "委托投票", "paper": "书面表决票"}
DIRECTIONS = {"income": "收入", "expense": "支出"}
ROLES = {"platform_admin": "平台管理员", "committee": "业委会委员", "reviewer": "社区党组织审核人",
         "observer": "观察员（两代表一委员）", "clerk": "物业工作人员", "owner": "业主", "system": "系统"}
STEP_ACTIONS = {"submit": "提交", "resubmit": "修改后重新提交", "approve": "同意", "reject": "不同意",
                "return": "退回修改", "skip": "跳过", "publish": "公开", "link": "关联表决",
                "resolve": "记录结果", "record": "记录"}
CHECKPOINT_REASONS = {"manual": "手动签署", "daily": "每日签署", "ballot_closed": "表决结束",
                      "ballot_published": "结果公布", "export": "导出"}
RESOLUTIONS = {"keep_existing": "维持原表决", "accept_incoming": "采用新提交的表决"}

# Payload fields holding another object's id: the object type they point at.
_REF_TYPES: dict[str, str] = {
    "ballot_id": "ballot", "notice_id": "notice", "result_notice_id": "notice",
    "supersedes_id": "notice", "file_id": "stored_file", "scan_file_id": "stored_file",
    "document_file_id": "stored_file", "photo_file_id": "stored_file",
    "evidence_file_id": "stored_file", "audit_report_file_id": "stored_file",
    "entry_id": "ledger_entry", "reverses_id": "ledger_entry", "import_id": "roster_import",
    "paper_entry_id": "paper_entry", "proxy_id": "proxy_authorization",
    "supersedes_cast_id": "vote_cast", "period_id": "ledger_period",
    "late_for_period_id": "ledger_period", "subject_id": "voting_subject",
    "publish_checkpoint_id": "audit_checkpoint", "posting_id": "notice_posting",
    "delivery_id": "notice_delivery", "record_id": "step_record",
    "appointment_id": "observer_appointment", "observation_id": "observation",
    "agenda_item_id": "agenda_item",
}


@dataclass(frozen=True)
class PayloadField:
    label: str
    kind: str = "text"  # text, count, fen, area, bool, time, hash, ref, refs, user, json, map
    values: Mapping[str, str] | None = None  # for kind "map": code → Chinese


FIELDS: dict[str, PayloadField] = {
    # people and subjects
    "user_id": PayloadField("账号", "user"), "owner_id": PayloadField("业主编号", "count"),
    "previous_owner_id": PayloadField("原代表人业主编号", "count"),
    "recorded_by": PayloadField("记账人", "user"),
    "subject_id": PayloadField("表决主体", "ref"), "subject_ids": PayloadField("表决主体", "refs"),
    "publish_checkpoint_id": PayloadField("公布时的签名检查点", "ref"),
    "subject_label": PayloadField("送达对象"),
    "role": PayloadField("角色", "map", ROLES), "role_label": PayloadField("角色名称"),
    "organization": PayloadField("所在单位"),
    # compound and roster
    "name": PayloadField("名称"), "district": PayloadField("区"), "street": PayloadField("街道"), "community": PayloadField("社区"),
    "file_sha256": PayloadField("文件指纹", "hash"), "row_count": PayloadField("行数", "count"),
    "unit_count": PayloadField("房屋套数", "count"), "owner_count": PayloadField("业主人数", "count"),
    "subject_count": PayloadField("表决主体数", "count"),
    "parking_counts_as_area": PayloadField("车位、车库是否计入表决面积", "bool"),
    "units_added": PayloadField("新增房屋", "count"), "units_changed": PayloadField("变更房屋", "count"),
    "units_removed": PayloadField("删除房屋", "count"), "units_unchanged": PayloadField("未变房屋", "count"),
    "buildings_added": PayloadField("新增楼栋", "count"), "owners_moved": PayloadField("变更房屋的业主", "count"),
    "owners_added": PayloadField("新增业主", "count"), "owners_updated": PayloadField("信息更新的业主", "count"),
    "owners_removed": PayloadField("删除业主", "count"),
    "units_missing": PayloadField("文件中没有的房屋（导入未移除）", "count"),
    "owners_missing": PayloadField("文件中没有的业主（导入未移除）", "count"),
    "unit": PayloadField("房屋"), "owner": PayloadField("业主（已遮蔽）"),
    "entrance": PayloadField("单元"), "room": PayloadField("房号"),
    "area": PayloadField("专有面积（平方米）"), "area_source": PayloadField("面积来源"),
    "usage": PayloadField("用途"), "status": PayloadField("状态"),
    "owner_name": PayloadField("业主姓名（已遮蔽）"), "owner_kind": PayloadField("业主类型"),
    "phone": PayloadField("手机号（已遮蔽）"),
    "total_area_hundredths": PayloadField("专有部分总面积", "area"),
    "total_headcount": PayloadField("表决主体总数", "count"),
    "queued": PayloadField("待发短信", "count"), "skipped": PayloadField("未发短信（退订或超限）", "count"),
    "day": PayloadField("日期"),
    "username": PayloadField("用户名"), "display_name": PayloadField("姓名"),
    "total_area": PayloadField("专有部分总面积（平方米）"),
    # files and hashes
    "sha256": PayloadField("文件指纹", "hash"), "file_name": PayloadField("文件名"),
    "size_bytes": PayloadField("大小", "bytes"), "purpose": PayloadField("用途"),
    "head_hash": PayloadField("链头哈希", "hash"), "seq": PayloadField("记录序号", "count"),
    "reason": PayloadField("理由", "reason"),
    "closing_seq": PayloadField("结束时的记录序号", "count"), "closing_hash": PayloadField("结束时的链头哈希", "hash"),
    "choices_sha256": PayloadField("表决内容指纹", "hash"), "commitment": PayloadField("表决内容承诺值", "hash"),
    "statement_sha256": PayloadField("明细表指纹", "hash"), "content_sha256": PayloadField("正文指纹", "hash"),
    "photo_sha256": PayloadField("照片指纹", "hash"), "evidence_sha256": PayloadField("送达凭证指纹", "hash"),
    # ballots and votes
    "title": PayloadField("标题"), "matters": PayloadField("表决事项", "list"),
    "starts_at": PayloadField("投票开始", "time"), "ends_at": PayloadField("投票结束", "time"),
    "objection_ends_at": PayloadField("异议期截止", "time"),
    "previous_starts_at": PayloadField("原定投票开始", "time"), "previous_ends_at": PayloadField("原定投票结束", "time"),
    "votes_kept": PayloadField("保留不计的已投票户数", "count"),
    "trigger": PayloadField("执行方式", "map", {"schedule": "系统定时任务"}),
    "step": PayloadField("操作", "map", {"open": "开始", "close": "结束"}),
    "message": PayloadField("原因"),
    "settings": PayloadField("表决规则", "json"), "results": PayloadField("各事项结果", "json"),
    "before": PayloadField("修改前", "json"), "after": PayloadField("修改后", "json"),
    "channel": PayloadField("投票方式", "map", CHANNELS), "existing_channel": PayloadField("已计入的方式", "map", CHANNELS),
    "incoming_channel": PayloadField("新提交的方式", "map", CHANNELS),
    "receipt_code": PayloadField("回执码"), "resolution": PayloadField("处理结果", "map", RESOLUTIONS),
    "note": PayloadField("说明"), "text": PayloadField("内容"), "answer": PayloadField("答复"),
    "matter_id": PayloadField("表决事项编号", "count"), "matter_title": PayloadField("表决事项"),
    "ballot_title": PayloadField("表决"), "passed": PayloadField("是否通过", "bool"),
    "explanation": PayloadField("说明"), "category": PayloadField("类别"),
    "noticed_before_adoption": PayloadField("是否在采用本程序前已发布公告", "bool"),
    # notices
    "kind": PayloadField("类型"), "audience": PayloadField("公告对象", "audience"), "display_days": PayloadField("公示天数", "count"),
    "attachment_file_ids": PayloadField("附件", "refs_file"), "attachments": PayloadField("附件", "json"),
    "source_type": PayloadField("来源"), "source_id": PayloadField("来源编号", "count"),
    "published_at": PayloadField("发布时间", "time"), "display_until": PayloadField("公示截止", "date"),
    "changed": PayloadField("修改的内容", "list"), "posted_on": PayloadField("张贴日期", "date"),
    "location": PayloadField("张贴地点"), "delivered_at": PayloadField("送达时间", "time"),
    "read_at": PayloadField("阅读时间", "time"),
    # procedures
    "key": PayloadField("模板代码"), "template": PayloadField("模板", "json"),
    "template_key": PayloadField("程序模板"), "previous_template_key": PayloadField("原程序模板"),
    "extra_major_matters": PayloadField("新增重大事项", "json"),
    "matter_type": PayloadField("事项类型"), "matter_label": PayloadField("事项"), "is_major": PayloadField("是否重大事项", "bool"),
    "proposer_body": PayloadField("提议主体代码"), "proposer_body_label": PayloadField("提议主体"), "steps": PayloadField("步骤", "list"),
    "version": PayloadField("稿次", "count"), "document_file_ids": PayloadField("文件", "refs_file"),
    "step_index": PayloadField("步骤序号", "count"), "step_key": PayloadField("步骤代码"), "step_name": PayloadField("步骤"),
    "action": PayloadField("办理结果", "map", STEP_ACTIONS), "opinion": PayloadField("意见"), "data": PayloadField("办理内容", "json"),
    "file_ids": PayloadField("附件", "refs_file"), "resolution_passed": PayloadField("表决是否通过", "bool"),
    # ledger
    "entry_date": PayloadField("日期", "date"), "direction": PayloadField("收支", "map", DIRECTIONS),
    "amount_fen": PayloadField("金额", "fen"), "cost_fen": PayloadField("扣除成本", "fen"), "cost_note": PayloadField("成本说明"),
    "counterparty": PayloadField("对方"), "description": PayloadField("摘要"),
    "vouchers": PayloadField("凭证", "json"), "start_date": PayloadField("期间开始", "date"), "end_date": PayloadField("期间结束", "date"),
    "opening_balance_fen": PayloadField("期初余额", "fen"), "closing_balance_fen": PayloadField("期末余额", "fen"),
    "entries": PayloadField("账目笔数", "count"),
    # rule settings (voting, ledger)
    "notice_days": PayloadField("会议通知提前天数", "count"),
    "min_voting_days": PayloadField("最短表决天数", "count"),
    "max_voting_days": PayloadField("最长表决天数", "count"),
    "objection_days": PayloadField("异议期天数", "count"), "proxy_limit": PayloadField("每位受托人的委托上限", "count"),
    "publish_unit_record": PayloadField("是否公开逐户表决记录", "bool"),
    "thresholds": PayloadField("表决门槛", "json"), "quorum": PayloadField("参与表决门槛"),
    "simple_majority": PayloadField("一般事项通过门槛"), "special_majority": PayloadField("特别事项通过门槛"),
    "period_kind": PayloadField("结账周期"), "starts_on": PayloadField("起始日", "date"),
    "maintenance_share_percent": PayloadField("计入专项维修资金比例（%）", "count"),
    "decision_rules": PayloadField("动用规则", "json"), "publish_due_days": PayloadField("结账后公布期限（天）", "count"),
    "voucher_required": PayloadField("是否须附凭证", "bool"),
    "annual_audit_required": PayloadField("是否须年度审计", "bool"), "rows": PayloadField("行数", "count"), "row_number": PayloadField("行号", "count"),
    # surveys
    "year": PayloadField("年度"), "survey_template": PayloadField("问卷模板"),
    "question_count": PayloadField("评价项数", "count"), "opens_at": PayloadField("作答开始", "time"),
    "closes_at": PayloadField("作答结束", "time"), "response_count": PayloadField("答卷份数", "count"),
    "early": PayloadField("是否提前结束", "bool"), "satisfaction_rate": PayloadField("总体满意度"),
    # work orders
    "due_at": PayloadField("办理期限", "time"), "photo_count": PayloadField("照片张数", "count"),
    "rating": PayloadField("评价"), "late": PayloadField("是否超期", "bool"),
    # quarterly reports and appraisals
    "quarter": PayloadField("季度", "count"),
    "party": PayloadField("述职方", "map", {"committee": "业主委员会", "company": "物业服务企业"}),
    "appraiser_kind": PayloadField("评议方", "map", {"party": "社区党组织", "committee": "业主委员会", "owner_rep": "业主代表"}),
    "appraiser_name": PayloadField("评议人"), "mean_score": PayloadField("平均得分"),
    "score": PayloadField("综合得分"), "grade": PayloadField("评议等级"),
    "rectification_count": PayloadField("整改事项数", "count"), "due_on": PayloadField("整改期限", "date"),
    "overdue": PayloadField("是否逾期", "bool"),
    # credit scores and the red and black list
    "credit_code": PayloadField("统一社会信用代码"), "previous_name": PayloadField("原登记的物业服务企业"),
    "contract_starts_on": PayloadField("合同开始日期", "date"),
    "contract_ends_on": PayloadField("合同终止日期", "date"),
    "company_name": PayloadField("物业服务企业"), "found_on": PayloadField("发现日期", "date"),
    "period": PayloadField("考核期"), "compound_score": PayloadField("本小区得分"),
    "company_score": PayloadField("企业得分"), "rank": PayloadField("排名", "count"),
    "company_count": PayloadField("参与排名的企业数", "count"), "place": PayloadField("榜单"),
    "thresholds_text": PayloadField("上榜标准"),
}
# Fields holding another object's id are written as that object (noun and number).
_REF_LABELS = {
    "ballot_id": "表决", "notice_id": "公告", "result_notice_id": "结果公告", "supersedes_id": "更正的原公告",
    "file_id": "文件", "scan_file_id": "扫描件", "document_file_id": "委托书文件", "photo_file_id": "张贴照片",
    "evidence_file_id": "送达凭证", "audit_report_file_id": "审计报告", "entry_id": "账目",
    "reverses_id": "冲正的原账目", "import_id": "导入批次", "paper_entry_id": "书面表决票",
    "proxy_id": "授权委托书", "supersedes_cast_id": "被替换的表决票", "period_id": "收支期间",
    "late_for_period_id": "补记所属期间", "posting_id": "张贴记录", "delivery_id": "送达记录",
    "record_id": "办理记录", "appointment_id": "指派记录", "observation_id": "观察记录",
    "agenda_item_id": "议题",
}
for _name, _label in _REF_LABELS.items():
    FIELDS[_name] = PayloadField(_label, "ref")

# Objects named in payloads that are never an event's own object.
_EXTRA_NOUNS = {"notice_posting": "张贴记录", "notice_delivery": "送达记录", "step_record": "办理记录",
                "observer_appointment": "指派记录", "observation": "观察记录"}


# --- rendering ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One payload field as a reader sees it: a label, its value in words, and where the object
    it names is shown (its screen, and its type and id for the trail's object filter)."""

    label: str
    value: str
    link: str | None = None
    object_type: str | None = None
    object_id: str | None = None


def noun(object_type: str) -> str:
    kind = OBJECTS.get(object_type)
    return kind.noun if kind else _EXTRA_NOUNS.get(object_type, "记录")


def _time(value: Any) -> str:
    try:
        return format_moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _day(value: Any) -> str:
    try:
        return format_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _fen(value: int) -> str:
    sign, fen = ("-" if value < 0 else ""), abs(value)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}元"


def _area(value: int) -> str:
    return f"{value // 100:,}.{value % 100:02d}平方米"


def _bytes(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MB"
    return f"{max(1, round(value / 1024))} KB" if value >= 1024 else f"{value} 字节"


def _inline(value: Any) -> str:
    """A nested value (settings, results, attachments) in one line of Chinese."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            field = FIELDS.get(k)
            parts.append(f"{field.label if field else k}：{_plain(k, v)}")
        return "；".join(parts) or "（空）"
    if isinstance(value, list):
        return "、".join(_inline(v) for v in value) or "（无）"
    return _plain("", value)


def _plain(name: str, value: Any) -> str:
    """A value in words, without people's names or links (see `render_value` for those)."""
    field = FIELDS.get(name)
    if value is None or value == "":
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return _inline(value)
    kind = field.kind if field else "text"
    if kind == "map" and field and field.values is not None:
        return field.values.get(str(value), str(value))
    if kind == "time":
        return _time(value)
    if kind == "date":
        return _day(value)
    if kind == "fen" and isinstance(value, int):
        return _fen(value)
    if kind == "area" and isinstance(value, int):
        return _area(value)
    if kind == "bytes" and isinstance(value, int):
        return _bytes(value)
    if kind == "hash":
        return str(value)[:16]
    if kind == "ref":
        return f"{noun(_REF_TYPES.get(name, ''))} #{value}"
    if kind == "audience":
        return "全体业主" if value == "compound" else str(value)
    if kind == "reason":
        return checkpoint_reason(str(value))
    return str(value)


_BALLOT_REASON = re.compile(r"^ballot (\d+) (closed|published)$")


def checkpoint_reason(reason: str) -> str:
    """Why a checkpoint was signed, in Chinese ("ballot 3 closed" → 表决 #3 结束计票); any other
    text (a refusal's reason) is kept as written."""
    if reason in CHECKPOINT_REASONS:
        return CHECKPOINT_REASONS[reason]
    match = _BALLOT_REASON.match(reason)
    if match:
        return f"表决 #{match.group(1)} {'结束计票' if match.group(2) == 'closed' else '公布结果'}"
    return reason


def render_value(name: str, value: Any, *, compound_id: int, people: Mapping[int, str],
                 subjects: Mapping[int, str] | None = None) -> Line:
    field = FIELDS.get(name)
    label = field.label if field else name
    kind = field.kind if field else "text"
    if kind == "user" and isinstance(value, int) and not isinstance(value, bool):
        return Line(label, people.get(value, f"账号 #{value}"))
    if name == "subject_id" and isinstance(value, int) and subjects and value in subjects:
        return Line(label, subjects[value], None, "voting_subject", str(value))
    if name == "subject_ids" and isinstance(value, list) and subjects:
        return Line(label, "、".join(subjects.get(v, f"表决主体 #{v}") for v in value) or "（无）")
    if kind == "ref" and isinstance(value, int) and not isinstance(value, bool):
        target = _REF_TYPES.get(name, "")
        return Line(label, f"{noun(target)} #{value}", object_route(target, value, compound_id),
                    target, str(value))
    if kind in ("refs", "refs_file") and isinstance(value, list):
        target = "stored_file" if kind == "refs_file" else _REF_TYPES.get(name.removesuffix("s"), "")
        return Line(label, "、".join(f"{noun(target)} #{v}" for v in value) or "（无）")
    if kind == "audience" and isinstance(value, list):
        return Line(label, "、".join(str(v) for v in value) or "全体业主")
    if kind == "audience" and isinstance(value, dict):  # buildings and single entrances (单元)
        parts = [str(v) for v in value.get("building_ids", [])] + [
            f"楼栋 #{e.get('building_id')} {e.get('entrance')}单元" for e in value.get("entrances", [])]
        return Line(label, "、".join(parts) or "全体业主")
    return Line(label, _plain(name, value))


def render_payload(payload: Mapping[str, Any], *, compound_id: int, people: Mapping[int, str],
                   subjects: Mapping[int, str] | None = None) -> list[Line]:
    """The payload as labelled Chinese lines, in the registry's order of fields."""
    order = {name: i for i, name in enumerate(FIELDS)}
    names = sorted(payload, key=lambda n: (order.get(n, len(order)), n))
    return [render_value(n, payload[n], compound_id=compound_id, people=people, subjects=subjects)
            for n in names]


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def describe(action: str, payload: Mapping[str, Any], *, people: Mapping[int, str],
             subjects: Mapping[int, str] | None = None) -> str:
    """The event in one Chinese sentence (an action the registry lacks keeps its code)."""
    entry = ACTIONS.get(action)
    if entry is None:
        return f"操作 {action}"
    words = _Blank()
    for name, value in payload.items():
        field = FIELDS.get(name)
        if field is not None and field.kind == "user" and isinstance(value, int):
            words[name] = people.get(value, f"账号 #{value}")
        elif name == "subject_id" and subjects and isinstance(value, int) and value in subjects:
            words[name] = subjects[value]
        elif field is not None and field.kind == "hash":
            words[name] = str(value)[:16]
        else:
            words[name] = _plain(name, value)
    template = entry.template
    for name, by_value in (entry.variants or {}).items():
        template = by_value.get(str(payload.get(name)), template)
    return template.format_map(words)


def group_of(action: str) -> str | None:
    entry = ACTIONS.get(action)
    return entry.group if entry else None


def actions_of_group(group: str) -> list[str]:
    return sorted(code for code, entry in ACTIONS.items() if entry.group == group)


# Payload fields that point at an object: filtering by that object also finds these events.
def referring_fields(object_type: str) -> list[str]:
    return sorted(name for name, target in _REF_TYPES.items() if target == object_type)

