"""The lines around a headline that Chinese portals write for people, not
machines: 来源/稿源 (the outlet), 作者/记者/撰文 (the author), 责任编辑/编辑
(the editors) and the publication time, plus English bylines.

Labels are only believed near the article — between the headline and the
body, and just after the body — because the same words appear all over a
portal (copyright notices say 来源：XXX, sidebars list other articles)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.parsers.dates import DATE_HINT, looks_dated
from feedsvc.extract.tree import Run, class_id
from feedsvc.parsers.labels import LABELS as _LABELS, clip as _clip, is_person, names as _names, outlet_name as _outlet, segments
from feedsvc.parsers.outlet_names import KnownOutlets, default_outlets
from feedsvc.parsers.text import char_len, squash

_SEP = r"\s*[:：︰]\s*"
_DATE_LABEL = re.compile(r"(?:发布|发表|出版|发稿)(?:时间|日期)" + _SEP)
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
        parts = segments(text)
        for i, part in enumerate(parts):
            kind, value = part.kind, part.value
            if kind in found or kind == "time":  # times are read by dated_runs
                continue
            if not value and i + 1 == len(parts) and index + 1 < len(runs):
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
