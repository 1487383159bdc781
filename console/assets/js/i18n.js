// Chinese and English text, dates in the user's own timezone, money from
// minor units. zh-CN is chosen when the browser asks for Chinese, unless
// the user picked a language (kept in localStorage).

const PICK = 'kefu.console.lang';

const en = {
  'nav.day': 'My day', 'nav.book': 'Book', 'nav.campaigns': 'Campaigns',
  'signout': 'Sign out', 'skip': 'Skip to content', 'loading': 'Loading…', 'language': 'Language',
  'login.title': 'Sign in', 'login.help': 'This server needs a bearer token. It is kept for this tab only.',
  'login.token': 'Bearer token', 'login.go': 'Sign in', 'login.bad': 'The token was not accepted.',
  'day.title': 'My day', 'day.owner': 'Owner (empty: everyone)', 'day.show': 'Show',
  'day.followups': 'Follow-ups due', 'day.complaints': 'Overdue complaint replies',
  'day.none': 'Nothing due. 👍',
  'cmp.suggested': 'What satisfied customers before in this category (satisfied/judged):',
  'day.next': 'Next best actions', 'day.nextHint': 'Best first: overdue replies, due follow-ups, replenishment calls, win-backs, loyalty drops.',
  'col.kind': 'Action', 'col.why': 'Why',
  'col.due': 'Due', 'col.reason': 'Reason', 'col.customer': 'Customer', 'col.complaint': 'Complaint',
  'col.owner': 'Owner', 'col.outcome': 'Outcome', 'col.note': 'Note', 'col.filed': 'Filed',
  'col.replyDue': 'Reply due', 'col.severity': 'Severity', 'col.status': 'Status', 'col.stage': 'Stage',
  'col.tier': 'Tier', 'col.am': 'Account manager', 'col.loyalty': 'Loyalty', 'col.lastInbound': 'Last in touch',
  'col.name': 'Name', 'col.date': 'Date', 'col.occasion': 'Occasion', 'col.progress': 'Progress',
  'complete': 'Complete', 'completed': 'Follow-up completed',
  'cust.title': 'Customer', 'cust.asOf': 'As of', 'cust.slider': 'Slide through time', 'cust.now': 'Now', 'cust.asOfBanner': 'Showing this customer as of {d}. Actions are off in the past.',
  'cust.profile': 'Profile', 'cust.stage': 'Stage', 'cust.since': 'since {d}', 'cust.because': 'because {r}',
  'cust.loyalty': 'Loyalty', 'cust.score': 'Score', 'cust.level': 'Level', 'cust.pAlive': 'P(alive)',
  'cust.expected': 'Expected purchases (90 d)', 'cust.csat': 'Satisfaction', 'cust.recovered': 'Recovered complaints',
  'cust.referrals': 'Referrals', 'cust.purchases': 'Purchases', 'cust.ltv': 'Lifetime value', 'cust.lastPurchase': 'Last purchase',
  'cust.phone': 'Phone', 'cust.email': 'E-mail', 'cust.birthday': 'Birthday', 'cust.segment': 'Segment',
  'cust.timezone': 'Timezone', 'cust.consent': 'Marketing consent', 'cust.registered': 'Registered',
  'cust.flagged': 'Conduct flagged', 'cust.erased': 'Erased', 'cust.hidden': 'hidden',
  'cust.open': 'Open complaints', 'cust.followups': 'Follow-ups', 'cust.timeline': 'Timeline', 'cust.more': 'Show more',
  'cust.history': 'Stage history', 'cust.actions': 'Actions',
  'act.contact': 'Log a contact', 'act.purchase': 'Record a purchase', 'act.complaint': 'File a complaint',
  'f.channel': 'Channel', 'f.direction': 'Direction', 'f.summary': 'Summary', 'f.complaint': 'About complaint',
  'f.none': '(none)', 'f.order': 'Order number', 'f.amount': 'Amount', 'f.currency': 'Currency', 'f.items': 'Items (comma-separated)',
  'f.category': 'Category', 'f.severity': 'Severity', 'f.description': 'What the customer said', 'f.owner': 'Owner',
  'f.note': 'Note', 'f.outcome': 'Outcome', 'f.to': 'To', 'f.reason': 'Reason', 'f.promised': 'Reply promised by',
  'f.options': 'Options (one per line)', 'f.option': 'Accepted option', 'f.step': 'Step', 'f.compensation': 'Compensation',
  'f.impact': 'Impact', 'f.handling': 'Handling', 'f.cause': 'Cause', 'f.corrective': 'Corrective and preventive actions',
  'save': 'Save', 'saved': 'Saved', 'cancel': 'Cancel', 'confirm': 'Confirm',
  'cmp.title': 'Complaint', 'cmp.sla': 'Reply clock', 'cmp.dueIn': 'reply due in {d}', 'cmp.overdueBy': 'overdue by {d}',
  'cmp.acked': 'acknowledged {d}', 'cmp.onTime': 'on time', 'cmp.late': 'late',
  'cmp.provisional': 'Provisional: the deadline was computed without official holiday data for that year.',
  'cmp.promised': 'reply promised by {d}', 'cmp.steps': 'Recovery steps', 'cmp.noSteps': 'No recovery steps yet.',
  'cmp.options': 'Resolution options', 'cmp.accepted': 'accepted', 'cmp.workflow': 'Next steps',
  'cmp.incident': 'Incident report', 'cmp.filed': 'filed', 'cmp.missing': 'not filed',
  'cmp.followups': 'Follow-ups of this complaint', 'cmp.waiting': 'Waiting for the follow-ups to be scheduled…',
  'cmp.compensation': 'Compensation', 'cmp.repeat': 'Repeat contacts', 'cmp.escalatedTo': 'Escalated to',
  'cmp.declined': 'Declined', 'cmp.outcome': 'Outcome', 'cmp.resolvedAt': 'Resolved',
  'do.acknowledgeComplaint': 'Acknowledge', 'do.escalateComplaint': 'Escalate', 'do.declineComplaint': 'Decline',
  'do.proposeResolution': 'Propose resolution', 'do.acceptResolution': 'Accept option', 'do.takeRecoveryStep': 'Recovery step',
  'do.fileIncidentReport': 'Incident report', 'do.resolveComplaint': 'Resolve', 'do.reopenComplaint': 'Reopen',
  'do.transferComplaint': 'Transfer',
  'book.title': 'Book', 'book.search': 'Search name or contact', 'book.stage': 'Stage', 'book.tier': 'Tier',
  'book.owner': 'Account manager', 'book.any': 'any', 'book.openOnly': 'Only with an open complaint',
  'book.filter': 'Filter', 'book.total': '{n} customers', 'book.prev': 'Previous', 'book.next': 'Next',
  'book.page': 'Page {n}', 'book.byStage': 'By stage',
  'chart.title': 'The last twelve months', 'chart.funnel': 'Complain → silence → lost', 'chart.complained': 'Complained', 'chart.silent': 'Went silent after it', 'chart.lost': 'Lost after silence', 'chart.populations': 'Customers by stage at the end of each month',
  'camp.title': 'Campaigns', 'camp.holidays': 'Upcoming holidays (CN)', 'camp.use': 'Use', 'camp.new': 'New campaign',
  'camp.name': 'Name', 'camp.occasion': 'Occasion', 'camp.date': 'Date', 'camp.sendAt': 'Local send time',
  'camp.stages': 'Stages', 'camp.tiers': 'Tiers (none: all)', 'camp.am': 'Only customers of', 'camp.excludeFlagged': 'Skip conduct-flagged customers',
  'camp.templates': 'Templates (the first matching wins)', 'camp.template': 'Template {n}', 'camp.body': 'Message',
  'camp.forStages': 'For stages (none: all)', 'camp.addTemplate': 'Add a template', 'camp.remove': 'Remove',
  'camp.preview': 'Preview', 'camp.previewHelp': 'Counted from the book now; nothing is sent.',
  'camp.audience': 'Audience', 'camp.greeted': 'Would be greeted', 'camp.skipped': 'Skipped', 'camp.excluded': 'Left out',
  'camp.evaluated': 'Covered', 'camp.byChannel': 'By channel', 'camp.schedule': 'Schedule',
  'camp.list': 'Campaigns', 'camp.none': 'No campaigns yet.', 'camp.cancel': 'Cancel campaign', 'camp.cancelReason': 'Why cancel',
  'camp.sent': 'Sent', 'camp.failed': 'Failed', 'camp.status': 'Status', 'camp.createdBy': 'Created by',
  'camp.custom': 'Custom occasion label', 'camp.birthday': 'Birthday', 'camp.anniversary': 'Registration anniversary',
  'camp.careDefault': 'Dear {{name}}, thank you for staying with us. Wishing you a peaceful {{occasion}}.',
  'camp.salesDefault': 'Dear {{name}}, happy {{occasion}}!',
  'err.FORBIDDEN': 'Your role may not do this.', 'err.CONFLICT': 'Someone changed this meanwhile; the page was reloaded.',
  'err.notFound': 'Not found.', 'err.prefix': 'Refused',
  'role.readOnly': 'read only',
};

