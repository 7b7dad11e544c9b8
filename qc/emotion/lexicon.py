"""Domain lexicons for contact-centre calls: what review-trained models get wrong.

Each list is plain data so a reviewer can read (and a team can extend) it. Cue words are
matched on the text; the risk and agent-temper cues are also matched on toneless pinyin so an
ASR homophone (工信部 heard as 公信不) still fires (risk cues only on word boundaries).
"""

from __future__ import annotations

__all__ = [
    "POLITE_FORMULAS",
    "ANGER",
    "URGENCY",
    "ESCALATION",
    "AGENT_RUDE",
    "POSITIVE",
    "NEGATORS",
    "INTENSIFIERS",
    "QUESTION_MARKERS",
    "RISK_CUES",
    "RISK_HANDLES",
    "RISK_UNLESS_IN",
    "RISK_SOUND",
    "RISK_NAMES_ONLY",
    "RISK_CONTEXT",
    "RISK_CONTEXT_WINDOW",
    "RISK_NOT_AFTER",
    "RISK_NOT_AFTER_WINDOW",
    "COMPLAINT_CUES",
    "COMPLAINT_UNLESS_IN",
    "COMPLAINT_TYPES",
    "SERIOUS_QUALITY",
]

# Service formulas: greetings, identity checks, apologies, thanks. Their words (抱歉, 不便,
# 麻烦, 问题) read as negative to a review model but are courtesy on a call, so they are masked
# before the model sees the utterance.
POLITE_FORMULAS: tuple[str, ...] = (
    "您好", "你好", "很高兴为您服务", "有什么可以帮您", "有什么可以帮到您", "有什么能帮您",
    "请问", "麻烦您", "麻烦你", "麻烦报", "麻烦提供", "请提供", "请稍等", "稍等一下", "稍等", "请您",
    "非常抱歉", "很抱歉", "抱歉", "对不起", "不好意思", "给您带来不便", "带来不便", "给您添麻烦了",
    "敬请谅解", "请您谅解", "请谅解", "理解您的心情", "理解您", "感谢您的来电", "感谢您的耐心等待",
    "感谢您的耐心", "感谢您的理解", "感谢您", "谢谢您", "谢谢", "再见", "祝您生活愉快", "祝您",
    "还有其他问题吗", "还有什么问题吗", "还有其他可以帮您的吗", "还有什么可以帮您", "请问还有其他",
    "是否还有其他", "核实一下", "帮您核实", "帮您查询", "帮您查一下", "为您查询", "机主本人",
    "身份证后四位", "身份证号", "身份证", "验证一下", "确认一下", "请保持电话畅通", "稍后回复您", "尽快为您处理",
    "为您登记", "帮您记录", "帮您反馈", "请您放心", "您放心", "请问您贵姓", "满意度评价", "核实身份",
    "核实您的身份", "请您耐心等待", "让您久等了", "久等了", "这里是", "客服中心", "客服代表", "客服专员",
    "工号", "为您服务",
    # identity checks in the other words IDEN01 takes
    "登记的姓名", "登记的名字", "开户时登记", "预留的手机号", "出生日期", "持卡人", "户主", "本人名下",
    "机主是您", "请说一下", "请报一下", "核对一下", "查询密码",
)

# Customer anger and dissatisfaction that reviews rarely contain.
ANGER: tuple[str, ...] = (
    "太差了", "太差劲", "差劲", "垃圾", "骗子", "骗人", "坑人", "忽悠", "什么玩意", "搞什么",
    "怎么回事", "到底怎么", "到底能不能", "到底要", "凭什么", "有没有搞错", "受够了", "气死", "生气",
    "愤怒", "恶心", "无语", "不像话", "太过分", "过分", "欺负人", "不讲理", "耍我", "糊弄", "敷衍",
    "推卸", "推诿", "踢皮球", "不负责任", "没人管", "没人处理", "不满意", "很不满", "非常不满",
    "失望", "离谱", "扯皮", "强烈要求", "赔偿", "退钱", "还钱", "乱扣费", "乱收费", "莫名其妙",
    "一直没有解决", "还没解决", "没解决", "说了多少遍", "好几次了", "多少次了", "你们这是",
    "他妈", "tmd", "黑心", "霸王条款", "坑爹", "什么态度", "态度差",
    "态度恶劣", "投诉",
)

