"""The lines around a headline that Chinese portals write for people, not
machines: 来源/稿源 (the outlet), 作者/记者/撰文 (the author), 责任编辑/编辑
(the editors) and the publication time, plus English bylines.

Labels are only believed near the article — between the headline and the
body, and just after the body — because the same words appear all over a
portal (copyright notices say 来源：XXX, sidebars list other articles)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.extract.dates import DATE_HINT, looks_dated
from feedsvc.extract.outlet_names import KnownOutlets, default_outlets
from feedsvc.extract.tree import Run, char_len, class_id, is_cjk_text
from feedsvc.parsers.text import squash

_SEP = r"\s*[:：︰]\s*"
_LOOSE_SEP = r"\s*[:：︰︱｜|/／]\s*"  # 文/张三, 作者︱春春
_LABELS = re.compile(
    r"(?P<outlet>(?:来源|稿源|来自|出处|转自|新闻来源|信息来源|文章来源|本文来源)" + _SEP
    + r"|(?:本文|文章|稿件)?来源于\s*[:：]?\s*)"
    r"|(?P<editor>(?:责任编辑|责编|值班编辑|编辑|责任编缉|编审|审核|校对)" + _SEP + r")"
    r"|(?P<author>(?:(?<![\u4e00-\u9fff])文|作者|撰文|撰稿|撰稿人|记者|采写|通讯员|执笔|执笔人)" + _LOOSE_SEP + r")"
    # The issuing body of a government document (政府信息公开 tables): its
    # author when no person signs it.
    r"|(?P<issuer>(?:发文机关|发文单位|发布机关|发布机构|发文机构)" + _SEP + r")",
)
_DATE_LABEL = re.compile(r"(?:发布|发表|出版|发稿)(?:时间|日期)" + _SEP)
# Where a label's value ends: another label, a bracket, a date, or one of
# the widgets that sit on the same line.
_VALUE_END = re.compile(
    r"[\]】)）|｜<>「」\[【(（]|(?:19|20)\d\d[-/.年]|\d{1,2}月\d|\d{1,2}:\d\d"
    r"|(?:发布|时间|日期|字号|打印|分享|举报|评论|收藏|浏览|阅读|点击|参与|关注|原标题|手机看)"
)
_EDITOR_CODE = re.compile(r"_[A-Za-z]*\d[A-Za-z0-9]*$")  # 杨倩_NF4425: the portal's staff id
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}")
# Characters that almost never occur in a personal name but do in the
# words that follow 记者 in running text (记者发现, 记者从…了解到).
_NOT_NAME = set("的了在是从向对说问到也就都而及与将已被把这那们时后日月年表示获悉发现解看采访调查注意梳理走访致电得知询证实介绍称曾还又再并或我你他她它会")
_BYLINE = re.compile(
    r"(?:记者|通讯员|撰文|作者)\s*[:：]?\s*"
    r"(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、,，和]+[\u4e00-\u9fff·]{2,4}){0,4})"
    r"(?=[\s）)】\]/|,，。、]|发自|报道|摄|电|综合|$)"
)
# A credit closing the article: （姚峰 上海报道）, (张三 李四), （记者 王五）.
_CLOSING_CREDIT = re.compile(
    r"[（(]\s*(?:记者|作者|文)?\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、,，]+[\u4e00-\u9fff·]{2,4}){0,4})"
    r"(?:\s*[\u4e00-\u9fff]{0,4}(?:报道|电|摄|整理|编译))?\s*[)）]\s*$"
)
_EN_BY = re.compile(r"^\s*by\s+", re.I)
_BYLINE_CLASS = re.compile(r"byline|author|writer|reporter|editor-name")


@dataclass
class Found:
    value: str | tuple
    run: Run | None = None


def _clip(value: str) -> str:
    end = _VALUE_END.search(value)
    return squash(value[: end.start()] if end else value)


# Words that sit among names without being one: roles (赵雪、通讯员、刘丽),
# channels and the portal's own name in an author slot, and verbs a label
# runs into (作者通过…).
_ROLE = re.compile(r"^(?:本报|本台|本网|特约|见习|实习|首席|驻站|摄影)?(?:记者|通讯员|实习生|摄影|编辑|主持人|摄像)")
_NOT_PERSON = {
    "通过", "表示", "报道", "介绍", "综合", "整理", "编译", "来源", "转载", "原创", "本网", "本报", "本台", "本站", "网络",
    "佚名", "未知", "匿名", "网友", "小编", "房产", "财经", "科技", "体育", "娱乐", "汽车", "教育", "健康", "旅游",
    "时尚", "军事", "国际", "国内", "社会", "本地", "新闻", "时政", "文化", "游戏", "数码", "手机", "家居", "美食",
    "评论", "视频", "图片", "专题", "股票", "基金", "理财", "资讯", "频道",
}
_CODE = re.compile(r"[A-Za-z]{1,6}\d{1,8}|\d+")  # PK155, an editor's staff code


def is_person(token: str) -> bool:
    """Whether a token in an author or editor slot can be a person's name."""
    return bool(token) and "@" not in token and token not in _NOT_PERSON and not _CODE.fullmatch(token) \
        and not _ROLE.fullmatch(token) and not default_outlets().is_outlet(token)