const zh = {
  'nav.day': '我的今天', 'nav.book': '客户簿', 'nav.campaigns': '营销活动',
  'signout': '退出', 'skip': '跳到内容', 'loading': '加载中…', 'language': '语言',
  'login.title': '登录', 'login.help': '此服务器需要访问令牌，仅保存在当前标签页。',
  'login.token': '访问令牌', 'login.go': '登录', 'login.bad': '令牌无效。',
  'day.title': '我的今天', 'day.owner': '负责人（留空：全部）', 'day.show': '显示',
  'day.followups': '到期回访', 'day.complaints': '逾期未回复的投诉',
  'day.none': '没有到期事项。👍',
  'cmp.suggested': '同类投诉以往令客户满意的方案（满意/已评）：',
  'day.next': '下一步最佳行动', 'day.nextHint': '按优先级：逾期回复、到期回访、补货提醒、挽回、忠诚度下降。',
  'col.kind': '行动', 'col.why': '原因',
  'col.due': '到期', 'col.reason': '原因', 'col.customer': '客户', 'col.complaint': '投诉',
  'col.owner': '负责人', 'col.outcome': '结果', 'col.note': '备注', 'col.filed': '提交',
  'col.replyDue': '回复期限', 'col.severity': '级别', 'col.status': '状态', 'col.stage': '阶段',
  'col.tier': '等级', 'col.am': '客户经理', 'col.loyalty': '忠诚度', 'col.lastInbound': '最近联系',
  'col.name': '名称', 'col.date': '日期', 'col.occasion': '节日', 'col.progress': '进度',
  'complete': '完成', 'completed': '回访已完成',
  'cust.title': '客户', 'cust.asOf': '查看日期', 'cust.slider': '时间滑块', 'cust.now': '现在', 'cust.asOfBanner': '显示该客户在 {d} 的状态。过去的状态不能操作。',
  'cust.profile': '资料', 'cust.stage': '阶段', 'cust.since': '自 {d}', 'cust.because': '原因：{r}',
  'cust.loyalty': '忠诚度', 'cust.score': '分数', 'cust.level': '级别', 'cust.pAlive': '存活概率',
  'cust.expected': '预计购买（90 天）', 'cust.csat': '满意度', 'cust.recovered': '已挽回的投诉',
  'cust.referrals': '推荐', 'cust.purchases': '购买次数', 'cust.ltv': '累计消费', 'cust.lastPurchase': '最近购买',
  'cust.phone': '电话', 'cust.email': '邮箱', 'cust.birthday': '生日', 'cust.segment': '细分',
  'cust.timezone': '时区', 'cust.consent': '营销同意', 'cust.registered': '注册',
  'cust.flagged': '行为标记', 'cust.erased': '已删除', 'cust.hidden': '隐藏',
  'cust.open': '未结投诉', 'cust.followups': '回访', 'cust.timeline': '时间线', 'cust.more': '显示更多',
  'cust.history': '阶段历史', 'cust.actions': '操作',
  'act.contact': '记录联系', 'act.purchase': '记录购买', 'act.complaint': '登记投诉',
  'f.channel': '渠道', 'f.direction': '方向', 'f.summary': '摘要', 'f.complaint': '相关投诉',
  'f.none': '（无）', 'f.order': '订单号', 'f.amount': '金额', 'f.currency': '币种', 'f.items': '商品（逗号分隔）',
  'f.category': '类别', 'f.severity': '级别', 'f.description': '客户反映的内容', 'f.owner': '负责人',
  'f.note': '备注', 'f.outcome': '结果', 'f.to': '转给', 'f.reason': '原因', 'f.promised': '承诺回复时间',
  'f.options': '方案（每行一个）', 'f.option': '接受的方案', 'f.step': '步骤', 'f.compensation': '补偿',
  'f.impact': '影响', 'f.handling': '处理经过', 'f.cause': '原因', 'f.corrective': '纠正与预防措施',
  'save': '保存', 'saved': '已保存', 'cancel': '取消', 'confirm': '确认',
  'cmp.title': '投诉', 'cmp.sla': '回复时限', 'cmp.dueIn': '{d} 后到期', 'cmp.overdueBy': '已逾期 {d}',
  'cmp.acked': '已于 {d} 确认', 'cmp.onTime': '按时', 'cmp.late': '迟了',
  'cmp.provisional': '暂定：该年份没有官方节假日安排，期限仅按周一至周五计算。',
  'cmp.promised': '承诺 {d} 前回复', 'cmp.steps': '服务补救步骤', 'cmp.noSteps': '尚无补救步骤。',
  'cmp.options': '解决方案', 'cmp.accepted': '已接受', 'cmp.workflow': '下一步',
  'cmp.incident': '事故报告', 'cmp.filed': '已提交', 'cmp.missing': '未提交',
  'cmp.followups': '该投诉的回访', 'cmp.waiting': '正在等待回访排期…',
  'cmp.compensation': '补偿', 'cmp.repeat': '重复来电', 'cmp.escalatedTo': '升级给',
  'cmp.declined': '已拒绝', 'cmp.outcome': '结果', 'cmp.resolvedAt': '解决于',
  'do.acknowledgeComplaint': '确认受理', 'do.escalateComplaint': '升级', 'do.declineComplaint': '拒绝',
  'do.proposeResolution': '提出方案', 'do.acceptResolution': '接受方案', 'do.takeRecoveryStep': '补救步骤',
  'do.fileIncidentReport': '事故报告', 'do.resolveComplaint': '解决', 'do.reopenComplaint': '重新打开',
  'do.transferComplaint': '转交',
  'book.title': '客户簿', 'book.search': '搜索姓名或联系方式', 'book.stage': '阶段', 'book.tier': '等级',
  'book.owner': '客户经理', 'book.any': '全部', 'book.openOnly': '仅有未结投诉的',
  'book.filter': '筛选', 'book.total': '{n} 位客户', 'book.prev': '上一页', 'book.next': '下一页',
  'book.page': '第 {n} 页', 'book.byStage': '按阶段',
  'chart.title': '近十二个月', 'chart.funnel': '投诉 → 沉默 → 流失', 'chart.complained': '投诉', 'chart.silent': '投诉后沉默', 'chart.lost': '沉默后流失', 'chart.populations': '各月末各阶段客户数',
  'camp.title': '营销活动', 'camp.holidays': '即将到来的节日（中国）', 'camp.use': '使用', 'camp.new': '新活动',
  'camp.name': '名称', 'camp.occasion': '节日', 'camp.date': '日期', 'camp.sendAt': '当地发送时间',
  'camp.stages': '阶段', 'camp.tiers': '等级（不选：全部）', 'camp.am': '仅限客户经理', 'camp.excludeFlagged': '跳过有行为标记的客户',
  'camp.templates': '模板（第一个匹配的生效）', 'camp.template': '模板 {n}', 'camp.body': '内容',
  'camp.forStages': '适用阶段（不选：全部）', 'camp.addTemplate': '添加模板', 'camp.remove': '删除',
  'camp.preview': '预览', 'camp.previewHelp': '按当前客户簿计算，不会发送。',
  'camp.audience': '受众', 'camp.greeted': '将问候', 'camp.skipped': '跳过', 'camp.excluded': '排除',
  'camp.evaluated': '覆盖', 'camp.byChannel': '按渠道', 'camp.schedule': '排期',
  'camp.list': '活动', 'camp.none': '还没有活动。', 'camp.cancel': '取消活动', 'camp.cancelReason': '取消原因',
  'camp.sent': '已发送', 'camp.failed': '失败', 'camp.status': '状态', 'camp.createdBy': '创建人',
  'camp.custom': '自定义节日名称', 'camp.birthday': '生日', 'camp.anniversary': '注册纪念日',
  'camp.careDefault': '{{name}}您好，感谢您一直以来的支持，祝您{{occasion}}安康。',
  'camp.salesDefault': '{{name}}您好，祝您{{occasion}}快乐！',
  'err.FORBIDDEN': '您的角色无权执行此操作。', 'err.CONFLICT': '数据已被他人修改，页面已刷新。',
  'err.notFound': '未找到。', 'err.prefix': '被拒绝',
  'role.readOnly': '只读',
};