# Time pressure.
URGENCY: tuple[str, ...] = (
    "马上", "立刻", "立即", "赶紧", "尽快", "急死", "着急", "等不了", "今天必须", "必须今天",
    "十万火急", "耽误", "等了半天", "等了好久", "等了一个", "等了两", "等了三",
)

# Escalation: the customer goes over the agent's head.
ESCALATION: tuple[str, ...] = (
    "投诉你", "投诉你们", "我要投诉", "我要举报", "举报", "找你们领导", "叫你们领导", "找领导",
    "找你们经理", "找经理", "你的工号", "你工号多少", "报一下你的工号", "上级", "销户", "退网",
    "换运营商", "再也不用", "曝光", "找媒体", "律师", "起诉", "12315", "工信部",
)

# Agent lines that show irritation or rudeness (agent_lost_temper).
AGENT_RUDE: tuple[str, ...] = (
    "你听不懂吗", "听不懂吗", "听不懂人话", "你听不懂", "我已经说过了", "我说过了", "已经跟你说了",
    "跟你说了多少遍", "说了多少遍", "说多少遍", "爱投诉投诉去", "爱投诉就投诉", "你去投诉吧", "随便你投诉",
    "你投诉也没用", "投诉也没用", "随便你", "你爱怎么", "不关我的事", "关我什么事", "跟我没关系",
    "你自己看", "你自己去查", "自己不会看吗", "你烦不烦", "烦不烦", "有完没完", "你到底想怎样",
    "你到底想干什么", "没办法就是没办法", "就是这样规定的", "我也没办法", "你有本事", "有本事你",
    "你懂不懂", "你是不是傻", "别跟我", "你吼什么", "你喊什么", "我不管", "爱办不办", "爱用不用",
    "你这人", "少废话", "闭嘴", "你能不能听我说完",
)

POSITIVE: tuple[str, ...] = (
    "谢谢", "感谢", "太好了", "好的好的", "满意", "解决了", "明白了", "清楚了", "辛苦了", "挺好",
    "很好", "不错", "放心了", "行行", "可以可以",
)

NEGATORS: tuple[str, ...] = ("不", "没", "没有", "别", "无", "未", "不是", "不会", "并不", "不用")

INTENSIFIERS: tuple[str, ...] = (
    "太", "非常", "特别", "极其", "十分", "真的", "简直", "实在", "超级", "根本", "一直", "完全", "老是",
    "总是", "每次",
)

QUESTION_MARKERS: tuple[str, ...] = ("吗", "呢", "么", "请问", "是否", "是不是", "能不能", "可不可以", "有没有", "多少", "什么时候", "哪")

