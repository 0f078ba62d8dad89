// The native event log (native/log/event_log.h) seen from TypeScript: open it, inspect it,
// configure retention and group commit, take accounts down, run maintenance on a timer.
// Appending and reading are here for tests, tools and benchmarks; in the relay the hot path
// stays native (the log thread appends, the fan-out reads), and frame bytes cross into JS only
// in batches (one Buffer per call).
import { loadNative } from '../native.js'

export interface EventLogOptions {
  dataDir: string
  initialSeq?: number
  segmentMaxBytes?: number
  segmentMaxRecords?: number
  syncIntervalMs?: number
  syncBytes?: number
  leaseBlock?: number
  replayWindowMs?: number
  maxDiskBytes?: number
  bootId?: string // tests only: pretend to be another kernel boot
}

export interface RecoveryReport {
  segments: number
  lastSeq: number
  nextSeq: number
  tornBytesCut: number
  tornRecordsCut: number
  damagedRecords: number
  corruptBytes: number
  indexRebuilds: number
  badSegments: number
  removedEmpty: number
  leaseFound: boolean
  sameBoot: boolean
  cleanShutdown: boolean
  leaseEndFound: number
}

export interface EventLogStats {
  recordsAppended: number
  bytesAppended: number
  batchesAppended: number
  appendErrors: number
  fsyncs: number
  fsyncSecondsTotal: number
  fsyncSecondsMax: number
  leaseRenewals: number
  segments: number
  bytesOnDisk: number
  oldestSeq: number
  oldestTimeMs: number
  writtenSeq: number
  durableSeq: number
  nextSeq: number
  tornTailTruncations: number
  tornBytesCut: number
  segmentsDeleted: number
  bytesDeleted: number
  takedowns: number
  takedownRecordsScrubbed: number
  takedownFramesSkipped: number
  damagedFramesSkipped: number
  replayFrames: number
  replayBytes: number
  failed: boolean
}

export interface LogResult {
  ok: boolean
  reason?: string
  errno?: number
}

export interface AppendResult extends LogResult {
  firstSeq: number
  lastSeq: number
}

export interface MaintenanceResult extends LogResult {
  segmentsDeleted: number
  bytesDeleted: number
  segmentsScrubbed: number
  recordsScrubbed: number
}

export interface ReplayFrame {
  seq: number
  timeMs: number
  bytes: Buffer // a view into the batch's one Buffer (no copy)
}

export interface ReadResult extends LogResult {
  state: 'frames' | 'at_head' | 'error'
  gap: boolean // retention deleted frames this read would have returned
  position: number // pass as afterSeq to continue
  frames: ReplayFrame[]
}

interface NativeReadResult extends LogResult {
  state: 'frames' | 'at_head' | 'error'
  gap: boolean
  position: number
  data: Buffer
  seqs: Float64Array
  times: Float64Array
  offsets: Uint32Array
  sizes: Uint32Array
}

interface NativeEventLogCore {
  open(options: EventLogOptions): LogResult & { recovery?: RecoveryReport }
  close(): LogResult
  append(frames: Buffer, lengths: Uint32Array, dids: string[], timeMs: number, firstSeq?: number): AppendResult
  read(afterSeq: number, maxBytes?: number): NativeReadResult
  sync(): LogResult
  syncIfDue(): LogResult
  nextSeq(): number
  writtenSeq(): number
  durableSeq(): number
  oldest(): { seq: number; timeMs: number }
  checkCursor(cursor: number): CursorCheck
  takedown(did: string): LogResult & { changed: boolean }
  reverseTakedown(did: string): LogResult & { changed: boolean }
  isTakenDown(did: string): boolean
  takedowns(): string[]
  configure(options: { replayWindowMs?: number; maxDiskBytes?: number; syncIntervalMs?: number; syncBytes?: number }): LogResult
  stats(): EventLogStats
  recovery(): RecoveryReport | null
  maintain(nowMs?: number): Promise<MaintenanceResult>
}

// ?cursor=N (protocol.md §1.6): replay frames > N, or first #info OutdatedCursor (frames after
// N were deleted), or FutureCursor (N is above the newest seq).
export type CursorCheck = 'replay' | 'outdated' | 'future'

export class EventLogError extends Error {
  override name = 'EventLogError'
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message)
  }
}

