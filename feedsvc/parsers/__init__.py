"""Pure parsers: bytes in, dataclasses out. No Flask, no store, no network,
so every parser can be tested over a folder of saved pages."""

from feedsvc.parsers.article import parse_article
from feedsvc.parsers.feed import parse_feed
from feedsvc.parsers.listing import parse_listing

__all__ = ["parse_article", "parse_feed", "parse_listing"]
