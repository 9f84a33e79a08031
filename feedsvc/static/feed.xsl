<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an Atom or RSS feed of feedsvc as a readable page in a browser.
     Feed readers ignore it and read the feed itself. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <html lang="zh-CN">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/></title>
        <!-- Beside this stylesheet, wherever the feed says it is (the static
             export keeps both under the export's base URL). -->
        <link rel="stylesheet" href="{concat(substring-before(substring-after(/processing-instruction('xml-stylesheet'), 'href=&quot;'), 'feed.xsl'), 'feed.css')}"/>
      </head>
      <body>
        <xsl:apply-templates select="atom:feed | rss/channel"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:feed">
    <h1><xsl:value-of select="atom:title"/></h1>
    <p class="note">This is a web feed. Copy its address into a feed reader to subscribe:
      <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code></p>
    <xsl:for-each select="atom:entry">
      <article>
        <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
        <div class="meta">
          <xsl:value-of select="atom:category/@term"/>
          <xsl:if test="atom:author"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if>
          · <xsl:value-of select="substring(atom:published, 1, 16)"/>
        </div>
        <p><xsl:value-of select="atom:summary"/></p>
      </article>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="rss/channel">
    <h1><xsl:value-of select="title"/></h1>
    <p class="note">This is a web feed. Copy its address into a feed reader to subscribe:
      <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code></p>
    <xsl:for-each select="item">
      <article>
        <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
        <div class="meta">
          <xsl:value-of select="category"/>
          <xsl:if test="dc:creator"> · <xsl:value-of select="dc:creator"/></xsl:if>
          · <xsl:value-of select="pubDate"/>
        </div>
        <p><xsl:value-of select="description"/></p>
      </article>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