def _names(value: str, limit: int = 5) -> tuple[str, ...]:
    """Names from a label's value: Chinese names are 2–4 characters
    separated by spaces or 、; role words, codes and e-mail addresses among
    them are skipped; stop at the first other token that is no name."""
    names = []
    for token in re.split(r"[\s、,，;；/]+", value):
        token = _EDITOR_CODE.sub("", token.strip("　 ·.。"))
        if _ROLE.match(token) and _NAME.fullmatch(_ROLE.sub("", token) or "-"):
            token = _ROLE.sub("", token)  # 通讯员刘丽
        if not token or _ROLE.fullmatch(token) or "@" in token or _CODE.fullmatch(token):
            continue
        if token in _NOT_PERSON or default_outlets().is_outlet(token):
            break
        if is_cjk_text(token) and (not _NAME.fullmatch(token) or set(token) & _NOT_NAME):
            break
        names.append(token)
        if len(names) == limit:
            break
    return tuple(names)


def _outlet(value: str) -> str | None:
    value = _clip(value.strip().lstrip("[【(（《<「 ").replace("》", " "))
    if is_cjk_text(value):
        value = value.split(" ")[0]  # Chinese outlet names have no spaces
    value = value.strip("　 .。,，;；:：")
    if default_outlets().is_placeholder(value):  # 来源：转载文章 names nobody
        return None
    return value if 1 < char_len(value) <= 30 else None


def labelled(runs: list[Run], backwards: bool = False) -> dict[str, Found]:
    """The first outlet, author, editors and issuer labelled within `runs` (the
    last ones with `backwards`, for when the body's start is the anchor)."""
    found: dict[str, Found] = {}
    order = range(len(runs) - 1, -1, -1) if backwards else range(len(runs))
    for index in order:
        run = runs[index]
        text = run.text
        if char_len(text) > 160:  # a label line, not prose quoting one
            continue
        matches = list(_LABELS.finditer(text))
        for i, match in enumerate(matches):
            kind = match.lastgroup
            if kind in found:
                continue
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            value = text[match.end():end].strip()
            if not value and i + 1 == len(matches) and index + 1 < len(runs):
                value = runs[index + 1].text if char_len(runs[index + 1].text) <= 30 else ""
            parsed = _outlet(value) if kind in ("outlet", "issuer") else _names(_clip(value))
            if parsed:
                found[kind] = Found(parsed, run)
    return found


def byline(runs: list[Run], backwards: bool = False) -> Found | None:
    """记者 张三 / （记者 张三 李四）/ 本报记者张三报道 in the given runs."""
    for run in reversed(runs) if backwards else runs:
        if run.link_chars * 2 > char_len(run.text):  # a link to 记者训练营 is no byline
            continue
        for match in _BYLINE.finditer(run.text):
            names = _names(match.group("names"))
            if names:
                return Found(names, run)
    return None


# sohu-style date lines name the author in brackets: 2004年7月16日08:19 [ 黄宇 ].
_BRACKETED = re.compile(r"[\[【]\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:\s+[\u4e00-\u9fff·]{2,4}){0,3})\s*[\]】]")


def bracketed_name(run: Run | None) -> Found | None:
    if run is None:
        return None
    for match in _BRACKETED.finditer(run.text):
        names = _names(match.group("names"))
        if names and not _LABELS.search(run.text[max(0, match.start() - 4): match.start()]):
            return Found(names, run)
    return None


def closing_credit(runs: list[Run]) -> Found | None:
    for run in reversed(runs):
        match = _CLOSING_CREDIT.search(run.text)
        names = _names(match.group("names")) if match else ()
        if names:
            return Found(names, run)
    return None


def english_byline(root) -> str | None:
    """A short element whose class says byline/author, e.g. 'By Jane Doe'."""
    for el in root.iter("span", "div", "p", "a", "address"):
        if el.get("rel") == "author" or _BYLINE_CLASS.search(class_id(el)) or el.get("itemprop") == "author":
            text = squash(el.text_content())
            if 2 < len(text) <= 80 and not re.search(r"\d{4}|[:：]", text):
                return _EN_BY.sub("", text)
    return None


# A dateline that opens with its byline: "By ZHAO LEI in Qingdao | China Daily | Updated: 2019-10-22 07:33".
_BY_ON_DATELINE = re.compile(r"^\s*by\s+(?P<names>[^|｜\d]+?)(?:\s+in\s+[A-Z][^|｜\d]*)?\s*(?:[|｜]|$)", re.I)