# Risk cues. One table for the one risk detector, the rules (rules/risk.yaml: `type: risk_cue,
# kind: ...`), whose findings are the call's risk flags; the emotion stage's complaint grade reads
# it too. For each kind:
#   RISK_CUES        phrases said in the text (matched on normalised text: simplified, no punctuation,
#                    Chinese numerals as digits; digit cues never match inside a longer number);
#   RISK_HANDLES     words that make an @account (a tagged Weibo/Douyin account) one of this kind;
#   RISK_UNLESS_IN   longer phrases in which a cue is not a threat (警告你们 holds 告你们).
# Cues in RISK_SOUND are also matched by toneless pinyin (ASR homophones: 工信部 heard as 公信不),
# but only when the sound-alike span starts and ends on jieba word boundaries and is not itself a
# dictionary word (so 转发原 is not 法院, 还没起床 not 煤气, 重度 not 中毒).
RISK_CUES: dict[str, tuple[str, ...]] = {
    "media": (
        "曝光", "暴光", "找媒体", "联系媒体", "告诉媒体", "让媒体", "上媒体", "媒体上", "媒体报道", "找记者", "叫记者",
        "记者", "电视台", "报社", "上电视", "上新闻", "上头条", "上热搜", "要发微博", "去发微博", "就发微博",
        "多发微博", "发微博曝光", "在微博投诉", "微博上投诉", "发到微博", "发到网上", "发网上",
        "放到网上", "挂到网上", "挂网上", "贴到网上", "要发朋友圈", "就发朋友圈", "发到朋友圈", "要发抖音", "发到抖音",
        "让大家看看", "让大家都知道", "让大家知道", "让所有人知道", "让更多人知道", "让别人知道", "公之于众",
        "求扩散", "帮我扩散", "帮忙扩散", "扩散出去", "转发扩散", "求转发", "帮忙转发", "帮我转发", "大家转发",
        "转发出去", "关注转发", "评理转发", "劝告大家", "劝阻", "好好宣传", "315晚会", "315曝光", "曝光台", "焦点访谈",
        "黑猫投诉", "爆料", "人民日报", "人民网", "新华社", "央视", "cctv", "新京报", "澎湃新闻", "南方都市报",
        "头条新闻", "新浪新闻", "法制晚报", "北京晚报", "消费者报道", "中国消费者报", "消费者日报",
    ),
    "regulator": (
        "12315", "12345", "12300", "12321", "工信部", "工业和信息化部", "信息产业部", "部长信箱", "局长邮箱",
        "消协", "消费者协会", "消保委", "消委会", "消费者委员会", "银保监", "银监会", "保监会", "证监会", "金融监管",
        "人民银行", "市场监管", "市场监督管理", "工商局", "工商部门", "工商行政", "到工商", "找工商", "通信管理局",
        "通管局", "电信管理局", "民航局", "物价局", "市长热线", "监管部门", "有关部门管理",
    ),
    "lawyer": (
        "律师", "律师函", "起诉", "法院", "打官司", "吃官司", "诉讼", "法律途径", "法律手段", "走法律", "法庭", "仲裁",
        "告你们", "去告你", "要报警", "就报警", "会报警", "去报警", "我报警", "电话报警",
    ),
    "privacy": (
        "泄露", "泄漏", "泄密", "个人信息", "身份信息", "隐私", "信息被卖", "卖我的信息", "信息走失", "冒用", "冒名",
        "盗用", "盗号", "账号被盗", "号被盗", "卡被盗", "盗刷", "身份证被", "得知我的", "我的信息被", "我的资料被",
        "个人资料",
    ),
    "safety": (
        "爆炸", "着火", "起火", "失火", "火灾", "冒烟", "自燃", "漏电", "触电", "电到人", "被电到", "电到了", "烫伤",
        "烧伤", "砸伤", "炸伤", "受伤", "人身安全", "安全隐患", "出人命", "危及生命", "食物中毒", "煤气中毒",
        "一氧化碳", "中毒住院", "燃气泄漏", "煤气泄漏", "天然气泄漏", "漏气", "电池鼓包", "过敏", "送医院",
    ),
}

# @account names: a word here makes a tagged account one of the kind (regulator words are checked
# first, so @12315消费者维权 is a regulator and @CCTV315 a medium).
RISK_HANDLES: dict[str, tuple[str, ...]] = {
    "regulator": (
        "12315", "12345", "12321", "12300", "工信", "工业和信息化部", "工商", "消协", "消保", "消费者协会", "消费者委员会",
        "消委会", "市场监管", "市场和质量监管", "质监", "通信管理局", "通管局", "民航局", "政府", "市长", "信访", "银监",
        "保监", "证监", "人民银行", "物价", "监管",
    ),
    "media": (
        "新闻", "日报", "晚报", "早报", "晨报", "时报", "商报", "都市报", "快报", "特区报", "报社", "电视台", "卫视",
        "广播", "之声", "经视", "财经", "头条", "爆料", "曝光", "315", "消费者报", "投诉网", "在线投诉", "投诉平台",
        "维权", "人民网", "新华社", "新华网", "央视", "cctv", "btv", "stv", "焦点访谈", "新京报", "澎湃", "夜线", "广角", "记者",
    ),
}