export class EventLog {
  readonly recovery: RecoveryReport
  private maintenanceTimer: NodeJS.Timeout | undefined
  private maintenanceRunning = false

  private constructor(
    private readonly core: NativeEventLogCore,
    recovery: RecoveryReport,
  ) {
    this.recovery = recovery
  }

  // Opens (creating) <dataDir>/events and recovers it. Throws EventLogError: a relay without
  // its log cannot start.
  static open(options: EventLogOptions): EventLog {
    const Core = loadNative().EventLogCore as new () => NativeEventLogCore
    const core = new Core()
    const r = core.open(options)
    if (!r.ok || r.recovery === undefined) {
      throw new EventLogError(`cannot open the event log in ${options.dataDir}/events: ${r.reason}`, r.reason ?? 'unknown')
    }
    return new EventLog(core, r.recovery)
  }

  // The native object, for Transport.setReplayLog (consumer replay from this log).
  get nativeHandle(): object {
    return this.core
  }

  nextSeq(): number {
    return this.core.nextSeq()
  }
  writtenSeq(): number {
    return this.core.writtenSeq()
  }
  durableSeq(): number {
    return this.core.durableSeq()
  }
  oldest(): { seq: number; timeMs: number } {
    return this.core.oldest()
  }
  checkCursor(cursor: number): CursorCheck {
    return this.core.checkCursor(cursor)
  }

  // Appends frames (final wire bytes, seq already in them) as seqs firstSeq, firstSeq + 1, …
  // (default: nextSeq()). The calling thread is the log's writer: not for use next to a
  // native log thread.
  append(frames: Buffer[], dids: string[], timeMs: number = Date.now(), firstSeq?: number): AppendResult {
    const lengths = Uint32Array.from(frames, (f) => f.length)
    return this.core.append(Buffer.concat(frames), lengths, dids, timeMs, firstSeq)
  }

  // Frames with seq > afterSeq, up to about maxBytes, never past the written watermark.
  read(afterSeq: number, maxBytes?: number): ReadResult {
    const r = this.core.read(afterSeq, maxBytes)
    const frames: ReplayFrame[] = []
    for (let i = 0; i < r.seqs.length; i++) {
      frames.push({ seq: r.seqs[i], timeMs: r.times[i], bytes: r.data.subarray(r.offsets[i], r.offsets[i] + r.sizes[i]) })
    }
    const out: ReadResult = { ok: r.ok, state: r.state, gap: r.gap, position: r.position, frames }
    if (r.reason !== undefined) out.reason = r.reason
    return out
  }

  sync(): LogResult {
    return this.core.sync()
  }
  syncIfDue(): LogResult {
    return this.core.syncIfDue()
  }

  takedown(did: string): LogResult & { changed: boolean } {
    return this.core.takedown(did)
  }
  reverseTakedown(did: string): LogResult & { changed: boolean } {
    return this.core.reverseTakedown(did)
  }
  isTakenDown(did: string): boolean {
    return this.core.isTakenDown(did)
  }
  takedowns(): string[] {
    return this.core.takedowns()
  }

  configure(options: { replayWindowMs?: number; maxDiskBytes?: number; syncIntervalMs?: number; syncBytes?: number }): LogResult {
    return this.core.configure(options)
  }

  stats(): EventLogStats {
    return this.core.stats()
  }

  // Retention and takedown scrubbing, on the libuv pool. nowMs is for tests.
  maintain(nowMs?: number): Promise<MaintenanceResult> {
    return this.core.maintain(nowMs)
  }

  // Runs maintain() every intervalMs (one run at a time) until close(); results go to onResult.
  startMaintenance(intervalMs: number, onResult?: (r: MaintenanceResult) => void): void {
    this.stopMaintenance()
    this.maintenanceTimer = setInterval(() => {
      if (this.maintenanceRunning) return
      this.maintenanceRunning = true
      this.maintain()
        .then((r) => onResult?.(r))
        .finally(() => {
          this.maintenanceRunning = false
        })
    }, intervalMs)
    this.maintenanceTimer.unref()
  }

  stopMaintenance(): void {
    if (this.maintenanceTimer !== undefined) clearInterval(this.maintenanceTimer)
    this.maintenanceTimer = undefined
  }

  // fdatasync, record a clean lease (the next start continues without a gap), release the lock.
  close(): LogResult {
    this.stopMaintenance()
    return this.core.close()
  }
}