def byline_on(run: Run | None) -> str | None:
    match = _BY_ON_DATELINE.match(run.text) if run is not None else None
    return match.group("names") if match else None


def clean_author(text: str | None) -> str | None:
    """'By A, B, and C, CNN' → 'A, B, C': names only, without the
    agency that often trails an English byline."""
    if not text:
        return None
    parts = [p.strip() for p in re.split(r",|;|\band\b|&", _EN_BY.sub("", squash(text))) if p.strip()]
    names = [p for p in parts if not re.fullmatch(r"[A-Z]{2,6}", p) and is_person(p)]
    value = ", ".join(names)
    return value if 1 < len(value) <= 120 else None


def dated_runs(runs: list[Run], backwards: bool = False) -> list[tuple[Run, str]]:
    """Runs that may hold the publication time, with the text after any
    发布时间: label (so 成文日期 before it does not win). Prose is not a
    date line: a long run counts only if it starts with its date."""
    out = []
    for run in reversed(runs) if backwards else runs:
        text = run.text
        if char_len(text) > 80 and not looks_dated(text[:24]):
            continue
        label = _DATE_LABEL.search(text)
        out.append((run, text[label.end():] if label and label.end() < len(text) else text))
    return out


_NAME_SPLIT = re.compile(r"[\s|｜/·•⋅,，、()（）\[\]【】:：]+|作者|记者|编辑|来源|稿源")
# A lead that opens with its outlet: 新浪科技讯 北京时间…, 北京商报讯（记者 …）, 新华社北京5月20日电.
_LEAD_OUTLET = re.compile(r"^[\s（(【\[]*(?P<name>[\u4e00-\u9fffA-Za-z0-9]{2,12}?)"
                          r"(?:讯|消息|[\u4e00-\u9fff]{2,4}\d{1,2}月\d{1,2}日电)")


def outlet_beside(runs: list[Run], index: int | None, known: KnownOutlets) -> Found | None:
    """An unlabelled outlet on the article's date line or the line next to it
    (<span>中国网</span> <span>2019-11-25 10:37</span>): a name the outlet
    directory knows, so a reporter's name or a channel is never taken."""
    if index is None:
        return None
    for near in (index, index - 1, index + 1):
        if not 0 <= near < len(runs) or char_len(runs[near].text) > 60:
            continue
        text = DATE_HINT.sub(" ", runs[near].text)
        segments = [s.strip() for s in re.split(r"[|｜]", text)]  # By A | China Daily | Updated: …
        for token in segments + _NAME_SPLIT.split(re.sub(r"\d{1,2}:\d\d(?::\d\d)?|\d+", " ", text)):
            if known.is_outlet(token):
                return Found(token, runs[near])
    return None


def lead_outlet(runs: list[Run], known: KnownOutlets) -> Found | None:
    """新浪科技讯 … at the start of the body's first lines."""
    for run in runs[:2]:
        match = _LEAD_OUTLET.match(run.text)
        if match and known.is_outlet(match.group("name")):
            return Found(match.group("name"), run)
    return None


# The commonest Chinese surnames, for telling a reporter written into a 来源
# slot (来源: 尹娟) from an outlet the directory does not know yet.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易"
    "乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴"
    "蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边"
    "卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_ORG_END = re.compile(r"(?:网|报|社|台|刊|站|号|局|厅|部|委|院|会|省|市|县|区|馆|所|中心|新闻|在线|频道|传媒|集团|公司|杂志|讯)$")
_PLACES = {"江苏", "江西", "湖南", "湖北", "河南", "河北", "山东", "山西", "广东", "广西", "海南", "安徽", "福建", "浙江",
           "云南", "贵州", "四川", "陕西", "甘肃", "青海", "宁夏", "新疆", "西藏", "辽宁", "吉林", "北京", "天津", "上海",
           "重庆", "香港", "澳门", "台湾", "黑龙江", "内蒙古", "全国", "国内", "海外", "中央"}
_PUBLICATION = re.compile(r"《(?P<name>[^》]{2,20})》")


def looks_like_person(name: str, known: KnownOutlets) -> bool:
    """A two- or three-character name with a common surname that is no
    outlet, place or organisation."""
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name)) and name[0] in _SURNAMES and name not in _PLACES \
        and not _ORG_END.search(name) and not known.is_outlet(name) and is_person(name)


def publication_on(run: Run | None) -> str | None:
    """A publication named in 《》 on the date line: 2005年03月21日 《理财周刊》."""
    match = _PUBLICATION.search(run.text) if run is not None else None
    return match.group("name") if match and not default_outlets().is_placeholder(match.group("name")) else None
