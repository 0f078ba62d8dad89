// com.atproto.sync.subscribeRepos without a WebSocket upgrade. Upgrades never reach the
// router (the transport turns them into consumer connections); a plain GET gets the event
// stream spec's answer for a missing Upgrade header: 426.
import { xrpcError } from '../http/xrpc.js'
import type { Route } from '../http/router.js'

export const subscribeRepos: Route = {
  method: 'GET',
  paths: ['/xrpc/com.atproto.sync.subscribeRepos'],
  handle: () => xrpcError(426, 'UpgradeRequired', 'subscribeRepos is a WebSocket endpoint', { upgrade: 'websocket' }),
}
