"""The site model: pages and URLs, what Hugo renders, the index of URLs and
anchors, link resolution."""
