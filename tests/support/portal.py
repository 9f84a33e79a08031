"""A portal-style news site for tests of recipes without selectors: a
channel page and article pages as Chinese portals write them — navigation
and a hot-list sidebar on every page, a labelled source line under each
headline, and related lists in three shapes (a <ul> with an unlabelled
outlet and a date, a <br>-separated `·` list with bracketed dates, a
table), one article in GBK. `PORTAL_EXPECTED` is what a refresh should
store from it."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.sites import PagesSite

NAV = ('<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a> <a href="/sports/">体育</a> '
       '<a href="/finance/">财经</a> <a href="/video/">视频</a> <a href="/about/">关于我们的网站介绍</a></div>')
HOT = ('<div class="sidebar"><h3>热点排行</h3><ul>'
       '<li><a href="/hot/1.html">全省高温天气持续多日引发市民广泛关注</a></li>'
       '<li><a href="/hot/2.html">热门景区五一假期接待游客人数创下新高</a></li>'
       '<li><a href="/hot/3.html">排行榜上的这些美食你都尝过了吗一起看看</a></li>'
       '<li><a href="/hot/4.html">网友热议城市地铁新线开通后的通勤变化</a></li>'
       '</ul></div>')
FOOTER = ('<div class="footer"><a href="/about/contact.html">联系我们获取更多合作信息</a> | '
          '<a href="/about/ads.html">广告服务与商务合作洽谈热线</a> | <a href="/about/law.html">法律声明与版权说明</a>'
          '<p>Copyright 2024 示例门户网 版权所有</p></div>')
AD = '<div class="ad"><a href="https://ads.example.net/click?id=1">限时优惠活动火热进行中点击立即参与抢购</a></div>'

BODY = ("<p>{lead}记者从有关部门获悉，这项工作已经全面展开，各地正在按照统一部署有序推进，取得了阶段性成效。</p>"
        "<p>据介绍，今年以来，相关部门坚持问题导向，聚焦群众关心的热点难点问题，出台了一系列务实管用的政策措施，"
        "推动各项工作落地见效。下一步，还将继续加大工作力度，确保各项任务按期完成。</p>"
        "<p>业内人士表示，这些举措的实施，将进一步激发市场活力，为经济社会高质量发展提供有力支撑。</p>")


@dataclass(frozen=True)
class Related:
    path: str
    title: str
    outlet: str
    date: str  # ISO day


@dataclass(frozen=True)
class Story:
    path: str
    title: str
    outlet: str
    author: str
    time: str  # as the page writes it, Asia/Shanghai
    iso: str  # the same time as stored (UTC offset +08:00)
    related_shape: str  # "ul", "br", "table" or ""
    related: tuple[Related, ...] = ()
    encoding: str = "utf-8"


STORIES = (
    Story("/news/2024/0501/a1.html", "省政府召开常务会议研究部署重点工作", "大众日报", "王小明", "2024-05-01 09:30",
          "2024-05-01T09:30:00+08:00", "ul", (
              Related("/news/2024/0430/r11.html", "全省重点项目建设现场推进会召开", "齐鲁晚报", "2024-04-30"),
              Related("/news/2024/0429/r12.html", "多地出台措施支持实体经济发展", "济南日报", "2024-04-29"),
              Related("/news/2024/0428/r13.html", "一季度全省经济运行情况发布", "大众日报", "2024-04-28"),
          )),
    Story("/news/2024/0501/a2.html", "黄河流域生态保护工作取得新进展", "齐鲁晚报", "李红", "2024年05月01日 10:15",
          "2024-05-01T10:15:00+08:00", "br", (
              Related("/news/2024/0427/r21.html", "黄河三角洲湿地迎来候鸟迁徙高峰", "中国山东网", "2024-04-27"),
              Related("/news/2024/0426/r22.html", "沿黄地区推进生态廊道建设工程", "大众网", "2024-04-26"),
              Related("/news/2024/0425/r23.html", "黄河流域水质持续保持稳定向好", "齐鲁晚报", "2024-04-25"),
          )),
    Story("/news/2024/0501/a3.html", "青岛港一季度集装箱吞吐量同比增长", "胶东在线", "赵强", "2024-05-01 11:00",
          "2024-05-01T11:00:00+08:00", "table", (
              Related("/news/2024/0424/r31.html", "港口航运业复苏势头明显加快", "青岛日报", "2024-04-24"),
              Related("/news/2024/0423/r32.html", "新开通多条国际集装箱航线", "胶东在线", "2024-04-23"),
              Related("/news/2024/0422/r33.html", "自贸试验区改革创新成果丰硕", "大众日报", "2024-04-22"),
          ), encoding="gbk"),
    Story("/news/2024/0501/a4.html", "烟台苹果产业数字化转型步伐加快", "鲁网", "孙丽", "2024-05-01 12:20",
          "2024-05-01T12:20:00+08:00", ""),
)


def _related_ul(items: tuple[Related, ...]) -> str:
    rows = "".join(f'<li><a href="{r.path}">{r.title}</a><span class="src">{r.outlet}</span>'
                   f'<span class="time">{r.date}</span></li>' for r in items)
    return f'<div class="xgxw"><h3>相关新闻</h3><ul>{rows}</ul></div>'


def _related_br(items: tuple[Related, ...]) -> str:
    rows = "<br>".join(f'· <a href="{r.path}">{r.title}</a> {r.outlet} [{r.date}]' for r in items)
    return f'<div class="box"><div class="hd">相关阅读</div><div class="bd">{rows}</div></div>'


def _related_table(items: tuple[Related, ...]) -> str:
    rows = "".join(f'<tr><td><a href="{r.path}">{r.title}</a></td><td>{r.outlet}</td><td>{r.date}</td></tr>'
                   for r in items)
    return f'<table class="rel"><tr><th colspan="3">相关报道</th></tr>{rows}</table>'


_SHAPES = {"ul": _related_ul, "br": _related_br, "table": _related_table}


def article_html(story: Story) -> str:
    related = _SHAPES[story.related_shape](story.related) if story.related_shape else ""
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="{story.encoding}">'
            f'<title>{story.title}_新闻频道_示例门户网</title></head><body>{NAV}'
            f'<div class="crumb"><a href="/">首页</a> &gt; <a href="/news/">新闻</a> &gt; 正文</div>'
            f'<div class="wrap"><div class="main"><h1>{story.title}</h1>'
            f'<div class="info">来源：{story.outlet}　作者：{story.author}　{story.time}</div>'
            f'<div class="content">{BODY.format(lead=story.title + "。")}</div>'
            f'<div class="editor">责任编辑：周静</div>{related}</div>{HOT}{AD}</div>{FOOTER}</body></html>')


def channel_html() -> str:
    rows = "".join(f'<li><a href="{s.path}">{s.title}</a><span class="date">{s.iso[:10]}</span></li>'
                   for s in STORIES)
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>新闻频道_示例门户网</title></head>'
            f'<body>{NAV}<div class="wrap"><div class="main"><h2>新闻</h2><ul class="list">{rows}</ul>'
            f'<div class="pages"><a href="/news/index_2.html">下一页</a></div></div>{HOT}{AD}</div>{FOOTER}'
            '</body></html>')


def pages() -> dict[str, tuple[bytes, str]]:
    """Path → (body, Content-Type) of every page of the site."""
    out = {"/news/": (channel_html().encode("utf-8"), "text/html; charset=utf-8")}
    for story in STORIES:
        # The GBK page says so only in its <meta>, as old portals do.
        content_type = "text/html" if story.encoding != "utf-8" else "text/html; charset=utf-8"
        out[story.path] = (article_html(story).encode(story.encoding), content_type)
    return out


SIDEBAR_PATHS = ("/hot/1.html", "/hot/2.html", "/hot/3.html", "/hot/4.html")


class PortalServer(PagesSite):
    """Serves `pages()` on loopback with ETags (304 to a matching
    If-None-Match); every request is logged as (path, If-None-Match)."""

    def __init__(self):
        super().__init__({path: (content_type, body) for path, (body, content_type) in pages().items()}, etags=True)


def auto_recipe(source_id: str, start_url: str, extra: str = "") -> str:
    return f'id = "{source_id}"\nname = "Portal {source_id}"\nkind = "auto"\nstart_urls = ["{start_url}"]\n{extra}\n'