RISK_UNLESS_IN: dict[str, tuple[str, ...]] = {
    "media": ("不怕隐私曝光", "头条博客", "必要发微博", "要不要发微博", "不要发微博"),
    "regulator": ("工商银行", "工商卡", "工商局长"),
    "lawyer": ("告你们一声", "警告你们", "广告你们", "转告你们", "报告你们", "劝告你们", "通告你们", "公告你们", "让我报警", "让我们报警", "叫我报警", "叫我们报警", "建议报警", "建议您报警"),
    "privacy": ("隐私设置", "隐私权限", "不怕隐私", "修改个人信息", "完善个人信息", "个人信息设置"),
    "safety": ("一起火", "很受伤", "好受伤", "受伤害", "气爆炸", "要爆炸了", "快爆炸了", "心脏"),
}

# Cues that only *name* a medium, a regulator, a court or personal data. Named, they are news,
# a citation or a question (「今天早上的央视新闻」, 「这样符合工信部的法规吗」, 「法院的刑事文书」,
# 「电信保护顾客隐私」); they raise a flag only with context in the same line:
#   media      a complaint cue (COMPLAINT_CUES) or a grievance or action word (RISK_CONTEXT["media"]: a
#              question why, a demand, something not done, 联系) anywhere in the line, outside tagged
#              accounts: a customer tagging a newspaper while complaining goes public, one tagging
#              a local paper to ask where to buy saplings does not (tagged media @accounts follow
#              the same test);
#   others     one of RISK_CONTEXT[kind] within RISK_CONTEXT_WINDOW characters before the name
#              or after it (投诉到工信部, 找律师, 上法院, 我的个人信息被泄露).
RISK_NAMES_ONLY: dict[str, tuple[str, ...]] = {
    "media": (
        "记者", "电视台", "报社", "315曝光", "曝光台", "焦点访谈", "黑猫投诉", "爆料", "人民日报", "人民网", "新华社", "央视",
        "cctv", "新京报", "澎湃新闻", "南方都市报", "头条新闻", "新浪新闻", "法制晚报", "北京晚报", "消费者报道",
        "中国消费者报", "消费者日报", "315晚会", "帮我转发", "帮忙转发", "大家转发", "放到网上", "劝阻",
    ),
    "regulator": (
        "工信部", "工业和信息化部", "信息产业部", "消协", "消费者协会", "消保委", "消委会", "消费者委员会", "银保监",
        "银监会", "保监会", "证监会", "金融监管", "人民银行", "市场监管", "市场监督管理", "工商局", "工商部门", "工商行政",
        "通信管理局", "通管局", "电信管理局", "民航局", "物价局", "监管部门", "有关部门管理",
    ),
    "lawyer": ("法院", "法庭"),  # 律师, 诉讼, 仲裁 are said as threats; a court is often cited
    "privacy": ("个人信息", "身份信息", "隐私", "个人资料"),
}
RISK_CONTEXT: dict[str, tuple[str, ...]] = {
    # besides a complaint cue: a grievance put as a question or a demand, an unmet expectation
    "media": ("为什么", "为何", "凭什么", "怎么", "?", "？", "请", "求", "要求", "解决", "说法", "还没", "没有", "不能", "无法", "一直", "不好",
              "严重", "上当", "联系", "告诉", "投稿"),
    "regulator": (
        "投诉", "举报", "反映", "反应", "申诉", "告", "找", "打", "拨", "去", "到", "向", "给", "上报", "报给", "联系",
        "求助", "写信", "维权", "12315", "12345", "曝光", "热线", "电话", "信箱", "邮箱", "网站",
    ),
    "lawyer": ("找", "请", "去", "上", "到", "走", "提起", "通过", "向", "告", "发", "见", "咨询", "委托"),
    "privacy": (
        "泄露", "泄漏", "外泄", "泄密", "被卖", "出卖", "倒卖", "卖给", "卖了", "被盗", "盗用", "冒用", "侵犯", "暴露", "流出",
        "被人", "被别人", "知道我", "得知", "拿到", "获取", "窃取", "骚扰",
    ),
}
RISK_CONTEXT_WINDOW = 8

