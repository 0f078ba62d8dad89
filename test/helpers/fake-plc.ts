// A PLC-directory-compatible HTTP server for the relay's black-box tests: `GET /<did>`
// answers the DID document of a registered identity, 404 otherwise (what plc.directory
// does). The scenario fixtures name production PDS hosts, so the `#atproto_pds` endpoint is
// whatever the test sets (the fake PDS's address): host authority then holds for the fake
// PDS. `setKey` swaps the signing key, for indigo's wrong-key case.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface PlcIdentity {
  did: string
  handle?: string
  // Multikey (or a legacy type) and its multibase, as in a DID document.
  key: { type: string; publicKeyMultibase: string }
  // The #atproto_pds serviceEndpoint, e.g. http://localhost:PORT.
  pdsEndpoint: string
}

// One `accounts[]` entry of an indigo scenario.
export interface ScenarioAccount {
  identity: {
    did: string
    handle?: string
    alsoKnownAs?: string[]
    keys: { atproto: { type: string; publicKeyMultibase: string } }
  }
  status?: string
}

export function identityFromScenario(account: ScenarioAccount, pdsEndpoint: string): PlcIdentity {
  const id = account.identity
  const out: PlcIdentity = { did: id.did, key: { ...id.keys.atproto }, pdsEndpoint }
  const handle = id.handle ?? id.alsoKnownAs?.find((a) => a.startsWith('at://'))?.slice('at://'.length)
  if (handle !== undefined) out.handle = handle
  return out
}

export function didDocument(identity: PlcIdentity): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/secp256k1-2019/v1'],
    id: identity.did,
    alsoKnownAs: identity.handle === undefined ? [] : [`at://${identity.handle}`],
    verificationMethod: [
      { id: `${identity.did}#atproto`, type: identity.key.type, controller: identity.did, publicKeyMultibase: identity.key.publicKeyMultibase },
    ],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: identity.pdsEndpoint }],
  }
}

export class FakePlc {
  // Every path requested, in order (the relay's identity fetches).
  readonly requests: string[] = []
  private readonly identities = new Map<string, PlcIdentity>()

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakePlc> {
    const server = createServer()
    const plc = new FakePlc(server)
    server.on('request', (req, res) => plc.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return plc
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  // What --plc-host gets.
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  set(...identities: PlcIdentity[]): void {
    for (const id of identities) this.identities.set(id.did, { ...id, key: { ...id.key } })
  }

  get(did: string): PlcIdentity | undefined {
    return this.identities.get(did)
  }

  // The wrong-key variant: the document names another key than the one the commits carry.
  setKey(did: string, key: { type: string; publicKeyMultibase: string }): void {
    const id = this.identities.get(did)
    if (id === undefined) throw new Error(`${did} is not registered`)
    id.key = { ...key }
  }

  remove(did: string): void {
    this.identities.delete(did)
  }

  // How many times the document of `did` was fetched.
  fetches(did: string): number {
    return this.requests.filter((p) => decodeURIComponent(p.slice(1)) === did).length
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    this.requests.push(path)
    const did = decodeURIComponent(path.slice(1))
    const id = req.method === 'GET' ? this.identities.get(did) : undefined
    if (id === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ message: `DID not registered: ${did}` }))
      return
    }
    res.writeHead(200, { 'content-type': 'application/did+ld+json' })
    res.end(JSON.stringify(didDocument(id)))
  }
}
