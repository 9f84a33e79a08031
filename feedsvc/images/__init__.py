"""The image proxy: signed URLs for the images in item bodies
(`tokens`, `rewrite`), and the process that fetches, checks and caches
them (`proxy`, `cache`, `sniff`)."""
