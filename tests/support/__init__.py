"""What tests share, imported as `tests.support.<module>`:

- `paths`: where the repository, the schemas and the page corpora are;
- `checks`: feedparser strict, jing, the W3C validator's warnings, Prometheus text, property-test sizes;
- `stores`: PostgreSQL databases, test apps and refreshers over real stores;
- `sites`: the loopback HTTP servers and the pages and recipes they serve;
  `portal`, `datesite`, `hostilesite`: the content of three such sites;
  `faultserver`: a raw-socket server that breaks HTTP on purpose;
- `processes`: feedsvc run as real processes (`probe.py` is one);
- `browser`: headless Chromium.
"""