// Enum values shown to people.
const enums = {
  en: {
    NEW: 'New', ACTIVE: 'Active', LOYAL: 'Loyal', GRUMBLING: 'Grumbling', COMPLAINING: 'Complaining',
    SILENT: 'Silent', DORMANT: 'Dormant', LOST: 'Lost',
    VIP: 'VIP', GOLD: 'Gold', STANDARD: 'Standard',
    OPEN: 'Open', ACKNOWLEDGED: 'Acknowledged', ESCALATED: 'Escalated', RESOLUTION_PROPOSED: 'Resolution proposed',
    RESOLVED: 'Resolved', DECLINED: 'Declined',
    GENERAL: 'General', MAJOR: 'Major',
    RECOVERY: 'Recovery', HOLIDAY: 'Holiday', WIN_BACK: 'Win back', ROUTINE: 'Routine', REPLENISHMENT: 'Replenishment',
    COMPLAINT_REPLY: 'Complaint reply', LOYALTY_DROP: 'Loyalty drop',
    DUE: 'Due', DONE: 'Done', CANCELLED: 'Cancelled',
    SATISFIED: 'Satisfied', UNSATISFIED: 'Unsatisfied', NO_ANSWER: 'No answer',
    PHONE: 'Phone', VISIT: 'Visit', LETTER: 'Letter', EMAIL: 'E-mail', CHAT: 'Chat', WECHAT: 'WeChat', SMS: 'SMS',
    INBOUND: 'Inbound', OUTBOUND: 'Outbound',
    APOLOGY: 'Apology', URGENT_RESTORATION: 'Urgent restoration', EMPATHY: 'Empathy',
    SYMBOLIC_ATONEMENT: 'Symbolic atonement', FOLLOW_UP: 'Follow-up',
    NONE: 'None', REPEAT: 'Repeat', ADVOCATE: 'Advocate',
    SCHEDULED: 'Scheduled', RUNNING: 'Running', COMPLETED: 'Completed',
    NO_CONSENT: 'No consent', CONDUCT_FLAGGED: 'Conduct flagged', ERASED: 'Erased', NO_CHANNEL: 'No channel',
    MISSED: 'Missed', STAGE_EXCLUDED: 'Stage left out', TIER_EXCLUDED: 'Tier left out',
    ADMIN: 'Admin', ACCOUNT_MANAGER: 'Account manager', MARKETING: 'Marketing', ANALYST: 'Analyst',
  },
  zh: {
    NEW: '新客户', ACTIVE: '活跃', LOYAL: '忠诚', GRUMBLING: '抱怨', COMPLAINING: '投诉中',
    SILENT: '沉默', DORMANT: '休眠', LOST: '流失',
    VIP: 'VIP', GOLD: '金卡', STANDARD: '普通',
    OPEN: '待受理', ACKNOWLEDGED: '已受理', ESCALATED: '已升级', RESOLUTION_PROPOSED: '已提出方案',
    RESOLVED: '已解决', DECLINED: '已拒绝',
    GENERAL: '一般', MAJOR: '重大',
    RECOVERY: '补救回访', HOLIDAY: '节日', WIN_BACK: '挽回', ROUTINE: '例行', REPLENISHMENT: '补货提醒',
    COMPLAINT_REPLY: '投诉回复', LOYALTY_DROP: '忠诚度下降',
    DUE: '待办', DONE: '已完成', CANCELLED: '已取消',
    SATISFIED: '满意', UNSATISFIED: '不满意', NO_ANSWER: '未接通',
    PHONE: '电话', VISIT: '上门', LETTER: '信件', EMAIL: '邮件', CHAT: '在线', WECHAT: '微信', SMS: '短信',
    INBOUND: '来电/来访', OUTBOUND: '外呼/回访',
    APOLOGY: '道歉', URGENT_RESTORATION: '紧急修复', EMPATHY: '共情',
    SYMBOLIC_ATONEMENT: '象征性补偿', FOLLOW_UP: '跟进',
    NONE: '无', REPEAT: '回头客', ADVOCATE: '推荐者',
    SCHEDULED: '已排期', RUNNING: '发送中', COMPLETED: '已完成',
    NO_CONSENT: '未同意', CONDUCT_FLAGGED: '行为标记', ERASED: '已删除', NO_CHANNEL: '无渠道',
    MISSED: '错过', STAGE_EXCLUDED: '阶段不在内', TIER_EXCLUDED: '等级不在内',
    ADMIN: '管理员', ACCOUNT_MANAGER: '客户经理', MARKETING: '市场', ANALYST: '分析师',
  },
};