# Words just before a cue (RISK_NOT_AFTER_WINDOW characters) that make it no report of the
# customer's own: a fear or a precaution (「怕…导致客户信息泄露」), a hazard seen elsewhere
# (「看见饭店着火」), a figure of speech (「小心脏…会爆炸」).
RISK_NOT_AFTER_WINDOW = 12
RISK_NOT_AFTER: dict[str, tuple[str, ...]] = {
    "privacy": ("怕", "以免", "防止", "避免", "防范", "保护"),
    "safety": ("看见", "看到", "听说", "新闻", "报道", "心脏", "脑袋", "肺都"),
}

# Cues matched by sound as well as text: names and terms of three or more Chinese characters. A
# two-syllable sound-alike is too often two everyday words (律师 ~ 驴屎, 着火 ~ 这货, 冒用 ~ 毛用,
# 记者 ~ 记着), and so is a phrase built of pronouns and verbs (告你们 ~ 高你们), so those match by
# text only, with common misspellings listed as cues (暴光).
_FUNCTION_CHARS = frozenset("你我他她们要就去会让在的了把被给上找叫帮求多再好到告发放挂贴")
RISK_SOUND: frozenset[str] = frozenset(
    c for cues in RISK_CUES.values() for c in cues
    if len(c) >= 3 and all("\u4e00" <= ch <= "\u9fff" and ch not in _FUNCTION_CHARS for ch in c)
)

# A complaint: the customer shows dissatisfaction with the company, its product or its service (a
# negative judgement, anger, a grievance about delay or repeated failure, a demand for money back).
# A neutral question or a first fault report is not one. EMPA01's trigger (condition complaint_cue)
# and the emotion stage's complaint read this one list.
COMPLAINT_CUES: tuple[str, ...] = (
    # judgement and anger
    "太差", "很差", "真差", "好差", "这么差", "那么差", "差劲", "极差", "太烂", "真烂", "好烂", "就是烂", "烂透", "破电视", "破手机", "破网",
    "破软件", "破服务", "什么破", "糟糕", "垃圾", "坑人", "坑钱", "坑爹", "好坑", "太坑", "坑了", "被坑", "坑消费者",
    "骗子", "骗人", "骗钱", "欺骗", "欺诈", "忽悠", "流氓", "霸王条款", "黑心", "无耻", "可耻", "要点脸", "不要脸",
    "恶心", "无语", "醉了", "服了", "离谱", "扯淡", "扯皮", "搞什么", "什么鬼", "什么玩意", "什么态度", "态度差",
    "态度恶劣", "态度太", "气死", "气人", "太气", "气煞", "生气", "愤怒", "恼火", "火大", "郁闷", "不爽", "烦死",
    "受够", "忍无可忍", "受不了", "崩溃", "失望", "心寒", "寒心", "不满", "差评", "太过分", "过分", "欺负", "不讲理",
    "凭什么", "有没有搞错", "不像话", "莫名其妙", "不靠谱", "靠点谱", "不负责", "推卸", "推诿", "推脱", "踢皮球",
    "敷衍", "搪塞", "糊弄", "套话", "不作为", "摆设", "尼玛", "你妹", "卧槽", "他妈", "tmd", "nmd", "草泥马",
    "不当人", "吐槽", "骂", "沙雕", "有啥用", "有什么用", "屁用", "出来说句话", "不会再爱", "再也不用", "再也不买", "千万别用", "不要用", "换移动", "投诉", "维权",
    # unresolved, slow, repeated
    "没解决", "不解决", "没有解决", "解决不了", "还没好", "还没修", "没人管", "没人处理", "没人理", "不理", "没人接",
    "打不进", "没有回复", "没回复", "不回复", "一直没", "还没到", "还没有到", "还没收到", "还没发", "还没寄", "还没来",
    "怎么还没", "假货", "不公平", "不高兴", "骚扰",
    "等了", "好几天", "好几次", "多少次", "无数次", "又坏", "又出", "又开始", "效率", "太慢", "这么慢", "慢死",
    "拖到", "拖延", "一拖再拖", "遥遥无期", "至今", "催促", "催了", "繁忙", "那么难", "这么难",
    # money
    "乱收费", "乱扣", "多扣", "扣错", "偷流量", "偷跑", "吸费", "退钱", "还钱", "赔偿", "补偿", "给个说法", "给我个说法",
    "求个说法", "讨个说法", "给个解释", "给我一个解释",
)

