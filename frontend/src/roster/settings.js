// The compound's settings in one line each, for the settings hub (roster/views/SettingsHubView.vue).

/** ">=2/3" → "≥2/3", ">1/2" → ">1/2": a threshold as the committee reads it. */
export const thresholdText = (t) => String(t || '').replace('>=', '≥');

export function votingSummary(s) {
  return `参与表决 ${thresholdText(s.thresholds.quorum)}；一般事项同意 ${thresholdText(s.thresholds.simple_majority)}；`
    + `第（六）至（八）项同意 ${thresholdText(s.thresholds.special_majority)}；会议通知提前 ${s.notice_days} 日；`
    + `每位受托人最多 ${s.proxy_limit} 户；分户表决记录${s.publish_unit_record ? '公开' : '不公开'}`;
}

export function ledgerSummary(s) {
  return `${s.period_kind_label}结账；期满后 ${s.publish_due_days} 日内公示，公示 ${s.display_days} 日；`
    + `净收益的 ${s.maintenance_share_percent}% 转入维修资金`;
}