/** The language in use: the user's pick, else zh-CN when the browser asks for Chinese. */
export function lang() {
  const picked = localStorage.getItem(PICK);
  if (picked === 'en' || picked === 'zh-CN') return picked;
  const asks = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of asks) {
    const low = String(l).toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

export function pickLang(l) {
  localStorage.setItem(PICK, l);
}

const zhOn = () => lang() === 'zh-CN';

/** t looks a text up and fills {placeholders}. */
export function t(key, vars = {}) {
  const s = (zhOn() ? zh[key] : en[key]) ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** label shows an enum value (STAGE, tier, status …). */
export function label(v) {
  if (v == null) return '';
  return (zhOn() ? enums.zh[v] : enums.en[v]) ?? enums.en[v] ?? String(v);
}

/** when shows an instant in the user's timezone. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** day shows a calendar date (YYYY-MM-DD) as it is, no timezone shift. */
export function day(date) {
  if (!date) return '';
  const [y, m, d] = String(date).split('-').map(Number);
  if (!y || !m || !d) return String(date);
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
}

/** span says how long a duration in milliseconds is, roughly (2 d 3 h, 45 min). */
export function span(ms) {
  ms = Math.abs(ms);
  const min = Math.round(ms / 60000);
  const d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60), m = min % 60;
  const u = zhOn() ? { d: ' 天', h: ' 小时', m: ' 分钟' } : { d: ' d', h: ' h', m: ' min' };
  if (d > 0) return d + u.d + (h ? ' ' + h + u.h : '');
  if (h > 0) return h + u.h + (m ? ' ' + m + u.m : '');
  return m + u.m;
}

/** fractionDigits of a currency (CNY 2, JPY 0 …). */
export function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** money shows integer minor units of a currency. */
export function money(m) {
  if (!m) return '';
  const digits = fractionDigits(m.currency);
  const major = m.amountMinor / 10 ** digits;
  try {
    return new Intl.NumberFormat(lang(), { style: 'currency', currency: m.currency }).format(major);
  } catch {
    return major.toFixed(digits) + ' ' + m.currency;
  }
}

/** toMinor turns a typed amount ("19.99") into minor units of currency, or NaN. */
export function toMinor(text, currency) {
  const digits = fractionDigits(currency);
  const s = String(text).trim().replace(/,/g, '');
  if (!/^\d+(\.\d+)?$/.test(s)) return NaN;
  const [int, frac = ''] = s.split('.');
  if (frac.length > digits) return NaN;
  return Number(int) * 10 ** digits + Number((frac + '0'.repeat(digits)).slice(0, digits) || 0);
}

/** num shows a number in the user's locale. */
export function num(n, digits = 0) {
  if (n == null) return '';
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}
