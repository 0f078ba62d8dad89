// Banned domains: a host is refused when its name or any parent domain is listed
// (`ban example.com` covers `pds.example.com`), as indigo matches every suffix. The list is
// small and checked on each requestCrawl and new host, so it lives in memory as well.
import type { Database, Statement } from 'better-sqlite3'

export interface DomainBan {
  id: number
  domain: string
  createdAt: number
}

interface BanRow {
  id: number
  domain: string
  created_at: number
}

export class DomainBanStore {
  private readonly domains = new Set<string>()
  private readonly insert: Statement<[string, number]>
  private readonly del: Statement<[string]>
  private readonly all: Statement<[], BanRow>

  constructor(
    db: Database,
    private readonly now: () => number,
  ) {
    this.insert = db.prepare('INSERT INTO domain_bans (domain, created_at) VALUES (?, ?) ON CONFLICT (domain) DO NOTHING')
    this.del = db.prepare('DELETE FROM domain_bans WHERE domain = ?')
    this.all = db.prepare('SELECT * FROM domain_bans ORDER BY id')
    for (const r of this.all.all()) this.domains.add(r.domain)
  }

  // Returns false when the domain was already banned.
  add(domain: string): boolean {
    const d = domain.toLowerCase()
    const added = this.insert.run(d, this.now()).changes === 1
    this.domains.add(d)
    return added
  }

  remove(domain: string): boolean {
    const d = domain.toLowerCase()
    this.domains.delete(d)
    return this.del.run(d).changes === 1
  }

  list(): DomainBan[] {
    return this.all.all().map((r) => ({ id: r.id, domain: r.domain, createdAt: r.created_at }))
  }

  // `hostname` as stored in hosts (a `localhost:PORT` name only matches a ban on itself).
  isBanned(hostname: string): boolean {
    let name = hostname.toLowerCase()
    for (;;) {
      if (this.domains.has(name)) return true
      const dot = name.indexOf('.')
      if (dot < 0) return false
      name = name.slice(dot + 1)
    }
  }
}
