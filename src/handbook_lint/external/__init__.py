"""External links: checked once per URL, politely, with a cache.

`check_urls` checks a set of absolute http(s) URLs concurrently and politely:

* each distinct URL is requested once per run (fragments are ignored: `page#a` and
  `page#b` cost one request), and a SQLite cache carries results across runs;
* at most `per_host` requests are in flight to one host (host = name + port), with an
  optional minimum delay between request starts; the scheduler only hands a worker a
  URL whose host has a free slot, so a site with many links to one host does not
  starve the others;
* `HEAD` first, `GET` (streamed, body never read) when the server refuses `HEAD`;
  redirects are followed by hand so that every hop is vetted;
* 429/503 with a short `Retry-After` are waited for, 5xx / connection errors /
  timeouts are retried with exponential backoff, and a host that cannot be reached
  at all is not retried for every one of its URLs;
* no request goes to a loopback, private, link-local, unique-local, unspecified or
  multicast address unless `allow_private` is set: the host is resolved and vetted
  before connecting, and the peer address of every new connection is vetted again
  (which also defeats DNS rebinding);
* per-host extra headers (tokens) go to that host only, never to a redirect target,
  never over plain http after an https hop, and never into results or logs;
* when nothing at all could be reached, network-level failures come back as
  "unreachable" rather than "broken", so a linter can tell "offline" from "dead links".

Modules: `scheduler` (`check_urls`, the entry point), `checker` (one URL),
`policy` (which addresses may be requested), `limits` (per host), `headers`
(tokens per host), `failures` (exceptions as failures), `hosts`, `cache`,
`results`, `settings`; `run` is the pass of a lint run, `urls` which links
leave the site."""