# An occurrence inside one of these is not a complaint (asking what an error means, praise).
COMPLAINT_UNLESS_IN: tuple[str, ...] = (
    "想问下怎么回事", "想问一下怎么回事", "请问这是怎么回事", "请问是怎么回事", "效率很高", "效率高", "效率真高",
    "投诉电话", "投诉渠道", "不差", "客服了", "服务了", "没有失望", "不失望", "不过分", "不会不满",
)

# Complaint type -> cue words. The type with the most (weighted) cue hits in the customer's lines
# wins; @accounts are left out first (every Weibo customer tags a 客服 account).
COMPLAINT_TYPES: dict[str, tuple[str, ...]] = {
    "service": (
        "态度", "服务态度", "骂", "不理", "推诿", "推脱", "敷衍", "踢皮球", "搪塞", "套话", "不耐烦", "挂电话", "挂我电话",
        "没人接", "打不通", "打不进", "接通", "人工", "繁忙", "回电", "回复", "承诺", "答应", "失信", "业务员", "营业员",
        "工作人员", "快递员", "客服说", "客服人员", "瞎话", "谎", "解释", "不当人", "骚扰", "广告", "劫持", "通知",
        "专业", "素质", "私信", "不作为",
    ),
    "product": (
        "质量", "坏了", "坏点", "又坏", "故障", "信号", "网速", "网络", "断网", "掉线", "上不了网", "不能用", "用不了",
        "打不开", "进不去", "闪退", "死机", "卡顿", "很卡", "太卡", "黑屏", "bug", "屏幕", "耗电", "发热", "电池",
        "系统", "更新", "服务器", "登陆", "登录", "破损", "损坏", "漏水", "异味", "过期", "变质", "假货", "残次", "宽带",
        "电视", "手机", "设备", "产品", "热水器", "充电器", "漏电", "冒烟", "虫", "生物", "视频", "软件", "app",
    ),
    "environment": (
        "环境", "噪音", "卫生", "脏", "排队的人", "很乱", "太吵", "停车", "门店环境", "营业厅环境", "味道",
    ),
    "price": (
        "扣费", "收费", "乱收费", "扣钱", "多扣", "扣了", "乱扣", "价格", "太贵", "很贵", "好贵", "退款", "退钱", "还钱",
        "话费", "套餐费", "费用", "账单", "资费", "流量费", "月租", "违约金", "利息", "手续费", "年费", "赔偿", "补偿",
        "优惠", "活动", "返还", "赠送", "欠费", "充值", "缴费", "交费", "交钱", "付了", "超出", "超了", "坑钱", "骗钱",
        "偷流量", "偷跑", "吸费", "元", "块钱",
    ),
    "process": (
        "流程", "手续", "排队", "排号", "办理", "审核", "转来转去", "转接", "工单", "进度", "处理结果", "时效", "几天了",
        "催", "效率", "太慢", "安装", "报修", "维修", "上门", "预约", "销号", "携号转网", "归属地", "变更", "政策",
        "规定", "材料", "跑了", "跑去", "营业厅", "申请", "等了", "至今", "拖",
    ),
}

# Serious quality problems (高度紧急 without a safety or media risk).
SERIOUS_QUALITY: tuple[str, ...] = (
    "完全不能用", "根本用不了", "一直用不了", "好几天了", "断网", "没信号", "大面积", "批量", "全部坏了",
    "重大", "严重", "损失", "耽误了", "钱被扣", "盗刷", "资金", "财产", "赔偿", "过期", "变质", "假货",
)
