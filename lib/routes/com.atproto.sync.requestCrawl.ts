// POST com.atproto.sync.requestCrawl {"hostname": "..."}: a PDS asks the relay to subscribe to
// it (no auth). Public hostnames over TLS only, at most --new-hosts-per-day-limit new hosts a
// day, describeServer must answer, and relays are refused (lib/relay/crawl.ts).
import type { Route } from '../http/router.js'
import { crawlResponse } from '../relay/crawl.js'
import type { Crawler } from '../relay/crawl.js'

export function requestCrawl(ctx: { crawler: Crawler; observe?: (result: string) => void }): Route {
  return {
    method: 'POST',
    paths: ['/xrpc/com.atproto.sync.requestCrawl'],
    handle: (req) => crawlResponse(ctx.crawler, req, false, ctx.observe),
  }
}
