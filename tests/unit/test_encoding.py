from __future__ import annotations

import codecs

import pytest

from feedsvc.fetch.encoding import decode_document, detect_encoding, normalize_encoding

TEXT = "来源:大众日报 作者:刘一颖 “友城+” 镕"  # 镕 is in GBK but not GB2312


@pytest.mark.parametrize("label", ["gb2312", "GBK", "x-gbk", "GB_2312-80", "gb18030"])
def test_chinese_legacy_labels_decode_as_gb18030(label):
    assert normalize_encoding(label) == "gb18030"


def test_meta_http_equiv_only():
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>{TEXT}</body></html>'
    text, codec = decode_document(page.encode("gbk"))
    assert codec == "gb18030" and TEXT in text


def test_meta_charset_attribute():
    page = f'<meta charset="GBK"><p>{TEXT}</p>'
    assert TEXT in decode_document(page.encode("gbk"))[0]


def test_header_beats_meta():
    page = f'<meta charset="utf-8"><p>{TEXT}</p>'.encode("gbk")
    assert decode_document(page, header_charset="gbk")[0].endswith(f"{TEXT}</p>")


def test_bom_wins():
    page = codecs.BOM_UTF8 + f'<meta charset="gbk"><p>{TEXT}</p>'.encode("utf-8")
    text, codec = decode_document(page, header_charset="gbk")
    assert codec == "utf-8" and not text.startswith("\ufeff") and TEXT in text


def test_valid_utf8_beats_a_wrong_declaration():
    page = f'<meta charset="gb2312"><p>{TEXT}</p>'.encode("utf-8")
    assert detect_encoding(page) == "utf-8"


def test_recipe_override():
    page = f"<p>{TEXT}</p>".encode("big5", errors="replace")
    assert detect_encoding(page, header_charset="utf-8", override="big5") == "big5"


def test_undeclared_gbk_is_detected():
    page = ("<p>" + "山东省医疗保障政策主题宣传活动在济南举行。" * 20 + "</p>").encode("gbk")
    text, _ = decode_document(page)
    assert "医疗保障" in text


def test_broken_bytes_do_not_fail():
    text, _ = decode_document('<meta charset="utf-8"><p>ok'.encode() + b"\xff\xfe\xfa</p>")
    assert "ok" in text and "\ufffd" in text


def test_gbk_page_declared_gb2312_keeps_characters_outside_gb2312():
    page = f'<meta charset="gb2312"><p>{TEXT}</p>'.encode("gbk")
    text, codec = decode_document(page)
    assert codec == "gb18030" and TEXT in text


def test_gb18030_four_byte_characters():
    rare = "𠮷䶮€"  # outside GBK: four-byte GB18030 sequences
    page = f'<meta http-equiv="Content-Type" content="text/html; charset=GB18030"><p>{TEXT}{rare}</p>'.encode("gb18030")
    text, codec = decode_document(page)
    assert codec == "gb18030" and TEXT + rare in text


def test_big5_page():
    words = "臺灣新聞 來源：中央社 記者報導"
    page = f'<html><head><meta charset="big5"></head><body><p>{words}</p></body></html>'.encode("big5")
    text, codec = decode_document(page)
    assert codec == "big5" and words in text


def test_xml_declaration():
    feed = f'<?xml version="1.0" encoding="GBK"?><rss><title>{TEXT}</title></rss>'.encode("gbk")
    assert TEXT in decode_document(feed)[0]


def test_utf8_page_under_a_wrong_gbk_header():
    page = f'<meta charset="gbk"><p>{TEXT}</p>'.encode("utf-8")
    text, codec = decode_document(page, header_charset="GBK")
    assert codec == "utf-8" and TEXT in text
