// A strict reader of the Prometheus text format (0.0.4), enough to prove /metrics is valid:
// every sample belongs to a family with HELP and TYPE, names and labels are well formed,
// values are numbers.
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  help: string
  type: string
  samples: Sample[]
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/
const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const familyOf = (sample: string): Family => {
    for (const suffix of ['', '_total', '_bucket', '_sum', '_count', '_created']) {
      if (suffix !== '' && !sample.endsWith(suffix)) continue
      const f = families.get(sample.slice(0, sample.length - suffix.length))
      if (f !== undefined) return f
    }
    throw new Error(`sample ${sample} has no HELP/TYPE`)
  }
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta !== null) {
      if (!nameRe.test(meta[2])) throw new Error(`bad metric name: ${line}`)
      const f = families.get(meta[2]) ?? { help: '', type: '', samples: [] }
      if (meta[1] === 'HELP') f.help = meta[3]
      else if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3])) throw new Error(`bad type: ${line}`)
      else f.type = meta[3]
      families.set(meta[2], f)
      continue
    }
    if (line.startsWith('#')) continue
    const m = sampleRe.exec(line)
    if (m === null) throw new Error(`bad sample line: ${line}`)
    const labels: Record<string, string> = {}
    if (m[3] !== undefined && m[3] !== '') {
      labelRe.lastIndex = 0
      let consumed = 0
      for (let l = labelRe.exec(m[3]); l !== null; l = labelRe.exec(m[3])) {
        labels[l[1]] = l[2]
        consumed = labelRe.lastIndex
      }
      if (consumed !== m[3].length) throw new Error(`bad labels: ${line}`)
    }
    // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client
    // writes "Nan" for an event-loop histogram with no samples yet).
    const special = /^([+-]?)(inf|nan)$/i.exec(m[4])
    const value = special === null ? Number(m[4]) : special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity
    if (Number.isNaN(value) && special === null) throw new Error(`bad value: ${line}`)
    familyOf(m[1]).samples.push({ name: m[1], labels, value })
  }
  for (const [name, f] of families) if (f.type === '') throw new Error(`${name} has no TYPE`)
  return families
}

// The value of one sample, by name and (a subset of) labels.
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value
    }
  }
  return undefined
}
